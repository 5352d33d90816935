import * as fs from 'node:fs';

/** Write the master pid (pidfile before the drop, pidfile2 after); `safe`:
 * to a temp file renamed over it, so a reader never sees a partial file. */
export function writePidfile(file: string | undefined, safe = false): void {
  if (!file) return;
  if (!replaced.has(file)) replaced.set(file, contentOf(file));
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
