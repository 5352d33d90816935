// The worker table: one slot per `processes`; a slot holds the worker that
// serves (current), at most one replacement that is starting (next), and old
// workers that drain (retiring). A replacement that accepts takes the slot
// and the old worker drains: reload, chain reload and every recycling reason
// go through replace(). A worker is `node dist/worker/main.js` with the
// listening sockets as fds 4.. and its job in LIEGE_WORKER. Deaths are
// respawned at once, then with an exponential backoff while the slot keeps
// dying early (before serving, or within a second of accepting).
// Warm spares (spare-workers = N): N extra workers with the app loaded whose
// listen() is held (listen-router.ts); a worker that dies (crash, SIGKILL,
// harakiri) or is recycled hands its slot to a spare, which accepts at once,
// and a new spare starts once every slot accepts again. A reload replaces
// the spares (they run the old code). Spares are started only while no slot
// is starting, so they never slow a start, a respawn or a reload.
// A generation's workers (start, reload) start through the boot gate
// (boot-gate.ts): at most one CPU-bound boot per core, so the first ones
// accept after one boot's time instead of all after N/cores.
import { spawn, type ChildProcess } from 'node:child_process';
import type * as net from 'node:net';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { log, logDestinationState } from '../log';
import { native } from '../os/native';
import { watchPid } from '../os/reaper';
import { slotViews, SLOT_BYTES, type BusySlot } from '../ipc/busy-slot';
import { FIRST_SOCKET_FD, WORKER_ENV, type WorkerCounters, type WorkerMessage, type WorkerSpec, type WorkerStats } from '../ipc/worker';
import { SharedPorts } from './shared-ports';
import { BootGate } from './boot-gate';
import { openChannel, type AdoptedWorker } from './generations';
import type { BoundSocket } from './sockets';

export type ProcStatus = 'starting' | 'accepting' | 'draining';

/** One worker process (spawned by this image, or adopted across a reload). */
export interface Proc {
  id: number;
  pid: number;
  child?: ChildProcess;
  channel?: net.Socket;
  status: ProcStatus;
  spawnedAt: number;
  acceptingAt?: number;
  lastSeen: number; // last message (stats heartbeat)
  stats: WorkerStats;
  counters?: WorkerCounters; // last report (control/stats)
  slot?: BusySlot; // shared with the worker: its request in flight (harakiri)
  lastError?: string;
  reason?: string; // why it drains
  killTimer?: NodeJS.Timeout;
  spare?: 'loading' | 'ready'; // a warm spare not yet given a slot (id 0)
}

interface Slot {
  id: number;
  current?: Proc;
  next?: Proc;
  retiring: Set<Proc>;
  respawns: number;
  crashes: number; // consecutive early deaths (backoff)
  lastSpawn: number;
  pending?: NodeJS.Timeout; // a respawn waiting for its backoff
  done: WorkerCounters; // totals of the slot's previous workers
}

/** A read-only view of one worker slot (stats, metrics, top). */
export interface WorkerView {
  id: number;
  pid: number | undefined;
  status: WorkerSnapshot['status'];
  respawns: number;
  lastSpawn: number | undefined;
  counters: WorkerCounters; // the current worker's
  total: WorkerCounters; // the slot's, every worker so far
}

const ZERO: WorkerCounters = { requests: 0, exceptions: 0, busy: 0, rtSumUs: 0, tx: 0, lastRequestMs: 0 };

/** One row per slot, the master's own view (status, rss, pids). */
export interface WorkerSnapshot {
  id: number;
  pid: number | null;
  status: 'starting' | 'idle' | 'busy' | 'draining' | 'down';
  requests: number;
  exceptions: number;
  avg_rt: number; // ms
  rss: number; // bytes
  respawns: number;
  last_spawn: number; // unix seconds
  generation_pids: number[]; // every live process of the slot (new, old draining)
}

export type WorkerEvent =
  | { type: 'fatal'; id: number; detail: string; replacement: boolean }
  | { type: 'accepting'; id: number; pid: number }
  | { type: 'worker-exit'; id: number; pid: number; failedReplacement: boolean }
  | { type: 'stats'; id: number; pid: number };

export interface WorkerOptions {
  mercyMs: number; // drain cap, then SIGKILL
  spares?: number; // spare-workers
  backoffMaxMs: number;
}

const WORKER_MAIN = path.resolve(__dirname, '..', 'worker', 'main.js');
const EARLY_DEATH_MS = 1000;

