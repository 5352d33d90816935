// uWSGI's stats server (`stats = ADDR`, `stats-http`, `stats-minified`):
// one JSON dump per connection, in uWSGI's shape (workers with pid,
// requests, status, rss, respawn_count, avg_rt, last_spawn, exceptions …),
// so uwsgitop-style tools and `liege top` read it.
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { SocketInfo } from '../../ipc/worker';
import { log } from '../../log';
import { capClients, type Say } from '../../os/client-cap';
import { isLiveUnixSocket } from '../../os/live-socket';
import { native } from '../../os/native';
import type { DrainingView, WorkerView } from '../worker-views';
import { rssOfPid } from '../worker-process';

export interface StatsSource {
  workers: () => WorkerView[];
  spares?: () => Array<{ pid: number; status: 'loading' | 'ready'; since: number }>; // spare-workers
  draining?: () => DrainingView[]; // an old generation's, a recycled one
  sockets: SocketInfo[];
  /** Each socket's accept queue now (connections no worker took yet). */
  queues?: () => number[];
  version: string;
}

/** Resident set size of a process in bytes (0 when it is gone). */
export function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  return rssOfPid(pid) ?? 0;
}

/** The stats document, uWSGI field names and units (µs, epoch seconds, bytes). */
export function statsDocument(src: StatsSource): object {
  const now = Date.now();
  const queues = src.queues?.() ?? [];
  return {
    version: src.version,
    listen_queue: queues.reduce((a, b) => a + b, 0),
    listen_queue_errors: 0,
    signal_queue: 0,
    load: 0,
    pid: process.pid,
    uid: process.getuid!(),
    gid: process.getgid!(),
    cwd: process.cwd(),
    locks: [],
    sockets: src.sockets.map((s, i) => ({ name: s.addr, proto: s.proto, queue: queues[i] ?? 0, max_queue: s.backlog ?? 0, shared: 0, can_offload: 0 })),
    workers: src.workers().map((w) => {
      const c = w.counters;
      const t = w.total;
      // no heartbeat for a while: its event loop is blocked (in a request
      // begun after its last heartbeat, or between requests), it takes
      // nothing: not the idle, accepting worker its last heartbeat said
      const silent = w.pid !== undefined && w.lastSeen !== undefined && now - w.lastSeen >= SILENT_AFTER_MS;
      return {
        id: w.id,
        pid: w.pid ?? 0,
        accepting: (w.status === 'idle' || w.status === 'busy') && !silent ? 1 : 0, // (not a worker starting, draining or blocked)
        requests: t.requests,
        delta_requests: c.requests,
        exceptions: t.exceptions,
        harakiri_count: w.harakiri,
        signals: 0,
        signal_queue: 0,
        status: workerStatus(w, silent),
        silent_ms: silent ? now - w.lastSeen! : 0,
        rss: rssOf(w.pid),
        vsz: 0,
        running_time: t.rtSumUs,
        last_spawn: Math.floor((w.lastSpawn ?? 0) / 1000),
        respawn_count: w.respawns,
        tx: t.tx,
        avg_rt: t.requests ? Math.round(t.rtSumUs / t.requests) : 0,
        apps: [],
        cores: [{ id: 0, requests: c.requests, in_request: c.busy > 0 ? 1 : 0 }],
        busy: c.busy,
        uptime_ms: w.lastSpawn ? now - w.lastSpawn : 0,
        // (the name of uWSGI's emperor stats) a worker whose event loop is blocked falls behind
        last_heartbeat: Math.floor((w.lastSeen ?? 0) / 1000),
      };
    }),
    // warm spares (liege's own): app loaded, accepting once they take a slot
    spares: (src.spares?.() ?? []).map((s) => ({ pid: s.pid, status: s.status, rss: rssOf(s.pid), uptime_ms: now - s.since })),
    // workers that drain (liege's own): what a reload or a stop waits for
    draining: (src.draining?.() ?? []).map((d) => ({ id: d.id, pid: d.pid, reason: d.reason, draining_ms: now - d.since, busy: d.busy, request: d.request ?? null, rss: rssOf(d.pid) })),
  };
}

/** Missed heartbeats (one a second) before a worker counts as blocked. */
const SILENT_AFTER_MS = 3000;

// uWSGI's words: cheap (no process), busy, idle; a blocked one is busy
function workerStatus(w: WorkerView, silent: boolean): string {
  if (!w.pid) return 'cheap';
  if (silent || w.counters.busy > 0) return 'busy';
  return 'idle';
}

/** The text one connection gets: JSON, optionally minified and behind HTTP headers. */
export function statsText(src: StatsSource, http: boolean, minified: boolean): string {
  const json = JSON.stringify(statsDocument(src), null, minified ? undefined : '\t');
  if (!http) return json;
  return `HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`;
}

const STATS_CLIENT_MS = 5000;

/** The master's voice for its control servers' client caps. */
export const sayAsMaster: Say = (level, fields, msg) => log('master')[level](fields, msg);

/** Serves the stats on `addr` (HOST:PORT or a unix path); resolves once listening. */
export async function startStatsServer(addr: string, src: StatsSource, http: boolean, minified: boolean, fd?: number): Promise<net.Server> {
  const server = net.createServer((c) => {
    c.on('error', () => c.destroy());
    // the master's fds are the instance's: a client that never sends its
    // request (stats-http) or never reads is cut off, and once the answer
    // is handed to the kernel the fd is closed without waiting for the
    // client's own close (a paused reader never sends it)
    c.setTimeout(STATS_CLIENT_MS, () => c.destroy());
    // with stats-http, answer after the request line arrives (curl sends one); else at once
    const answer = () => c.end(statsText(src, http, minified), () => c.destroy());
    if (http) c.once('data', answer);
    else answer();
  });
  capClients(server, 'stats', addr, sayAsMaster);
  await listenOn(server, addr, fd);
  return server;
}

/** listen() on HOST:PORT or a unix path (only a stale socket file is
 * replaced), or on `fd`, the same address's socket kept across a reload. */
export async function listenOn(server: net.Server, addr: string, fd?: number): Promise<void> {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m && fd === undefined) {
    await clearStale(addr);
    // bound here, not by listen(path): libuv would unlink the path when the
    // server closes, and a reload closes it with the socket kept open
    fd = native.listenUnix(addr, 511);
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => { server.off('error', reject); resolve(); };
    if (fd !== undefined) server.listen({ fd }, done);
    else server.listen(Number(m![2]), m![1] === '' || m![1] === '*' ? '0.0.0.0' : m![1], done);
  });
}

/** Close a server of listenOn's; a unix socket's file goes with it. */
export function closeListener(server: net.Server, addr: string): void {
  server.close();
  if (/^(.*):(\d+)$/.test(addr) || addr.startsWith('@')) return;
  try {
    if (fs.lstatSync(addr).isSocket()) fs.unlinkSync(addr);
  } catch { /* gone */ }
}

// Another instance's live stats socket (a copied config) is not taken over;
// the listen() then fails with EADDRINUSE, as on a TCP port in use
async function clearStale(path: string): Promise<void> {
  try {
    if (!fs.lstatSync(path).isSocket()) return;
  } catch {
    return; // nothing there
  }
  if (!(await isLiveUnixSocket(path))) fs.unlinkSync(path);
}
