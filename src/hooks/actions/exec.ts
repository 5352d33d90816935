// exec / safeexec: `<binsh> -c <command>` with the process's env and cwd,
// PDEATHSIG=KILL (native vfork + execve). In a startup phase it is waited
// for in this thread (fast); in a running loop it is awaited.
import { native } from '../../os/native';
import { spawnAwait } from '../../os/spawn';
import { withHookOutput } from '../output';
import { defineAction, needArg, type HookContext, type HookRun } from './types';

/** A command killed by a signal has failed (DEPARTURES D5). */
const status = ([code, signal]: [number, number]) => (signal ? 128 + signal : code);

const withEnv = (extra: Record<string, string> | undefined) => (extra ? { ...process.env, ...extra } : undefined);

/** Exit status of the command, blocking the thread until it ends. */
function runShell(cmd: string, ctx: HookContext, extraEnv: Record<string, string> | undefined, out: number | undefined): number {
  const env = withEnv(extraEnv);
  const envp = env ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : null;
  return status(native.spawnWait(ctx.binsh, [ctx.binsh, '-c', cmd], envp, out));
}

/** The command's exit status, on the loop; or the blocking path at startup. */
function shell(cmd: string, ctx: HookContext, how: HookRun): number | Promise<number> {
  return withHookOutput((out) => {
    if (how.blocking) return runShell(cmd, ctx, how.env, out);
    return spawnAwait(ctx.binsh, [ctx.binsh, '-c', cmd], withEnv(how.env), out).then(status);
  });
}

export const execActions = [
  defineAction({
    name: 'exec',
    parse: (a) => needArg(a, 'a shell command'),
    run: shell,
    doc: 'run a shell command (`binsh -c`); fails when it exits non-zero or is killed by a signal',
    example: 'hook-as-root = exec:mkdir -p /run/app && chown www-data /run/app',
  }),
  defineAction({
    name: 'safeexec',
    parse: (a) => needArg(a, 'a shell command'),
    run: (cmd: string, ctx, how) => {
      try {
        const rc = shell(cmd, ctx, how);
        return typeof rc === 'number' ? 0 : rc.then(() => 0, () => 0);
      } catch {
        return 0;
      }
    },
    doc: 'like exec, but never fails',
    example: 'hook-pre-app = safeexec:rm -f /tmp/app.stale',
  }),
];
