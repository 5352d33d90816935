import * as fs from 'node:fs';
import type { Setting } from '../config/config';
import { LiegeError } from '../errors';

/** Every pidfile option: written at start (and by fifo `P`), removed by vacuum. */
export const PIDFILES = ['pidfile', 'pidfile2', 'safe-pidfile', 'safe-pidfile2'] as const;

/** Write the master pid (pidfile before the drop, pidfile2 after); `safe`:
 * to a temp file renamed over it, so a reader never sees a partial file.
 * A path that cannot be written is the option's error (file:line). */
export function writePidfile(setting: Setting | undefined, safe = false): void {
  if (!setting) return;
  const file = setting.value;
  if (!replaced.has(file)) replaced.set(file, contentOf(file));
  try {
    write(file, safe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to write the pidfile ${file}: ${code}`, { origin: setting.origin, text: file, expected: 'a writable path', cause: e });
  }
}

function write(file: string, safe: boolean): void {
  if (!safe) {
    fs.writeFileSync(file, `${process.pid}\n`);
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  fs.renameSync(tmp, file);
}

// What each pidfile held before this process first wrote it (undefined: none)
const replaced = new Map<string, string | undefined>();

function contentOf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Puts back what the pidfiles held before this process wrote them (none:
 * removed), each only while it still holds this process's pid. */
export function restorePidfiles(): void {
  for (const [file, before] of replaced) {
    try {
      if (fs.readFileSync(file, 'utf8').trim() !== String(process.pid)) continue;
      if (before === undefined) fs.unlinkSync(file);
      else fs.writeFileSync(file, before);
    } catch { /* gone, or not ours to write (pidfile2 after the drop) */ }
  }
}
