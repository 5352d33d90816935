// Loading the Node app a worker serves. Two shapes work:
//  * a module exporting a request handler `(req, res) => …` (or `handler`):
//    liege creates the HTTP server on the inherited socket;
//  * a module that creates its own server and calls `listen(...)` (any
//    arguments): like node:cluster, the call is routed to the inherited
//    socket, so an app that runs standalone runs under liege unchanged.
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { attachRequestHooks } from './request-hooks';

type Handler = http.RequestListener;

/** Loads `app`; resolves with the servers listening on the inherited fds. */
export async function loadApp(app: string | undefined, fds: number[]): Promise<net.Server[]> {
  const servers: net.Server[] = [];
  let next = 0;
  const listen = net.Server.prototype.listen;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  net.Server.prototype.listen = function (this: net.Server, ...args: any[]) {
    if (next >= fds.length) return listen.apply(this, args as never);
    const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    servers.push(this);
    if (this instanceof http.Server) attachRequestHooks(this);
    return listen.call(this, { fd: fds[next++]! }, cb);
  };
  let handler: Handler | undefined;
  if (app) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.resolve(app)) as Handler | { handler?: Handler; default?: Handler };
    handler = typeof mod === 'function' ? mod : mod.handler ?? (typeof mod.default === 'function' ? mod.default : undefined);
  }
  if (servers.length === 0) {
    const h: Handler = handler ?? ((_req, res) => { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('liege: no node-app configured\n'); });
    for (const fd of fds) {
      const s = http.createServer(h);
      attachRequestHooks(s);
      servers.push(s);
      listen.call(s, { fd });
    }
  }
  await Promise.all(servers.map((s) => (s.listening ? undefined : new Promise((r) => s.once('listening', r)))));
  return servers;
}

/** Stop accepting, let in-flight requests finish, exit (cap: `mercyMs`). */
export function drainAndExit(servers: net.Server[], mercyMs: number): void {
  let open = servers.length;
  if (open === 0) process.exit(0);
  for (const s of servers) net.Server.prototype.close.call(s, () => { if (--open === 0) process.exit(0); });
  for (const s of servers) if (s instanceof http.Server) s.closeIdleConnections();
  setTimeout(() => process.exit(0), mercyMs).unref();
}
