import * as fs from 'node:fs';

/** Write the master pid (pidfile before the drop, pidfile2 after). */
export function writePidfile(file: string | undefined): void {
  if (file) fs.writeFileSync(file, `${process.pid}\n`);
}
