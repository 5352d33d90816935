// uWSGI's binary protocol (what nginx `uwsgi_pass` + `uwsgi_params`
// speaks; ../shared/spec/uwsgi-reference.md §h): a 4-byte header
// (modifier1, vars size u16 LE, modifier2), CGI-style vars as
// [u16 len][key][u16 len][value]…, then the body (CONTENT_LENGTH bytes).
// The packet's vars become an HTTP/1.1 request head put back in front of
// the connection's data (unshift), and the accepted socket itself goes to
// the app's http.Server: Node's parser then reads the body straight from
// the socket, as on an http-socket, and the response goes back as plain
// HTTP on it, the connection closing after it (one request per connection,
// never chunked: nginx reads the body up to the close). No stream sits in
// between: nginx opens a connection per request (no upstream keep-alive for
// uwsgi), so the per-connection work is what this path costs
// (bench/README.md).
import type * as http from 'node:http';
import * as net from 'node:net';
import type { Adapter } from './index';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const BAD_URI = /[\s\0-\x1f\x7f]/;
const PORT = /^\d{1,5}$/;
// headers nginx sends twice (CONTENT_*), or that must not reach the parser:
// the body is framed by CONTENT_LENGTH, the connection closes after one
// request, and nginx answered the client's `Expect: 100-continue` itself
// (Node's automatic "100 Continue" would be read by nginx as the response,
// and nginx would stop sending the rest of a large body: a hang)
const SKIP = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);

export type UwsgiVars = Record<string, string>;
/** One var of a packet, in its order: a header the client sent twice (two
 * Cookie lines, a chain's X-Forwarded-For) is two HTTP_ vars. */
export type UwsgiVar = [key: string, value: string];

/** Parses the vars block, in order; undefined when it is malformed. */
export function parseVars(buf: Buffer): UwsgiVar[] | undefined {
  const list: UwsgiVar[] = [];
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
    list.push([key, buf.toString('latin1', i, i + vl)]);
    i += vl;
  }
  return list;
}

/** The HTTP/1.1 request head for the vars (`v`: by name, the last of a
 * name); undefined when they are unsafe. Every HTTP_ var is a header line,
 * so the app's server joins repeated headers as for a direct client
 * (cookies with "; ", others with ", "): before, the last one won, and a
 * session cookie sent first was lost. */
export function requestHead(list: UwsgiVar[], v: UwsgiVars): string | undefined {
  const method = v.REQUEST_METHOD || 'GET';
  const qs = v.QUERY_STRING ? `?${v.QUERY_STRING}` : '';
  const uri = v.REQUEST_URI || `${v.PATH_INFO || '/'}${qs}`;
  if (!TOKEN.test(method) || BAD_URI.test(uri)) return undefined;
  const proto = v.SERVER_PROTOCOL === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  let head = `${method} ${uri} ${proto}\r\n`;
  let host = false;
  for (const [key, value] of list) {
    if (!key.startsWith('HTTP_')) continue;
    const name = key.slice(5).toLowerCase().replace(/_/g, '-');
    if (SKIP.has(name) || !TOKEN.test(name) || BAD_VALUE.test(value)) continue;
    if (name === 'host') {
      if (host) continue; // one Host (Node answers two with 400)
      host = true;
    }
    head += `${name}: ${value}\r\n`;
  }
  // Node answers an HTTP/1.1 request without a Host 400; uWSGI asks none of
  // a uwsgi client (nginx sends one, a hand-made client may not)
  if (!host) head += `host: ${hostOf(v)}\r\n`;
  if (v.CONTENT_TYPE && !BAD_VALUE.test(v.CONTENT_TYPE)) head += `content-type: ${v.CONTENT_TYPE}\r\n`;
  const length = v.CONTENT_LENGTH ?? '';
  if (length !== '' && !/^\d+$/.test(length)) return undefined;
  if (length !== '' && length !== '0') head += `content-length: ${length}\r\n`;
  return `${head}connection: close\r\n\r\n`;
}

/** The Host of a packet without HTTP_HOST: the server's name or address. */
function hostOf(v: UwsgiVars): string {
  for (const name of [v.SERVER_NAME, v.SERVER_ADDR]) {
    if (name && !BAD_VALUE.test(name)) return name;
  }
  return 'localhost';
}

/** Set until the server listened on the socket: then it reads the head. */
const HELD = Symbol('liege.uwsgi-held');

type UwsgiSocket = net.Socket & {
  /** The packet's vars (SCRIPT_NAME, DOCUMENT_ROOT, UWSGI_* …) for apps. */
  uwsgi?: UwsgiVars;
  encrypted?: boolean;
  _peername?: { address: string; port: number; family: string };
  [HELD]?: boolean;
};

/** Whether `socket` came in by uwsgi (its response is never chunked). */
export function isUwsgi(socket: unknown): boolean {
  return !!socket && (socket as UwsgiSocket).uwsgi !== undefined;
}

