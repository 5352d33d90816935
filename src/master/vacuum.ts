// vacuum: remove this instance's socket files and pidfiles on exit (not on
// a reload). The master runs as the user it dropped to, so a file in a
// directory only root may write cannot go: said, with the reason and the
// way out, instead of left behind in silence.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { log } from '../log';
import { PIDFILES } from './pidfile';
import type { BoundSocket } from './sockets';

export function vacuum(cfg: Config, sockets: BoundSocket[]): void {
  for (const s of sockets) if (s.unixPath) remove(s.unixPath, () => fs.lstatSync(s.unixPath!).isSocket());
  for (const key of PIDFILES) {
    const f = cfg.str(key);
    // only our own pidfile: another instance may have taken the path over
    if (f) remove(f, () => fs.readFileSync(f, 'utf8').trim() === String(process.pid));
  }
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
