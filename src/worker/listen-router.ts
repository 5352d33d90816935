// Where an app's own `listen()` calls go, at any time after load (an app
// that connects to its database first, fastify's `await app.listen()`):
//  1. a listen() whose port (or unix path) is one of liege's sockets takes it;
//  2. else the first listen() calls take liege's unclaimed sockets in order;
//  3. every further listen() is a shared port, as under node:cluster: the
//     master binds it once and passes the same listening socket to every
//     worker over IPC, so all workers accept on it (no EADDRINUSE).
// A listen() with a handle or fd of the app's own goes through unchanged.
// A warm spare worker (spare-workers) loads the app but must not accept
// until the master activates it: every listen() liege makes on the app's
// behalf goes through `listenGate`, which holds the calls while closed and
// makes them when opened (the app sees its listen() complete later, nothing
// else).
import * as net from 'node:net';
import { marked, type ListenRequest, type MasterMessage, type SocketInfo } from '../ipc/worker';

type Listen = (this: net.Server, ...args: unknown[]) => net.Server;
type ListenResult = Extract<MasterMessage, { type: 'listen-result' }>;

const realListen = net.Server.prototype.listen as unknown as Listen;

type Listen2 = (this: net.Server, address: null, port: null, addressType: null, backlog: number | undefined, fd: number) => void;

/**
 * `server` listens on one of liege's inherited sockets. Not through
 * listen({ fd }), which drops the backlog (the socket is listened again with
 * 511, undoing `listen =`) and asks node:cluster whether this process is a
 * primary (loading cluster's primary side: ~0.8 ms of every worker start),
 * but through its next step, `_listen2` (setupListenHandle, in net.Server
 * since Node 0.x), which does neither.
 */
function listenOnFd(server: net.Server, fd: number, backlog: number | undefined, cb: unknown): net.Server {
  const listen2 = (server as unknown as { _listen2?: Listen2 })._listen2;
  if (typeof listen2 !== 'function') return realListen.call(server, { fd, backlog }, cb);
  if (typeof cb === 'function') server.once('listening', cb as () => void);
  listen2.call(server, null, null, null, backlog, fd);
  return server;
}

/** Liege's own listen() calls: ({ fd, backlog }[, cb]) on its sockets, or a shared port's handle. */
function makeListen(server: net.Server, args: unknown[]): net.Server {
  const first = args[0] as { fd?: unknown; backlog?: number } | undefined;
  // a plain { fd } (a shared port's handle from the master has an fd too)
  const plain = !!first && Object.getPrototypeOf(first) === Object.prototype;
  if (plain && typeof first.fd === 'number') return listenOnFd(server, first.fd, first.backlog, args[1]);
  return realListen.apply(server, args);
}

/** Holds listen() calls while closed (a spare worker), makes them on open(). */
export class ListenGate {
  private held: Array<[net.Server, unknown[]]> | undefined;
  private onHold?: (fds: number) => void;
  private fds = 0;

  /** From now on, hold; `onHold` is told how many liege fds are held so far. */
  close(onHold: (fds: number) => void): void {
    this.held = [];
    this.onHold = onHold;
  }

  /** Make the held calls, in order, and every later one at once. */
  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [server, args] of held) makeListen(server, args);
  }

  listen(server: net.Server, args: unknown[]): net.Server {
    if (!this.held) return makeListen(server, args);
    this.held.push([server, args]);
    const first = args[0] as { fd?: unknown } | undefined;
    if (first && typeof first === 'object' && typeof first.fd === 'number') this.fds++;
    this.onHold?.(this.fds);
    return server;
  }
}

export const listenGate = new ListenGate();

export interface ListenCall {
  port?: number;
  host?: string;
  path?: string;
  backlog?: number;
  cb?: () => void;
  own?: boolean; // a handle or fd of the app's own
}

