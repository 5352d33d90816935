import * as fs from 'node:fs';

/** Write the master pid (pidfile before the drop, pidfile2 after); `safe`:
 * to a temp file renamed over it, so a reader never sees a partial file. */
export function writePidfile(file: string | undefined, safe = false): void {
  if (!file) return;
  if (!safe) {
    fs.writeFileSync(file, `${process.pid}\n`);
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  fs.renameSync(tmp, file);
}
