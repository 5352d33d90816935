// Whether a server answers HTTP requests ('request' events). An app that
// terminates TLS itself on a liege socket makes an https.Server: no
// http.Server (it extends tls.Server and borrows http.Server's request
// handling), but its requests are the same and must be logged, counted,
// held to harakiri and drained. Told apart without loading node:https (a
// worker whose app never did would pay its memory).
import * as http from 'node:http';
import type * as net from 'node:net';

/** An http.Server, or an https.Server (which has its HTTP options and methods). */
export function servesHttp(server: net.Server): server is http.Server {
  if (server instanceof http.Server) return true;
  return 'headersTimeout' in server && typeof (server as Partial<http.Server>).closeIdleConnections === 'function';
}

/** Calls `follow` with each TLS socket an app's https.Server makes (its
 * requests and responses are on it), the raw socket under it put in
 * `under` first: a drain judges the TLS socket, not the raw one. */
export function followTlsSockets(server: net.Server, under: WeakSet<net.Socket>, follow: (sock: net.Socket) => void): void {
  server.on('secureConnection', (tls: net.Socket & { _parent?: net.Socket | null }) => {
    if (tls._parent) under.add(tls._parent);
    follow(tls);
  });
}