/** net.Server#listen's argument forms → one record. */
export function parseListenArgs(args: unknown[]): ListenCall {
  const a = [...args];
  const out: ListenCall = {};
  if (typeof a[a.length - 1] === 'function') out.cb = a.pop() as () => void;
  const first = a[0];
  if (first !== null && typeof first === 'object') {
    const o = first as Record<string, unknown>;
    if (o._handle || o.handle || typeof o.fd === 'number') return { ...out, own: true };
    if (typeof o.path === 'string') return { ...out, path: o.path, backlog: num(o.backlog) };
    return { ...out, port: num(o.port) ?? 0, host: typeof o.host === 'string' ? o.host : undefined, backlog: num(o.backlog) };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { ...out, path: first, backlog: num(a[1]) };
  out.port = num(first) ?? 0;
  if (typeof a[1] === 'string') {
    out.host = a[1];
    out.backlog = num(a[2]);
  } else {
    out.backlog = num(a[1]);
  }
  return out;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

// the servers the app called listen() on (routed or its own handle)
const listenedByApp = new WeakSet<object>();

let anyListen = false;

/** Whether the app called listen() on `server` (once the router is installed), or on any server. */
export function appListened(server?: unknown): boolean {
  if (server === undefined) return anyListen;
  return typeof server === 'object' && server !== null && listenedByApp.has(server);
}

export class ListenRouter {
  /** listen() as Node has it, through the gate (what liege's own calls use). */
  readonly original: Listen = function (this: net.Server, ...args: unknown[]) {
    return listenGate.listen(this, args);
  };
  /** The app server that took each liege socket (index = socket index). */
  readonly claimed: Array<net.Server | undefined>;
  private nextId = 1;
  private readonly pending = new Map<number, (m: ListenResult, handle: unknown) => void>();
  private onClaim?: () => void;

  constructor(
    private readonly sockets: SocketInfo[],
    /** Makes `server` serve liege socket `index` (protocol adapter included). */
    private readonly wire: (server: net.Server, index: number, cb?: () => void) => void,
    /** Hears of each server given a shared port (the drain follows it). */
    private readonly shared: (server: net.Server) => void = () => undefined,
  ) {
    this.claimed = sockets.map(() => undefined);
  }

  /** Route every listen() of this process from now on. */
  install(): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const router = this;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
      return router.listen(this, args);
    } as typeof net.Server.prototype.listen;
    process.on('message', (m: MasterMessage, handle: unknown) => {
      if (m && m.type === 'listen-result') this.pending.get(m.id)?.(m, handle);
    });
  }

  /** Called after each claim; the caller checks whether all are claimed. */
  onClaimed(f: () => void): void {
    this.onClaim = f;
  }

  unclaimed(): number[] {
    return this.claimed.flatMap((s, i) => (s ? [] : [i]));
  }

  private listen(server: net.Server, args: unknown[]): net.Server {
    listenedByApp.add(server);
    anyListen = true;
    const call = parseListenArgs(args);
    if (call.own) return realListen.apply(server, args);
    const index = this.pick(call);
    if (index !== undefined) {
      this.claimed[index] = server;
      this.wire(server, index, call.cb);
      this.onClaim?.();
      return server;
    }
    this.share(server, call);
    return server;
  }

  private pick(call: ListenCall): number | undefined {
    const free = this.unclaimed();
    const same = free.find((i) => {
      const s = this.sockets[i]!;
      return call.path !== undefined ? s.addr === call.path : call.port !== 0 && s.port === call.port;
    });
    if (same !== undefined) return same;
    return free[0];
  }

  private share(server: net.Server, call: ListenCall): void {
    if (!process.send) {
      const args: unknown[] = call.path !== undefined ? [call.path] : [call.port, call.host];
      this.original.apply(server, call.cb ? [...args, call.cb] : args);
      return;
    }
    const id = this.nextId++;
    const req: ListenRequest = { type: 'listen', id, port: call.port, host: call.host, path: call.path, backlog: call.backlog };
    this.pending.set(id, (m, handle) => {
      this.pending.delete(id);
      if (m.error || !handle) {
        // shaped as Node's own listen error (code, syscall), for the app's handler
        const where = call.path ?? `${call.host ?? '0.0.0.0'}:${call.port}`;
        const message = `listen ${m.error?.code ?? 'EINVAL'}: ${m.error?.message ?? 'no socket'} (${where})`;
        server.emit('error', Object.assign(new Error(message), { code: m.error?.code, syscall: 'listen' }));
        return;
      }
      this.shared(server);
      this.original.call(server, handle, call.backlog, call.cb);
    });
    process.send(marked(req));
  }
}
