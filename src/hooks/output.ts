// The output of a program a hook runs, when liege must carry it to its
// place (log.ts childOutputRouted: loggers, log-drain/log-filter or a
// log-encoder; uWSGI's log-master carries a hook's output the same way):
// the program writes to a file in memory (memfd: no disk to fill; a
// startup phase waits for it in this thread and could not read a pipe
// meanwhile), whose lines go out once it ended. Otherwise (the usual
// case) the program writes to stderr itself, as it always did.
import * as fs from 'node:fs';
import { childOutputLine, childOutputRouted } from '../log';
import { native } from '../os/native';

// what is sent of one program's output; the rest is said in one line
const MAX_BYTES = 16 * 1024 * 1024;

/** An fd for the program's stdout and stderr, or undefined: it writes to stderr. */
function openCapture(): number | undefined {
  if (!childOutputRouted()) return undefined;
  try {
    return native.memfd();
  } catch {
    return undefined; // (out of fds or memory) the program writes to stderr
  }
}

function sendLines(fd: number): void {
  const size = fs.fstatSync(fd).size;
  const buf = Buffer.alloc(Math.min(size, MAX_BYTES));
  fs.readSync(fd, buf, 0, buf.length, 0);
  const lines = buf.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the last newline
  for (const line of lines) childOutputLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (size > MAX_BYTES) childOutputLine(`(${size - MAX_BYTES} bytes more of this hook's output not shown)`);
}

function finish(fd: number): void {
  try {
    sendLines(fd);
  } catch { /* what could not be read is lost, not the hook's outcome */ }
  fs.closeSync(fd);
}

/** Runs `run` with the fd its program's output goes to (undefined: stderr
 * as usual); that output is sent line by line once `run` (or its promise)
 * is done. */
export function withHookOutput<T>(run: (out: number | undefined) => T | Promise<T>): T | Promise<T> {
  const fd = openCapture();
  if (fd === undefined) return run(undefined);
  let result: T | Promise<T>;
  try {
    result = run(fd);
  } catch (e) {
    finish(fd);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => finish(fd));
  finish(fd);
  return result;
}
