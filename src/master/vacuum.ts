// vacuum: remove this instance's socket files, pidfiles and master fifos on
// exit (not on a reload), as uWSGI's vacuum does. Only what is still ours:
// a socket file that is a socket, a pidfile that names us, a fifo that is
// the one we read (same inode) and that no other process holds open (a
// second instance given the same path reads it too). The master runs as
// the user it dropped to, so a file in a directory only root may write
// cannot go: said, with the reason and the way out, instead of left behind
// in silence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { log } from '../log';
import { openedFifos, type OpenedFifo } from './control/fifo';
import { PIDFILES } from './pidfile';
import { pidsWithFd } from './socket-holders';
import type { BoundSocket } from './sockets';

export function vacuum(cfg: Config, sockets: BoundSocket[]): void {
  for (const s of sockets) if (s.unixPath) remove(s.unixPath, () => fs.lstatSync(s.unixPath!).isSocket());
  for (const key of PIDFILES) {
    const f = cfg.str(key);
    // only our own pidfile: another instance may have taken the path over
    if (f) remove(f, () => fs.readFileSync(f, 'utf8').trim() === String(process.pid));
  }
  vacuumFifos(openedFifos());
}

/** Remove these master fifos if each is still the one we read and no
 * other process holds it open (at exit, or a reload that dropped it). */
export function vacuumFifos(fifos: OpenedFifo[]): void {
  for (const f of fifos) remove(f.path, () => ourFifo(f));
}

function ourFifo(f: OpenedFifo): boolean {
  const st = fs.lstatSync(f.path);
  if (!st.isFIFO() || st.dev !== f.dev || st.ino !== f.ino) return false;
  const others = pidsWithFd((target) => target === f.path);
  if (others.length) log('master').info({ fifo: f.path, pids: others }, 'vacuum: the master fifo is left: other processes hold it open');
  return others.length === 0;
}

function remove(file: string, ours: () => boolean): void {
  try {
    if (ours()) fs.unlinkSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (code === 'ENOENT') return;
    const uid = process.getuid?.();
    const why = (code === 'EACCES' || code === 'EPERM') && uid !== 0
      ? ` (the master runs as uid ${uid} since the privilege drop: give it ${path.dirname(file)}, e.g. a /run/NAME directory it owns)`
      : '';
    log('master').error({ code: 'LIEGE_ERR_SYSCALL', errno: code }, `vacuum: unable to remove ${file}: ${code}${why}`);
  }
}
