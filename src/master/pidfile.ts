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
    undo(file, safe); // nothing half-done: not an empty pidfile (a full disk)
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

// A write that failed leaves the file as it was: a plain write had
// truncated it first (put the old pid back, or remove the file it made);
// a safe one leaves its temp file
function undo(file: string, safe: boolean): void {
  try {
    if (safe) return fs.rmSync(`${file}.${process.pid}.tmp`, { force: true });
    const before = replaced.get(file);
    if (before === undefined) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, before);
  } catch { /* not ours to write, or no room even for the old pid */ }
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
 * removed), each only while it still holds this process's pid; with
 * `vacuum`, a pid that runs no more (a SIGKILLed instance's) is not put back. */
export function restorePidfiles(vacuum: boolean): void {
  for (const [file, before] of replaced) {
    try {
      if (fs.readFileSync(file, 'utf8').trim() !== String(process.pid)) continue;
      if (before === undefined || (vacuum && !runs(before))) fs.unlinkSync(file);
      else fs.writeFileSync(file, before);
    } catch { /* gone, or not ours to write (pidfile2 after the drop) */ }
  }
}

function runs(pidText: string): boolean {
  const pid = Number(pidText.trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