export class Workers {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly shared = new SharedPorts();
  private readonly spares = new Set<Proc>();
  private spareCrashes = 0; // consecutive spares that died before loading the app
  private spareTimer?: NodeJS.Timeout;
  private readonly gate = new BootGate(() => this.bootingPids());

  constructor(
    count: number,
    private readonly spec: Omit<WorkerSpec, 'id' | 'once'>,
    private readonly sockets: BoundSocket[],
    private readonly opts: WorkerOptions,
    private readonly onEvent: (e: WorkerEvent) => void,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ id: i + 1, retiring: new Set(), respawns: 0, crashes: 0, lastSpawn: 0, done: { ...ZERO } }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Take over workers of the previous image: they serve until replaced. */
  adopt(list: AdoptedWorker[]): void {
    for (const a of list) {
      const slot = this.slots[a.id - 1];
      const p: Proc = { id: a.id, pid: a.pid, status: 'accepting', spawnedAt: a.spawnedAt, acceptingAt: a.spawnedAt, lastSeen: Date.now(), stats: { requests: a.requests, exceptions: 0, avgRtMs: 0, busy: null } };
      if (a.fd !== undefined) p.channel = openChannel(a.fd, (m) => this.onMessage(p, m as WorkerMessage), () => undefined);
      if (slot) {
        slot.respawns = Math.max(slot.respawns, 1);
        slot.current = p;
        slot.lastSpawn = a.spawnedAt;
      }
      // (it may have died during the exec: then this reaps it at once)
      watchPid(a.pid, (code, signal) => this.onExit(p, code, signal));
      // the new config has fewer processes: drain the extra ones
      if (!slot) this.retireProc(p, 'not in the new generation');
    }
  }

  /** Start every empty slot; replace adopted workers (the new generation),
   * unless `keepRunning` (the fallback: the previous generation serves on). */
  spawnAll(reason = 'new generation', keepRunning = false): void {
    const queuedAt = Date.now();
    for (const s of this.slots) {
      this.gate.enqueue(() => {
        if (this.stopping) return;
        if (!s.current) {
          if (!s.pending) this.spawn(s);
        } else if (!keepRunning && s.current.spawnedAt < queuedAt) {
          // (a worker spawned since, a respawn, already runs this generation)
          this.replace(s.id, reason);
        }
      });
    }
  }

  /** The workers of slots that are booting (spawned, not accepting yet). */
  private bootingPids(): number[] {
    return this.slots.flatMap((s) => [s.current, s.next]).flatMap((p) => (p && p.status === 'starting' ? [p.pid] : []));
  }

  /** Every slot's serving worker, oldest first (chain reload order). */
  ids(): number[] {
    return this.slots.map((s) => s.id);
  }

  proc(id: number): Proc | undefined {
    return this.slots[id - 1]?.current;
  }

  /** How many slots have a worker accepting. */
  acceptingCount(): number {
    return this.slots.filter((s) => s.current?.status === 'accepting').length;
  }

  /** True while some slot has a replacement starting, waiting for its
   * backoff after a failure, or an old worker draining. */
  busy(): boolean {
    return this.gate.waiting > 0 || this.slots.some((s) => s.next || s.pending || s.retiring.size > 0 || !s.current || s.current.status !== 'accepting');
  }

  /** True while some slot waits for its backoff after a worker failed to
   * start (a new generation that cannot load the app, a crash loop). */
  retrying(): boolean {
    return this.slots.some((s) => s.pending !== undefined && !s.next);
  }

  /** Graceful replacement of one slot: a new worker starts, the old one
   * drains once it accepts. No-op while a replacement is already starting. */
  replace(id: number, reason: string, fromSpare = false): boolean {
    const s = this.slots[id - 1];
    if (!s || this.stopping || s.next) return false;
    if (!s.current) {
      if (!s.pending && !(fromSpare && this.promote(s, false))) this.spawn(s);
      return true;
    }
    s.current.reason = reason;
    if (!(fromSpare && this.promote(s, true))) this.spawn(s, true);
    return true;
  }

  /** A reload given up after its workers were started (master-start
   * failed): the replacements still starting are killed and none follows;
   * the workers that serve stay (an empty slot gets one). */
  abandonReplacements(why: string): void {
    this.gate.clear();
    for (const s of this.slots) {
      clearTimeout(s.pending);
      s.pending = undefined;
      const p = s.next;
      if (p) {
        s.next = undefined;
        p.status = 'draining';
        p.reason = why;
        s.retiring.add(p);
        signal(p, 'SIGKILL');
      }
      if (!s.current) this.spawn(s);
    }
  }

