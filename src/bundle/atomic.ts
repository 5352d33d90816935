// Atomic file-system steps: a file replaced by rename, a symlink switched by
// rename (readers see the old target or the new one, never nothing).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const tmpName = (p: string) => path.join(path.dirname(p), `.${path.basename(p)}.${crypto.randomBytes(6).toString('hex')}.tmp`);

/** Write `text` to `file` through a temp file, fsync and rename. */
export function writeAtomic(file: string, text: string, mode = 0o644): void {
  const tmp = tmpName(file);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Point the symlink `link` at `target` (relative) with one rename(2). */
export function switchLink(link: string, target: string): void {
  const tmp = tmpName(link);
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
}

/** The version `current` points at, or undefined. */
export function readLink(link: string): string | undefined {
  try {
    return path.basename(fs.readlinkSync(link));
  } catch {
    return undefined;
  }
}