// What the app sees of the client: nginx's REMOTE_ADDR, not nginx itself.
// net.Socket's remoteAddress/remotePort/remoteFamily read its cached peer
// name, so setting that cache is all it takes (no property redefined on
// the socket, which would make every later access to it slower)
// Only an address and a port: anything else (a hand-made packet) would
// reach the app as the client and the request log as a line of its own
function asClient(raw: UwsgiSocket, vars: UwsgiVars): void {
  raw.uwsgi = vars;
  const addr = vars.REMOTE_ADDR;
  if (addr && net.isIP(addr)) {
    const port = PORT.test(vars.REMOTE_PORT ?? '') ? Number(vars.REMOTE_PORT) : raw.remotePort ?? 0;
    raw._peername = { address: addr, port, family: addr.includes(':') ? 'IPv6' : 'IPv4' };
  }
  if (vars.HTTPS === 'on' || vars.REQUEST_SCHEME === 'https') raw.encrypted = true;
}

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** Reads the packet header and vars, puts the HTTP head back in front of
 * the rest and hands the socket on, held (paused) until released. A client
 * that has not sent its whole packet after `timeoutMs` is cut off. */
export function uwsgiAdapter(timeoutMs: number): Adapter {
  return (raw: UwsgiSocket, deliver) => {
    // chunks are joined once the packet is complete (a client sending a
    // byte at a time must not cost a copy of the packet per byte)
    const chunks: Buffer[] = [];
    let have = 0;
    let size = -1; // the vars size, once the 4-byte header is in
    const deadline = setTimeout(() => raw.destroy(), timeoutMs);
    deadline.unref();
    const stop = () => {
      clearTimeout(deadline);
      raw.off('data', onData);
      raw.off('error', stop);
      raw.off('close', stop);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (size < 0 && have >= 4) size = joined().readUInt16LE(1);
      if (size < 0 || have < 4 + size) return;
      stop();
      raw.pause();
      handOn(raw, joined(), size, deliver);
    };
    const joined = () => {
      if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks, have));
      return chunks[0]!;
    };
    raw.on('data', onData);
    raw.on('error', stop);
    raw.on('close', stop);
  };
}

function handOn(raw: UwsgiSocket, buf: Buffer, size: number, deliver: (conn: UwsgiSocket) => void): void {
  const list = parseVars(buf.subarray(4, 4 + size));
  // by name (as before: the last of a name; an own property even for a key
  // such as __proto__)
  const vars = list && (Object.fromEntries(list) as UwsgiVars);
  const head = list && vars && requestHead(list, vars);
  if (!vars || head === undefined) {
    // the adapter's listeners are gone: a client that resets now must not
    // be an uncaught 'error' (it ended the worker and its requests)
    raw.on('error', () => raw.destroy());
    raw.end(BAD_REQUEST);
    return;
  }
  asClient(raw, vars);
  const rest = buf.subarray(4 + size);
  const first = Buffer.from(head, 'latin1');
  raw.unshift(rest.length ? Buffer.concat([first, rest]) : first);
  raw[HELD] = true;
  deliver(raw);
}

/** A 'connection' listener added after the server's own (http.Server's
 * parser setup): the held socket flows now, the head first. Later, not
 * at delivery, because a `connect` request hook may delay the server's. */
export function releaseUwsgi(socket: net.Socket): void {
  const s = socket as UwsgiSocket;
  if (!s[HELD]) return;
  s[HELD] = false;
  s.resume();
}

// A uwsgi response is delimited by the close, and nginx drops an upstream
// Transfer-Encoding header without decoding the body: an app that sets
// `Transfer-Encoding: chunked` itself (a proxied upstream's headers, an
// event stream) would have Node chunk the body and the client would get the
// chunk framing as data. So the header is dropped, whichever way it is set.
const TE = /^transfer-encoding$/i;

function withoutTe(headers: unknown): unknown {
  if (Array.isArray(headers)) {
    if (Array.isArray(headers[0])) return headers.filter((pair: unknown[]) => !TE.test(String(pair[0])));
    const flat: unknown[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (!TE.test(String(headers[i]))) flat.push(headers[i], headers[i + 1]);
    }
    return flat;
  }
  if (!headers || typeof headers !== 'object') return headers;
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(headers)) {
    if (!TE.test(key)) kept[key] = (headers as Record<string, unknown>)[key];
  }
  return kept;
}

function plainWriteHead(this: http.ServerResponse, ...args: unknown[]): http.ServerResponse {
  if (this.hasHeader('transfer-encoding')) this.removeHeader('transfer-encoding');
  const last = args.length - 1;
  if (last > 0 && typeof args[last] === 'object') args[last] = withoutTe(args[last]);
  // the class's own writeHead (an app's ServerResponse subclass included)
  return (Object.getPrototypeOf(this).writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
}

/** Makes a response to a uwsgi request plain: never chunked, delimited by the close. */
export function plainResponse(res: http.ServerResponse): void {
  (res as unknown as { useChunkedEncodingByDefault: boolean }).useChunkedEncodingByDefault = false;
  res.writeHead = plainWriteHead as http.ServerResponse['writeHead'];
}
