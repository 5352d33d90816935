// Graceful reload = re-exec in place (uWSGI uwsgi_reload): same pid, the
// listening sockets and the running workers inherited (generations.ts),
// UWSGI_RELOADS incremented, back in the original cwd. Called after the
// atexit hooks ran.
// From execve until the new image's JS listens, HUP/TERM/INT/QUIT would
// kill the master (Node resets inherited dispositions): they are blocked
// here and liege-early.so, preloaded into the new image, catches them
// (pending ones included); the new master queues what it caught.
import * as fs from 'node:fs';
import { carriedSignals } from '../os/early-signals';
import { signalNumbers } from '../os/signals';
import { EARLY_SIGNALS_LIB, native } from '../os/native';
import { handOverHeard } from './generations';
import { keepConsoleAcrossExec } from './logfile';
import { heardSignals } from './worker-signals';
import { keepNotifyAcrossExec } from '../os/notify';
import { keepLoggersAcrossExec } from './loggers/open';

export function reexec(reloads: number, startCwd: string): never {
  process.env.UWSGI_RELOADS = String(reloads + 1);
  keepConsoleAcrossExec();
  keepNotifyAcrossExec(); // the socket connected as root: the new image may be dropped
  keepLoggersAcrossExec();
  try { process.chdir(startCwd); } catch { /* chrooted: stay */ }
  const S = signalNumbers();
  const CAUGHT = [S.SIGHUP!, S.SIGTERM!, S.SIGINT!, S.SIGQUIT!, S.SIGUSR2!];
  if (fs.existsSync(EARLY_SIGNALS_LIB)) {
    process.env.LD_PRELOAD = [EARLY_SIGNALS_LIB, process.env.LD_PRELOAD].filter(Boolean).join(' ');
    native.blockSignals(CAUGHT, true);
    handOverHeard(heardSignals()); // (from now on, liege-early.so hears them)
    // what this image received after it decided to re-exec: pending on the
    // blocked main thread, it survives the execve (liege-early.so takes it)
    for (const signal of carriedSignals()) native.raiseSignal(S[signal]!);
  }
  try {
    return native.execv(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  } finally {
    native.blockSignals(CAUGHT, false);
  }
}