  /** A reload: the spares run the old code; new ones start once the new
   * generation accepts. */
  dropSpares(reason: string): void {
    clearTimeout(this.spareTimer);
    this.spareTimer = undefined;
    for (const p of this.spares) this.retireProc(p, reason);
  }

  /** The spares, for stats. */
  spareViews(): Array<{ pid: number; status: 'loading' | 'ready'; since: number }> {
    return [...this.spares].filter((p) => p.status !== 'draining').map((p) => ({ pid: p.pid, status: p.spare ?? 'loading', since: p.spawnedAt }));
  }

  /** Give slot `slot` a spare (ready ones first), as its worker or as the
   * replacement of its worker. False when there is none. */
  private promote(slot: Slot, asNext: boolean): boolean {
    const list = [...this.spares].filter((p) => p.status === 'starting');
    const p = list.find((x) => x.spare === 'ready') ?? list[0];
    if (!p) return false;
    this.spares.delete(p);
    const was = p.spare;
    p.spare = undefined;
    p.id = slot.id;
    p.spawnedAt = Date.now(); // its age as a serving worker (lifetime)
    if (asNext) slot.next = p;
    else slot.current = p;
    const once = slot.respawns === 0;
    slot.respawns++;
    slot.lastSpawn = p.spawnedAt;
    log('master').info({ worker: slot.id, pid: p.pid, spare: was }, 'spare worker promoted');
    try {
      p.child?.send({ type: 'activate', id: slot.id, once });
    } catch { /* it died: its exit respawns the slot */ }
    return true;
  }

  /** Start spares up to `spares` while every slot accepts (never beside a
   * worker that is starting: a spare must not slow a start or respawn). */
  private fillSpares(): void {
    const want = this.opts.spares ?? 0;
    if (this.stopping || this.spareTimer || want === 0) return;
    if (!this.slots.every((s) => s.current?.status === 'accepting' && !s.next)) return;
    const live = [...this.spares].filter((p) => p.status !== 'draining').length;
    for (let i = live; i < want; i++) this.spawnSpare();
  }

  private spawnSpare(): void {
    const p = this.start({ ...this.spec, id: 0, once: false, spare: true }, 0);
    if (!p) {
      this.spareCrashes++;
      this.spareLater();
      return;
    }
    p.spare = 'loading';
    this.spares.add(p);
    log('master').info({ pid: p.pid }, 'spare worker spawned');
  }

  /** A spare died before taking a slot: start another, with the backoff. */
  private spareLater(): void {
    if (this.stopping || this.spareTimer) return;
    const delay = this.spareCrashes <= 1 ? 0 : Math.min(this.opts.backoffMaxMs, 100 * 2 ** (this.spareCrashes - 2));
    this.spareTimer = setTimeout(() => {
      this.spareTimer = undefined;
      this.fillSpares();
    }, delay);
  }

  /** Every live process: serving, starting and draining. */
  all(): Proc[] {
    return this.slots.flatMap((s) => [s.current, s.next, ...s.retiring].filter((p): p is Proc => !!p));
  }

  /** SIGKILL a worker now (harakiri, evil-reload-on-rss); its death is
   * respawned like a crash, without counting toward the backoff. */
  kill(p: Proc, why: string): void {
    p.reason = why;
    p.lastError = why;
    signal(p, 'SIGKILL');
  }

  private spawn(slot: Slot, asNext = false): void {
    slot.pending = undefined;
    const p = this.start({ ...this.spec, id: slot.id, once: slot.respawns === 0 }, slot.id, (e) => this.spawnFailed(slot, e, asNext));
    if (!p) return;
    if (asNext) slot.next = p;
    else slot.current = p;
    slot.respawns++;
    slot.lastSpawn = p.spawnedAt;
    log('master').info({ worker: slot.id, pid: p.pid }, 'worker spawned');
  }

