// An exclusive lock beside the registry file (PATH.lock, O_EXCL, holding the
// owner's pid) so that concurrent `liege hooks add`s serialize their
// read-modify-write. A lock whose owner died is taken over.
import * as fs from 'node:fs';
import { LiegeError } from '../../errors';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function ownerAlive(lockFile: string): boolean {
  let text: string;
  let age: number;
  try {
    text = fs.readFileSync(lockFile, 'utf8').trim();
    age = Date.now() - fs.statSync(lockFile).mtimeMs;
  } catch {
    return true; // being created or removed right now: try again
  }
  const pid = Number(text);
  // empty: its owner is between open and write (unless that was long ago)
  if (!Number.isInteger(pid) || pid <= 0) return age < 5000;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding PATH.lock; waits up to `waitMs` for another holder. */
export function withLock<T>(file: string, fn: () => T, waitMs = 10_000): T {
  const lockFile = `${file}.lock`;
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LiegeError('LIEGE_ERR_REGISTRY_LOCK', `unable to lock ${lockFile}: ${(e as Error).message}`, { cause: e });
      if (!ownerAlive(lockFile)) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > end) throw new LiegeError('LIEGE_ERR_REGISTRY_LOCK', `unable to lock ${lockFile}: held by pid ${fs.readFileSync(lockFile, 'utf8').trim()} for more than ${waitMs} ms`);
      Atomics.wait(sleeper, 0, 0, 5 + Math.random() * 20);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
