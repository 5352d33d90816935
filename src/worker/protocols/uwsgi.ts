// uWSGI's binary protocol (what nginx `uwsgi_pass` + `uwsgi_params`
// speaks; ../shared/spec/uwsgi-reference.md §h): a 4-byte header
// (modifier1, vars size u16 LE, modifier2), CGI-style vars as
// [u16 len][key][u16 len][value]…, then the body (CONTENT_LENGTH bytes).
// The packet becomes an HTTP/1.1 request stream (UwsgiConnection) that the
// app's http.Server parses as usual; the response goes back as plain HTTP
// on the same connection, which closes after it (one request per
// connection, never chunked: nginx reads the body up to the close).
import type * as net from 'node:net';
import { Duplex } from 'node:stream';
import type { Adapter } from './index';

const MAX_VARS = 65535;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_URI = /[\s\0-\x1f\x7f]/;
// headers nginx sends twice (CONTENT_*), or that must not reach the parser:
// the body is framed by CONTENT_LENGTH, the connection closes after one request
const SKIP = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

export type UwsgiVars = Record<string, string>;

/** Parses the vars block; undefined when it is malformed. */
export function parseVars(buf: Buffer): UwsgiVars | undefined {
  const vars: UwsgiVars = {};
  let i = 0;
  while (i < buf.length) {
    if (i + 2 > buf.length) return undefined;
    const kl = buf.readUInt16LE(i);
    i += 2;
    if (i + kl + 2 > buf.length) return undefined;
    const key = buf.toString('latin1', i, i + kl);
    i += kl;
    const vl = buf.readUInt16LE(i);
    i += 2;
    if (i + vl > buf.length) return undefined;
    vars[key] = buf.toString('latin1', i, i + vl);
    i += vl;
  }
  return vars;
}

/** The HTTP/1.1 request head for the vars; undefined when they are unsafe. */
export function requestHead(v: UwsgiVars): string | undefined {
  const method = v.REQUEST_METHOD || 'GET';
  const qs = v.QUERY_STRING ? `?${v.QUERY_STRING}` : '';
  const uri = v.REQUEST_URI || `${v.PATH_INFO || '/'}${qs}`;
  if (!TOKEN.test(method) || BAD_URI.test(uri)) return undefined;
  const proto = v.SERVER_PROTOCOL === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  let head = `${method} ${uri} ${proto}\r\n`;
  let host = false;
  for (const key in v) {
    if (!key.startsWith('HTTP_')) continue;
    const name = key.slice(5).toLowerCase().replace(/_/g, '-');
    const value = v[key]!;
    if (SKIP.has(name) || !TOKEN.test(name) || BAD_VALUE.test(value)) continue;
    if (name === 'host') host = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!host && v.SERVER_NAME && !BAD_VALUE.test(v.SERVER_NAME)) head += `host: ${v.SERVER_NAME}\r\n`;
  if (v.CONTENT_TYPE && !BAD_VALUE.test(v.CONTENT_TYPE)) head += `content-type: ${v.CONTENT_TYPE}\r\n`;
  const length = v.CONTENT_LENGTH ?? '';
  if (length !== '' && !/^\d+$/.test(length)) return undefined;
  if (length !== '' && length !== '0') head += `content-length: ${length}\r\n`;
  return `${head}connection: close\r\n\r\n`;
}

/** The request stream the app's server parses; writes go to the client. */
export class UwsgiConnection extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly encrypted: boolean | undefined;
  /** The raw uwsgi vars (SCRIPT_NAME, DOCUMENT_ROOT, UWSGI_* …) for apps that want them. */
  readonly uwsgi: UwsgiVars;

  constructor(private readonly raw: net.Socket, vars: UwsgiVars, head: Buffer, rest: Buffer) {
    super({ allowHalfOpen: true });
    this.uwsgi = vars;
    this.remoteAddress = vars.REMOTE_ADDR || raw.remoteAddress;
    this.remotePort = vars.REMOTE_PORT ? Number(vars.REMOTE_PORT) : raw.remotePort;
    this.remoteFamily = this.remoteAddress?.includes(':') ? 'IPv6' : 'IPv4';
    this.encrypted = vars.HTTPS === 'on' || vars.REQUEST_SCHEME === 'https' ? true : undefined;
    this.push(rest.length ? Buffer.concat([head, rest]) : head);
    raw.on('data', (chunk: Buffer) => { if (!this.push(chunk)) raw.pause(); });
    raw.on('end', () => this.push(null));
    raw.on('timeout', () => this.emit('timeout'));
    raw.on('error', (e) => this.destroy(e));
    raw.on('close', () => this.destroy());
  }

  get localAddress(): string | undefined { return this.raw.localAddress; }
  get localPort(): number | undefined { return this.raw.localPort; }
  get bytesWritten(): number { return this.raw.bytesWritten; }
  address(): ReturnType<net.Socket['address']> { return this.raw.address(); }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.raw.write(chunk, enc, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (e?: Error | null) => void): void {
    this.raw.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.raw.write(chunks[i]!.chunk, chunks[i]!.encoding);
    const last = chunks[chunks.length - 1]!;
    this.raw.write(last.chunk, last.encoding, cb);
    this.raw.uncork();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }

  setTimeout(ms: number, cb?: () => void): this {
    this.raw.setTimeout(ms);
    if (cb) this.once('timeout', cb);
    return this;
  }

  setNoDelay(on?: boolean): this {
    this.raw.setNoDelay(on);
    return this;
  }

  setKeepAlive(on?: boolean, delay?: number): this {
    this.raw.setKeepAlive(on, delay);
    return this;
  }
}

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** Reads the packet header and vars, then hands the request stream on. */
export const uwsgiAdapter: Adapter = (raw, deliver) => {
  let buf: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (buf.length < 4) return;
    const size = buf.readUInt16LE(1);
    if (buf.length < 4 + size) {
      if (size > MAX_VARS) raw.end(BAD_REQUEST);
      return;
    }
    raw.off('data', onData);
    raw.off('error', onEarlyError);
    raw.pause();
    const vars = parseVars(buf.subarray(4, 4 + size));
    const head = vars && requestHead(vars);
    if (!vars || head === undefined) {
      raw.end(BAD_REQUEST);
      return;
    }
    deliver(new UwsgiConnection(raw, vars, Buffer.from(head, 'latin1'), buf.subarray(4 + size)));
  };
  const onEarlyError = () => raw.destroy();
  raw.on('data', onData);
  raw.on('error', onEarlyError);
};
