// Serving liege's sockets with the app: every socket ends up served by an
// http.Server — the app's own (it called listen()) or one liege creates for
// an exported handler — through the socket's protocol adapter. There is
// never a fallback server on a socket the app may still claim: a worker is
// "accepting" once every socket is served, and a self-listening app that
// has not listened within `app-listen-timeout` fails with a clear error.
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { LiegeError } from '../errors';
import { log } from '../log';
import { FIRST_SOCKET_FD, type SocketInfo, type WorkerSpec } from '../ipc/worker';
import { importApp } from './app';
import { servesHttp } from './http-server';
import { ListenRouter } from './listen-router';
import { ACCEPTED, adapterFor } from './protocols/index';
import { isUwsgi, plainResponse, releaseUwsgi } from './protocols/uwsgi';

/** Called once for every http.Server (or https.Server) that serves a liege socket (request log, counters, request hooks). */
export type ServerObserver = (server: http.Server) => void;

export interface Serving {
  /** The listening servers of liege's sockets (the drain closes these). */
  servers: net.Server[];
}

const NO_APP: http.RequestListener = (_req, res) => {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('liege: no node-app configured\n');
};

/** Loads the app and serves every liege socket; resolves once all accept.
 * `onShared` hears of each app server given a shared port (listen-router.ts). */
export async function serveApp(spec: WorkerSpec, observe: ServerObserver, onAppError: (e: unknown, req: http.IncomingMessage) => void, fds = spec.sockets.map((_, i) => FIRST_SOCKET_FD + i), onShared?: (server: net.Server) => void): Promise<Serving> {
  const servers: net.Server[] = [];
  const seen = new WeakSet<net.Server>();
  const router = new ListenRouter(spec.sockets, (server, i, cb) => {
    if (servesHttp(server) && !seen.has(server)) {
      seen.add(server);
      observe(server);
    }
    wireServer(server, spec.sockets[i]!, fds[i]!, router.original, cb);
    servers.push(server);
  }, onShared);
  router.install();
  const handler = spec.app ? await importApp(spec.app, onAppError) : NO_APP;
  if (handler) {
    // sockets the app did not take with a listen() while loading
    for (const i of router.unclaimed()) {
      const server = http.createServer(handler);
      router.claimed[i] = server;
      observe(server);
      wireServer(server, spec.sockets[i]!, fds[i]!, router.original);
      servers.push(server);
    }
  } else {
    await allClaimed(router, spec, servers, fds);
  }
  await Promise.all(servers.map(listening));
  return { servers };
}

/** Resolves once `server` listens; rejects with its listen error. */
function listening(server: net.Server): Promise<void> | undefined {
  if (server.listening) return undefined;
  return new Promise((ok, ko) => {
    server.once('listening', () => ok());
    server.once('error', ko);
  });
}

/** Waits for the app's listen() calls. Once it listened, further listen()
 * calls within CLAIM_GRACE_MS take the sockets still free; then those left
 * are served by the app's first server. Never listened: LIEGE_ERR_APP_LISTEN. */
async function allClaimed(router: ListenRouter, spec: WorkerSpec, servers: net.Server[], fds: number[]): Promise<void> {
  const ms = spec.listenTimeoutMs ?? 60_000;
  if (router.unclaimed().length === 0) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(done, ms);
    let grace: NodeJS.Timeout | undefined;
    const check = () => {
      if (router.unclaimed().length === 0) {
        clearTimeout(timer);
        clearTimeout(grace);
        done();
        return;
      }
      if (!grace && router.claimed.some((s) => s)) {
        clearTimeout(timer);
        grace = setTimeout(done, CLAIM_GRACE_MS);
      }
    };
    router.onClaimed(check);
    // an app that listened while loading (express's `app.listen(3000)`)
    // claimed before this: its grace starts now, not at app-listen-timeout
    check();
  });
  router.onClaimed(() => undefined);
  const first = router.claimed.find((s) => s);
  if (!first) {
    throw new LiegeError('LIEGE_ERR_APP_LISTEN', `the app ${spec.app} neither exports a request handler nor called listen() within ${ms / 1000} s`, { expected: 'module.exports = (req, res) => …, a default export with fetch(), or a server.listen() call (app-listen-timeout)' });
  }
  const rest = router.unclaimed();
  if (rest.length) log('worker').info({ sockets: rest.map((i) => spec.sockets[i]!.addr) }, "the app's first server also serves these sockets");
  for (const i of rest) {
    router.claimed[i] = first;
    const forward = net.createServer();
    forward.on('connection', (raw: net.Socket) => deliver(first, spec.sockets[i]!, raw));
    router.original.call(forward, { fd: fds[i]!, backlog: spec.sockets[i]!.backlog });
    servers.push(forward);
  }
}

const CLAIM_GRACE_MS = 1000;

type Emit = (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;

const plainEmit = new WeakMap<net.Server, Emit>();

/**
 * The seam where each connection on a liege socket reaches a server: makes
 * `server` listen on the socket's fd, with the socket's protocol adapter
 * between the accepted connection and the server's 'connection' listeners.
 */
export function wireServer(server: net.Server, sock: SocketInfo, fd: number, listen: (this: net.Server, ...a: unknown[]) => net.Server, cb?: () => void): void {
  const adapter = adapterFor(sock);
  if (adapter && server instanceof http.Server && !plainEmit.has(server)) {
    const emit = server.emit as Emit;
    plainEmit.set(server, emit);
    server.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'connection') return emit.call(this, event, ...args);
      // (a TLS socket is delivered at once, wrapped: the raw one is not followed)
      if (sock.proto === 'uwsgi') emit.call(this, ACCEPTED, args[0]);
      adapter(args[0] as net.Socket, (conn) => emit.call(this, 'connection', conn));
      return true;
    } as net.Server['emit'];
  }
  if (sock.proto === 'uwsgi') uwsgiServer(server);
  listen.call(server, { fd, backlog: sock.backlog }, cb);
}

/** A connection accepted elsewhere, handed to `server` through the socket's adapter. */
function deliver(server: net.Server, sock: SocketInfo, raw: net.Socket): void {
  const emit = plainEmit.get(server) ?? (server.emit as Emit);
  const adapter = adapterFor(sock);
  if (sock.proto === 'uwsgi') uwsgiServer(server);
  const hand = (conn: Duplex) => emit.call(server, 'connection', conn);
  if (adapter) adapter(raw, hand);
  else hand(raw);
}

const uwsgiServers = new WeakSet<net.Server>();

// A server that serves a uwsgi socket: the held socket flows once the
// server set up its parser (a listener after http.Server's own), and a
// response to nginx is never chunked (nginx reads it up to the close)
function uwsgiServer(server: net.Server): void {
  if (uwsgiServers.has(server)) return;
  uwsgiServers.add(server);
  server.on('connection', releaseUwsgi);
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (isUwsgi(req.socket)) plainResponse(res);
  });
}
