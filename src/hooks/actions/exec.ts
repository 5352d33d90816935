// exec / safeexec: `<binsh> -c <command>` with the process's env and cwd,
// PDEATHSIG=KILL (native vfork + execve). In a startup phase it is waited
// for in this thread (fast); in a running loop it is awaited.
import { log } from '../../log';
import { native } from '../../os/native';
import { signalName, signalNumbers } from '../../os/signals';
import { spawnAwait } from '../../os/spawn';
import { whileBlocked } from '../../os/watchdog';
import { phaseByName } from '../../phases';
import { withHookOutput } from '../output';
import { defineAction, ExitRequest, needArg, type HookContext, type HookRun } from './types';

/** A command killed by a signal has failed (DEPARTURES D5). */
const status = ([code, signal]: [number, number]) => (signal ? 128 + signal : code);

/** Its exit status, blocking the thread until it ends. In a startup phase
 * of the master a stop signal that came meanwhile (the loop could not hear
 * it: a hung hook held off a `systemctl stop` until its SIGKILL) was passed
 * on to it: the instance stops, as a stop asked right after the phases
 * would (exit 0). An atexit hook is the stop's own cleanup: it runs to its
 * end; a worker's SIGTERM is its drain, taken after its hook as before. */
export function waitFor(file: string, argv: string[], envp: string[] | null, phase: string, out?: number): number {
  const passStop = phase !== 'as-user-atexit' && phaseByName(phase)?.process.startsWith('master') === true;
  const dog = whileBlocked(); // (systemd's watchdog, armed: pinged while the program runs)
  const [code, signal, stop] = native.spawnWait(file, argv, envp, passStop, out, dog?.everyMs, dog?.ping);
  if (!stop) return status([code, signal]);
  const name = signalName(stop) ?? String(stop);
  log('hooks').warn({ signal: name, status: status([code, signal]) }, `${name} during a startup hook: the hook was sent ${stop === signalNumbers().SIGQUIT ? 'SIGKILL' : 'SIGTERM'}, the instance stops`);
  throw new ExitRequest(0);
}

const withEnv = (extra: Record<string, string> | undefined) => (extra ? { ...process.env, ...extra } : undefined);

/** Exit status of the command, blocking the thread until it ends. */
function runShell(cmd: string, ctx: HookContext, how: HookRun, out: number | undefined): number {
  const env = withEnv(how.env);
  const envp = env ? Object.entries(env).map(([k, v]) => `${k}=${v}`) : null;
  return waitFor(ctx.binsh, [ctx.binsh, '-c', cmd], envp, how.phase, out);
}

/** The command's exit status, on the loop; or the blocking path at startup. */
function shell(cmd: string, ctx: HookContext, how: HookRun): number | Promise<number> {
  return withHookOutput((out) => {
    if (how.blocking) return runShell(cmd, ctx, how, out);
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
      } catch (e) {
        if (e instanceof ExitRequest) throw e; // (a stop during it)
        return 0;
      }
    },
    doc: 'like exec, but never fails',
    example: 'hook-pre-app = safeexec:rm -f /tmp/app.stale',
  }),
];
