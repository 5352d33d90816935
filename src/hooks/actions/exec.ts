// exec / safeexec: `<binsh> -c <command>` with the process's env and cwd,
// waited for synchronously (native vfork+exec, PDEATHSIG=KILL).
import { native } from '../../os/native';
import { defineAction, needArg, type HookContext } from './types';

/** Exit status of the command; a command killed by a signal has failed (DEPARTURES D5). */
export function runShell(cmd: string, ctx: HookContext): number {
  const [code, signal] = native.spawnWait(ctx.binsh, [ctx.binsh, '-c', cmd]);
  return signal ? 128 + signal : code;
}

export const execActions = [
  defineAction({
    name: 'exec',
    parse: (a) => needArg(a, 'a shell command'),
    run: (cmd, ctx) => runShell(cmd, ctx),
    doc: 'run a shell command (`binsh -c`); fails when it exits non-zero or is killed by a signal',
    example: 'hook-as-root = exec:mkdir -p /run/app && chown www-data /run/app',
  }),
  defineAction({
    name: 'safeexec',
    parse: (a) => needArg(a, 'a shell command'),
    run: (cmd, ctx) => (runShell(cmd, ctx), 0),
    doc: 'like exec, but never fails',
    example: 'hook-pre-app = safeexec:rm -f /tmp/app.stale',
  }),
];
