// The master reopened its log file after a rotation and says so
// (`reopen-log`): this worker points its fds 1 and 2 at the same fresh
// file, so its request log and the app's output follow it without a
// reload. The master has just created the file, as the user this worker
// runs as, so it is opened without O_CREAT; one that cannot be opened (moved
// again meanwhile) leaves the old file in place, and the worker says why.
import * as fs from 'node:fs';
import { log } from '../log';
import { native } from '../os/native';

/** Follows the master's log reopens (a no-op for any other message). */
export function followLogReopens(worker: () => number): void {
  process.on('message', (m: unknown) => {
    const msg = m as { type?: string; file?: unknown; liege?: number } | null;
    if (msg?.type !== 'reopen-log' || msg.liege !== 1 || typeof msg.file !== 'string') return;
    try {
      const fd = fs.openSync(msg.file, fs.constants.O_WRONLY | fs.constants.O_APPEND);
      native.dup2(fd, 1);
      native.dup2(fd, 2);
      fs.closeSync(fd);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      log('worker').warn({ code, worker: worker() }, `unable to reopen the log file ${msg.file}: ${code}; this worker logs on to the old file`);
    }
  });
}
