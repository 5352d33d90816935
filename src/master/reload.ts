// Graceful reload = re-exec in place (uWSGI uwsgi_reload): same pid, the
// listening sockets inherited, UWSGI_RELOADS incremented, back in the
// original cwd. Called after the atexit hooks ran.
import { native } from '../os/native';

export function reexec(reloads: number, startCwd: string): never {
  process.env.UWSGI_RELOADS = String(reloads + 1);
  try { process.chdir(startCwd); } catch { /* chrooted: stay */ }
  return native.execv(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
}
