// With `log-format = json` the app's own output (console.log, console.error,
// process.stdout/stderr.write) becomes log lines, so that the JSON stream
// holds nothing but JSON: each line of it is a pino line of component "app"
// with `stream` (stdout: level info, stderr: error), written to the stream
// it was meant for; the lines of one write are one message (a stack trace
// stays whole). A line that is a JSON object already (an app's own JSON
// log) goes out as it is. A partial line waits for its end, up to
// LINE_MAX characters, and is written at exit (so is one written by a later
// 'exit' listener of the app). Only what goes through the
// process's stdio streams is seen: the app's child processes write to the
// inherited fds as they are (as under uWSGI without a log encoder).
import { StringDecoder } from 'node:string_decoder';
import { appOutputLine, isJsonObject, logFormat } from '../log';

const LINE_MAX = 16 * 1024;

type Stream = NodeJS.WriteStream;
type Callback = (error?: Error | null) => void;

/** For guardStdio: wraps the stream's write when the log format is JSON. */
export function encodeAppOutput(stream: Stream, name: 'stdout' | 'stderr'): void {
  if (logFormat() !== 'json') return;
  const write = stream.write;
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let exiting = false; // from our 'exit' listener on: no later write to wait for
  stream.write = function (this: Stream, chunk: unknown, encoding?: BufferEncoding | Callback, cb?: Callback): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    const lines = (partial + textOf(chunk, encoding, decoder)).split('\n');
    partial = lines.pop()!;
    if (partial.length > LINE_MAX || (exiting && partial)) {
      lines.push(partial);
      partial = '';
    }
    if (lines.length === 0) {
      if (cb) process.nextTick(cb, null);
      return true;
    }
    return write.call(this, encode(name, lines), 'utf8', cb);
  } as Stream['write'];
  process.on('exit', () => {
    exiting = true;
    const rest = partial + decoder.end();
    if (rest) write.call(stream, encode(name, [rest]));
  });
}

function textOf(chunk: unknown, encoding: BufferEncoding | undefined, decoder: StringDecoder): string {
  if (typeof chunk === 'string') {
    if (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8') return chunk;
    return Buffer.from(chunk, encoding).toString('utf8');
  }
  if (chunk instanceof Uint8Array) return decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return String(chunk);
}

// The lines of one write are one message (console.error(err): the stack
// whole), but for lines that are JSON objects, which go out as they are
function encode(name: 'stdout' | 'stderr', lines: string[]): string {
  let out = '';
  let message: string[] = [];
  const flush = () => {
    if (message.length) out += appOutputLine(name, message.join('\n'));
    message = [];
  };
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!isJsonObject(line)) {
      message.push(line);
      continue;
    }
    flush();
    out += `${line}\n`;
  }
  flush();
  return out;
}
