// The control side (stats and metrics servers, master fifos) is made by the
// running master, after the privilege drop (as uWSGI's stats server): what
// root could, the dropped user may not. Said with the way out.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The master's uid once it dropped root; undefined as root. */
function droppedUid(): number | undefined {
  const uid = process.getuid?.();
  return uid === 0 ? undefined : uid;
}

const isUnixPath = (addr: string) => !/:\d+$/.test(addr) && !addr.startsWith('@');

/** '' unless `code` is EACCES in a master that dropped root: then why, and what to do. */
export function afterDrop(code: string, addr: string, verb = 'binds'): string {
  const uid = droppedUid();
  if (code !== 'EACCES' || uid === undefined) return '';
  const tcp = /:\d+$/.test(addr) && !addr.startsWith('@');
  let where = 'a port from 1024 up';
  if (!tcp) where = `give it ${path.dirname(path.resolve(addr))}, e.g. a /run/NAME directory it owns`;
  return ` (the master ${verb} it after the privilege drop, as uid ${uid}: ${where})`;
}

/** '' unless the socket file at `addr` (EADDRINUSE) is another user's: the
 * dropped master could not connect to it to see whether it is stale (a
 * file left by a run as root), nor remove it. */
export function othersSocket(code: string, addr: string): string {
  const uid = droppedUid();
  if (code !== 'EADDRINUSE' || uid === undefined || !isUnixPath(addr)) return '';
  try {
    const st = fs.lstatSync(addr);
    if (!st.isSocket() || st.uid === uid) return '';
    return ` (the socket file there is uid ${st.uid}'s: the master, as uid ${uid} since the privilege drop, may not connect to it to see whether it is stale (a file left by a run as root?): remove it if no instance listens there)`;
  } catch {
    return '';
  }
}

/** '' unless the file at `file` (EACCES on open) is another user's: the
 * dropped master may not open it (a fifo left by a run as root). */
export function othersFile(code: string | undefined, file: string): string {
  const uid = droppedUid();
  if (code !== 'EACCES' || uid === undefined) return '';
  try {
    const st = fs.statSync(file);
    if (st.uid === uid) return '';
    return ` (it is uid ${st.uid}'s, mode ${(st.mode & 0o777).toString(8)}: the master opens it after the privilege drop, as uid ${uid}; remove it, liege makes it again, or give it to that user)`;
  } catch {
    return '';
  }
}
