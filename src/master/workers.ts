// The worker table: spawn, reap, respawn and stop the worker processes.
// A worker is `node dist/worker/main.js` with the listening sockets as fds
// 4.. and its job in LIEGE_WORKER. A slot that dies is respawned (at most
// `processes` times a second, then the master waits 2 s: uWSGI's
// forkbomb-delay); a worker reporting a fatal hook ends the instance.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { log } from '../log';
import { exited } from '../os/child-exit';
import { FIRST_SOCKET_FD, WORKER_ENV, type WorkerMessage, type WorkerSpec } from '../ipc/worker';
import type { WorkerCounters } from '../ipc/worker';
import { SharedPorts } from './shared-ports';
import type { BoundSocket } from './sockets';

interface Slot {
  id: number;
  child?: ChildProcess;
  respawns: number;
  lastSpawn?: number; // epoch ms
  counters?: WorkerCounters; // last report of the current worker
  done: WorkerCounters; // totals of the slot's previous workers
}

/** A read-only view of one worker slot (stats, metrics, top). */
export interface WorkerView {
  id: number;
  pid: number | undefined;
  respawns: number;
  lastSpawn: number | undefined;
  counters: WorkerCounters; // the current worker's
  total: WorkerCounters; // the slot's, every worker so far
}

const ZERO: WorkerCounters = { requests: 0, exceptions: 0, busy: 0, rtSumUs: 0, tx: 0, lastRequestMs: 0 };

export type WorkerEvent = { type: 'fatal'; id: number; detail: string } | { type: 'accepting'; id: number };

const WORKER_MAIN = path.resolve(__dirname, '..', 'worker', 'main.js');

export class Workers {
  private readonly slots: Slot[];
  private recentSpawns: number[] = [];
  private stopping = false;
  private readonly shared = new SharedPorts();

  constructor(
    count: number,
    private readonly spec: Omit<WorkerSpec, 'id' | 'once'>,
    private readonly sockets: BoundSocket[],
    private readonly onEvent: (e: WorkerEvent) => void,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ id: i + 1, respawns: 0, done: { ...ZERO } }));
  }

  spawnAll(): void {
    for (const s of this.slots) this.spawn(s);
  }

  private spawn(slot: Slot): void {
    const job: WorkerSpec = { ...this.spec, id: slot.id, once: slot.respawns === 0 };
    const child = spawn(process.execPath, [WORKER_MAIN], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...this.sockets.map((s) => s.fd)],
      env: { ...process.env, NOTIFY_SOCKET: undefined, [WORKER_ENV]: JSON.stringify(job) },
    });
    slot.child = child;
    slot.respawns++;
    slot.lastSpawn = Date.now();
    this.retire(slot);
    this.recentSpawns.push(Date.now());
    log('master').info({ worker: slot.id, pid: child.pid }, 'worker spawned');
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'listen') return this.shared.answer(child, m);
      if (m.type === 'counters') {
        if (slot.child === child) slot.counters = m;
        return;
      }
      this.onEvent(m.type === 'fatal' ? { type: 'fatal', id: slot.id, detail: m.detail } : { type: 'accepting', id: slot.id });
    });
    child.on('exit', (code, signal) => {
      if (slot.child === child) slot.child = undefined;
      if (this.stopping) return;
      log('master').warn({ worker: slot.id, pid: child.pid, code, signal }, 'worker died, respawning');
      this.respawnLater(slot);
    });
  }

  // a slot's totals survive its workers (stats: requests since start)
  private retire(slot: Slot): void {
    const c = slot.counters;
    if (!c) return;
    for (const k of ['requests', 'exceptions', 'rtSumUs', 'tx'] as const) slot.done[k] += c[k];
    slot.counters = undefined;
  }

  /** Replace every worker: SIGTERM (the worker drains, then is respawned) or SIGKILL. */
  recycleAll(brutal: boolean): void {
    for (const s of this.slots) s.child?.kill(brutal ? 'SIGKILL' : 'SIGTERM');
  }

  /** A read-only view of the slots for stats, metrics and top. */
  snapshot(): WorkerView[] {
    return this.slots.map((s) => {
      const c = s.counters ?? ZERO;
      const total = { ...c, requests: c.requests + s.done.requests, exceptions: c.exceptions + s.done.exceptions, rtSumUs: c.rtSumUs + s.done.rtSumUs, tx: c.tx + s.done.tx };
      return { id: s.id, pid: s.child?.pid, respawns: s.respawns, lastSpawn: s.lastSpawn, counters: { ...c }, total };
    });
  }

  private respawnLater(slot: Slot): void {
    const now = Date.now();
    this.recentSpawns = this.recentSpawns.filter((t) => now - t < 1000);
    const delay = this.recentSpawns.length > this.slots.length ? 2000 : 0;
    setTimeout(() => { if (!this.stopping) this.spawn(slot); }, delay);
  }

  /** SIGTERM (graceful: finish in-flight requests) or SIGKILL; wait for all. */
  async stopAll(graceful: boolean, mercyMs = 60_000): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map(({ child }) => {
      const gone = exited(child, mercyMs, () => child!.kill('SIGKILL'));
      child?.kill(graceful ? 'SIGTERM' : 'SIGKILL');
      return gone;
    }));
  }
}