  /** Start one worker process; undefined when the spawn failed (then
   * `failed` is called, at once or from the child's error event). */
  private start(job: WorkerSpec, id: number, failed?: (e: NodeJS.ErrnoException) => void): Proc | undefined {
    const now = Date.now();
    // only harakiri reads the slot: no memfd and mapping per worker without it
    const shared = job.harakiri ? busySlot() : undefined;
    if (shared) job.slotFd = FIRST_SOCKET_FD + this.sockets.length;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [WORKER_MAIN], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...this.sockets.map((s) => s.fd), ...(shared ? [shared.fd] : [])],
        env: { ...process.env, NOTIFY_SOCKET: undefined, WATCHDOG_USEC: undefined, WATCHDOG_PID: undefined, [WORKER_ENV]: JSON.stringify(job) },
      });
    } catch (e) {
      failed?.(e as NodeJS.ErrnoException);
      return undefined;
    } finally {
      if (shared) native.closeFd(shared.fd);
    }
    if (child.pid === undefined) {
      child.once('error', (e) => failed?.(e as NodeJS.ErrnoException));
      return undefined;
    }
    const p: Proc = { id, pid: child.pid, child, status: 'starting', spawnedAt: now, lastSeen: now, stats: { requests: 0, exceptions: 0, avgRtMs: 0, busy: null }, slot: shared?.slot };
    child.on('error', (e) => log('master').warn({ worker: p.id, pid: child.pid, code: (e as NodeJS.ErrnoException).code }, `worker process error: ${e.message}`));
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'listen') return this.shared.answer(child, m);
      this.onMessage(p, m);
    });
    child.on('exit', (code, sig) => this.onExit(p, code, sig));
    return p;
  }

  private spawnFailed(slot: Slot, e: NodeJS.ErrnoException, asNext: boolean): void {
    slot.crashes++;
    const delay = this.backoff(slot);
    log('master').error({ worker: slot.id, code: e.code ?? 'LIEGE_ERR_SYSCALL', retryMs: delay }, `unable to spawn a worker: ${e.message}`);
    this.later(slot, delay, asNext);
  }

  private later(slot: Slot, delay: number, asNext: boolean): void {
    if (this.stopping || slot.pending) return;
    slot.pending = setTimeout(() => {
      slot.pending = undefined;
      if (this.stopping) return;
      if (asNext && slot.current) this.replace(slot.id, slot.current.reason ?? 'retry');
      else if (!slot.current) this.spawn(slot);
    }, delay);
  }

  private backoff(slot: Slot): number {
    if (slot.crashes <= 1) return 0;
    return Math.min(this.opts.backoffMaxMs, 100 * 2 ** (slot.crashes - 2));
  }

  private onMessage(p: Proc, m: WorkerMessage): void {
    p.lastSeen = Date.now();
    const slot = this.slots[p.id - 1];
    if (m.type === 'counters') {
      p.counters = m;
    } else if (m.type === 'stats') {
      p.stats = m.stats;
      this.onEvent({ type: 'stats', id: p.id, pid: p.pid });
    } else if (m.type === 'app-error') {
      p.stats.exceptions++;
      p.lastError = m.message;
      if (m.when === 'load') log('master').error({ code: 'LIEGE_ERR_APP_LOAD', worker: p.id, pid: p.pid, file: m.file }, `the app failed to load: ${m.message}`);
      // a worker that served a while drains after an uncaught exception:
      // its replacement starts now (an early one is a crash loop: it exits
      // and is respawned with the backoff)
      const healthy = p.acceptingAt !== undefined && Date.now() - p.acceptingAt >= EARLY_DEATH_MS;
      if (m.when === 'serving' && slot?.current === p && !slot.next && p.status === 'accepting' && healthy && !this.stopping) {
        log('master').warn({ worker: p.id, pid: p.pid, error: m.message }, 'worker ends after an uncaught exception: replacing it while it drains');
        this.replace(p.id, 'uncaught exception in the app', true);
      }
    } else if (m.type === 'log-state') {
      logDestinationState(m.error, { worker: p.id });
    } else if (m.type === 'fatal') {
      this.onEvent({ type: 'fatal', id: p.id, detail: m.detail, replacement: !!slot && slot.next === p });
    } else if (m.type === 'spare-ready') {
      if (p.spare === 'loading') p.spare = 'ready';
      this.spareCrashes = 0;
      log('master').info({ pid: p.pid }, 'spare worker ready');
    } else if (m.type === 'accepting') {
      p.status = 'accepting';
      p.acceptingAt = Date.now();
      if (slot && slot.next === p) {
        const old = slot.current;
        slot.current = p;
        slot.next = undefined;
        if (old) this.retireProc(old, old.reason ?? 'replaced', slot);
      }
      this.onEvent({ type: 'accepting', id: p.id, pid: p.pid });
      this.gate.pump();
      this.fillSpares();
    }
  }

  /** Drain `p` (SIGTERM: the worker owns the drain), SIGKILL after mercy. */
  private retireProc(p: Proc, reason: string, slot?: Slot): void {
    p.status = 'draining';
    p.reason = reason;
    slot?.retiring.add(p);
    log('master').info({ worker: p.id, pid: p.pid, reason }, 'worker draining');
    signal(p, 'SIGTERM');
    p.killTimer = setTimeout(() => signal(p, 'SIGKILL'), this.opts.mercyMs + 1000);
    p.killTimer.unref();
  }

  private onExit(p: Proc, code: number | null, sig: NodeJS.Signals | null): void {
    clearTimeout(p.killTimer);
    p.channel?.destroy();
    if (this.spares.delete(p)) return this.spareExit(p, code, sig);
    const slot = this.slots[p.id - 1];
    if (!slot) return;
    // a slot's totals survive its workers (stats: requests since start)
    if (p.counters) for (const k of ['requests', 'exceptions', 'rtSumUs', 'tx'] as const) slot.done[k] += p.counters[k];
    if (slot.retiring.delete(p)) {
      log('master').info({ worker: p.id, pid: p.pid, code, signal: sig, reason: p.reason, last_error: p.lastError }, 'old worker gone');
      this.onEvent({ type: 'worker-exit', id: p.id, pid: p.pid, failedReplacement: false });
      return;
    }
    const wasNext = slot.next === p;
    if (wasNext) slot.next = undefined;
    if (slot.current === p) slot.current = undefined;
    if (this.stopping) return;
    this.gate.pump();
    const lived = Date.now() - p.spawnedAt;
    // a crash loop: deaths before serving or within a second of accepting
    // (uWSGI's fork-bomb guard has the same window); a worker that served
    // longer (then SIGKILLed, OOM-killed …) is respawned at once
    const healthy = p.acceptingAt !== undefined && Date.now() - p.acceptingAt >= EARLY_DEATH_MS;
    const killedByUs = p.reason !== undefined && sig === 'SIGKILL';
    if (healthy || killedByUs) slot.crashes = killedByUs ? slot.crashes : 0;
    else slot.crashes++;
    const delay = this.backoff(slot);
    const fields = { worker: p.id, pid: p.pid, code, signal: sig, lived_ms: lived, last_error: p.lastError, reason: killedByUs ? p.reason : undefined, respawn_in_ms: delay };
    if (wasNext) log('master').error(fields, 'replacement worker died before accepting; the old one keeps serving');
    else log('master').warn(fields, 'worker died, respawning');
    this.onEvent({ type: 'worker-exit', id: p.id, pid: p.pid, failedReplacement: wasNext });
    if (wasNext && slot.current) this.later(slot, Math.max(delay, 100), true);
    else if (!slot.current && slot.next) { /* the replacement takes the slot when it accepts */ }
    else if (delay === 0) {
      if (!this.promote(slot, false)) this.spawn(slot);
    } else this.later(slot, delay, false);
  }

  private spareExit(p: Proc, code: number | null, sig: NodeJS.Signals | null): void {
    if (p.status === 'draining') {
      log('master').info({ pid: p.pid, code, signal: sig, reason: p.reason }, 'old spare worker gone');
      return;
    }
    if (this.stopping) return;
    if (p.spare !== 'ready') this.spareCrashes++;
    log('master').warn({ pid: p.pid, code, signal: sig, lived_ms: Date.now() - p.spawnedAt, last_error: p.lastError }, 'spare worker died');
    this.spareLater();
  }

  /** For a handover: the workers that serve now, with their channel fd.
   * Replacements still starting are killed (the next image starts its own);
   * draining ones finish on their own mercy and are reaped as orphans. */
  handover(): AdoptedWorker[] {
    const out: AdoptedWorker[] = [];
    this.stopping = true;
    this.gate.clear();
    clearTimeout(this.spareTimer);
    for (const p of this.spares) signal(p, 'SIGKILL');
    for (const s of this.slots) {
      clearTimeout(s.pending);
      if (s.next) signal(s.next, 'SIGKILL');
      const p = s.current;
      if (!p || p.status === 'draining') continue;
      const fd = (p.child?.channel as unknown as { fd?: number } | undefined)?.fd ?? (p.channel as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
      out.push({ id: p.id, pid: p.pid, fd: fd !== undefined && fd >= 0 ? fd : undefined, spawnedAt: p.spawnedAt, requests: p.stats.requests });
    }
    return out;
  }

  /** Stop everything: SIGTERM (drain) or SIGKILL; wait for every process. */
  async stopAll(graceful: boolean, mercyMs = this.opts.mercyMs): Promise<void> {
    this.stopping = true;
    this.gate.clear();
    clearTimeout(this.spareTimer);
    const all = this.slots.flatMap((s) => {
      clearTimeout(s.pending);
      return [s.current, s.next, ...s.retiring].filter((p): p is Proc => !!p);
    }).concat([...this.spares]);
    await Promise.all(all.map((p) => new Promise<void>((resolve) => {
      if (!exists(p.pid)) return resolve();
      const t = setInterval(() => { if (!exists(p.pid)) { clearInterval(t); resolve(); } }, 50);
      p.child?.once('exit', () => { clearInterval(t); resolve(); });
      setTimeout(() => {
        if (!exists(p.pid)) return;
        if (graceful) log('master').warn({ worker: p.id, pid: p.pid, mercy_ms: mercyMs }, 'worker still running when the stop mercy (reload-mercy) expired: SIGKILL');
        signal(p, 'SIGKILL');
      }, mercyMs).unref();
      signal(p, graceful ? 'SIGTERM' : 'SIGKILL');
    })));
  }

  /** Replace every worker: graceful (a replacement accepts, then the old
   * one drains) or brutal (SIGKILL, respawned). */
  recycleAll(brutal: boolean): void {
    for (const s of this.slots) {
      if (brutal && s.current) this.kill(s.current, 'brutal workers reload');
      else this.replace(s.id, 'workers reload');
    }
  }

  /** A read-only view of the slots for stats, metrics and top. */
  snapshot(): WorkerView[] {
    return this.slots.map((s) => {
      const p = s.current ?? s.next;
      const c = p?.counters ?? ZERO;
      const total = { ...c, requests: c.requests + s.done.requests, exceptions: c.exceptions + s.done.exceptions, rtSumUs: c.rtSumUs + s.done.rtSumUs, tx: c.tx + s.done.tx };
      return { id: s.id, pid: p?.pid, status: statusOf(p), respawns: s.respawns, lastSpawn: s.lastSpawn || undefined, counters: { ...c }, total };
    });
  }

  /** The master's own view: status, RSS, every process of each slot. */
  table(): WorkerSnapshot[] {
    return this.slots.map((s) => {
      const p = s.current ?? s.next;
      const status = statusOf(p);
      return {
        id: s.id,
        pid: p?.pid ?? null,
        status,
        requests: p?.stats.requests ?? 0,
        exceptions: p?.stats.exceptions ?? 0,
        avg_rt: Math.round((p?.stats.avgRtMs ?? 0) * 1000) / 1000,
        rss: p ? rssOf(p) : 0,
        respawns: Math.max(0, s.respawns - 1),
        last_spawn: Math.floor(s.lastSpawn / 1000),
        generation_pids: [s.current, s.next, ...s.retiring].filter((x): x is Proc => !!x).map((x) => x.pid),
      };
    });
  }
}

