// Protocol adapters: what turns an accepted connection on one of liege's
// sockets into the connection an ordinary Node http.Server parses.
// http: the socket itself; https: TLS terminated in the worker; uwsgi:
// uWSGI's binary request packet turned into an HTTP/1.1 request stream.
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SocketInfo } from '../../ipc/worker';
import { uwsgiAdapter } from './uwsgi';

/** The event a server of a uwsgi socket emits with each accepted socket:
 * it reaches 'connection' only once its packet is in, and a drain follows
 * it from the accept (drain.ts). */
export const ACCEPTED = 'liege:accepted';

/** Takes an accepted socket; hands the stream to parse to `deliver` (maybe later). */
export type Adapter = (raw: net.Socket, deliver: (conn: Duplex) => void) => void;

/** The adapter of a socket; undefined when connections go through as they are. */
export function adapterFor(sock: SocketInfo): Adapter | undefined {
  if (sock.proto !== 'uwsgi' && sock.proto !== 'https') return undefined;
  let a = adapters.get(sock);
  if (a) return a;
  if (sock.proto === 'uwsgi') {
    a = uwsgiAdapter(sock.packetTimeoutMs ?? 4000);
  } else {
    // tls is loaded only by workers that serve an https-socket (start cost)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    a = (require('./https') as typeof import('./https')).httpsAdapter(sock.tls!);
  }
  adapters.set(sock, a);
  return a;
}

const adapters = new WeakMap<SocketInfo, Adapter>(); // one per socket (https: one TLS context)
