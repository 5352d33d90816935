// Newline-framed text on a stream, one message a line (the framing of Node's
// IPC channel): the master↔worker channel kept across a re-exec and the
// privileged hook helper's socket both read it.
import type { Socket } from 'node:net';

/** Calls `onLine` with each complete line (without its newline), in order. */
export function onLines(stream: Socket, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
}