/** A busy slot for a new worker (memfd + mapping); none if the kernel refuses
 * (harakiri then sees a blocked worker by its missing heartbeat only). */
function busySlot(): { fd: number; slot: BusySlot } | undefined {
  try {
    const [fd, buf] = native.shmCreate(SLOT_BYTES);
    return { fd, slot: slotViews(buf) };
  } catch (e) {
    log('master').warn({ code: (e as NodeJS.ErrnoException).code }, `unable to create a busy slot for harakiri: ${(e as Error).message}`);
    return undefined;
  }
}

function statusOf(p: Proc | undefined): WorkerSnapshot['status'] {
  if (!p) return 'down';
  if (p.status === 'starting' || p.status === 'draining') return p.status;
  return p.stats.busy || (p.counters?.busy ?? 0) > 0 ? 'busy' : 'idle';
}

function signal(p: Proc, sig: NodeJS.Signals): void {
  try {
    process.kill(p.pid, sig);
  } catch { /* gone */ }
}

/** The pid still exists, a zombie included: a stop waits until its worker
 * is reaped (by libuv, or by the reaper for an adopted one), so the master
 * never exits leaving a zombie for init. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** RSS in bytes from /proc (the master's view, valid for a stuck worker). */
export function rssOf(p: Proc): number {
  try {
    const pages = Number(fs.readFileSync(`/proc/${p.pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return p.stats.rss ?? 0;
  }
}
