// The control side (stats and metrics servers, master fifos) is made by the
// running master, after the privilege drop (as uWSGI's stats server): what
// root could, the dropped user may not. Said with the way out.
import * as path from 'node:path';

/** '' unless `code` is EACCES in a master that dropped root: then why, and what to do. */
export function afterDrop(code: string, addr: string, verb = 'binds'): string {
  const uid = process.getuid?.();
  if (code !== 'EACCES' || uid === undefined || uid === 0) return '';
  const where = /:\d+$/.test(addr) && !addr.startsWith('@') ? 'a port from 1024 up' : `give it ${path.dirname(path.resolve(addr))}, e.g. a /run/NAME directory it owns`;
  return ` (the master ${verb} it after the privilege drop, as uid ${uid}: ${where})`;
}
