// Warm spares (spare-workers = N): N extra workers with the app loaded whose
// listen() is held (listen-router.ts); a worker that dies (crash, SIGKILL,
// harakiri) or is recycled hands its slot to a spare, which accepts at once,
// and a new spare starts once every slot accepts again. A reload replaces
// the spares (they run the old code). Spares are started only while no slot
// is starting, so they never slow a start, a respawn or a reload.
// A ready spare sends a heartbeat every second: one silent for STUCK_MS
// (SIGSTOP, a blocked event loop) is SIGKILLed and replaced, and a promotion
// skips one not heard from within RECENT_MS (it would hold the slot, not
// accepting, until the start timeout).
import { log } from '../log';
import { creditStall } from './stall';
import { backoffMs, drain, signal, type Proc } from './worker-process';

/** A ready spare silent this long is stuck: replaced. */
const STUCK_MS = 5000;
/** A promotion takes only a ready spare heard from within this. */
const RECENT_MS = 2500;

export interface SpareOptions {
  want: number; // spare-workers
  backoffMaxMs: number;
  mercyMs: number; // drain cap, then SIGKILL
  startTimeoutMs?: number; // a spare not ready by then has a load that hangs: replaced
  start: () => Proc | undefined; // one spare process (id 0)
  slotsAccept: () => boolean; // every slot accepts and none is starting
}

/** A spare as stats show it. */
export interface SpareView {
  pid: number;
  status: 'loading' | 'ready';
  since: number;
}

export class Spares {
  private readonly procs = new Set<Proc>();
  private crashes = 0; // consecutive spares that died before loading the app
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private held = false; // a workers or chain reload runs: new spares after it

  constructor(private readonly opts: SpareOptions) {}

  /** Start spares up to `want` while every slot accepts (never beside a
   * worker that is starting: a spare must not slow a start or respawn). */
  fill(): void {
    if (this.stopping || this.held || this.timer || this.opts.want === 0) return;
    if (!this.opts.slotsAccept()) return;
    const live = [...this.procs].filter((p) => p.status !== 'draining').length;
    // one failed start is one crash: the rest wait for the backoff's retry
    for (let i = live; i < this.opts.want; i++) if (!this.spawn()) return;
  }

  /** Take a spare (ready ones first) for slot `id`, told to accept now;
   * undefined when there is none. */
  promote(id: number, once: boolean): Proc | undefined {
    const now = Date.now();
    for (const x of this.procs) {
      if (x.status === 'starting' && x.spare === 'ready' && now - x.lastSeen > RECENT_MS) this.replaceStuck(x, `not heard from for ${Math.round((now - x.lastSeen) / 1000)} s when a slot needed it`);
    }
    const list = [...this.procs].filter((p) => p.status === 'starting');
    const p = list.find((x) => x.spare === 'ready') ?? list[0];
    if (!p) return undefined;
    this.procs.delete(p);
    const was = p.spare;
    p.spare = undefined;
    p.promoted = was === 'ready'; // (a loading one sends no heartbeat yet)
    p.id = id;
    p.spawnedAt = Date.now(); // its age as a serving worker (lifetime)
    log('master').info({ worker: id, pid: p.pid, spare: was }, 'spare worker promoted');
    try {
      p.child?.send({ type: 'activate', id, once });
    } catch { /* it died: its exit respawns the slot */ }
    return p;
  }

  /** A spare loaded the app and holds its listen(). */
  ready(p: Proc): void {
    if (p.spare === 'loading') p.spare = 'ready';
    this.crashes = 0;
    log('master').info({ pid: p.pid }, 'spare worker ready');
  }

  /** The exit of `p` if it is a spare (true), then another one starts. */
  exited(p: Proc, code: number | null, sig: NodeJS.Signals | null): boolean {
    if (!this.procs.delete(p)) return false;
    if (p.status === 'draining') {
      log('master').info({ pid: p.pid, code, signal: sig, reason: p.reason }, 'old spare worker gone');
      return true;
    }
    if (this.stopping) return true;
    if (p.spare !== 'ready') this.crashes++;
    log('master').warn({ pid: p.pid, code, signal: sig, lived_ms: Date.now() - p.spawnedAt, last_error: p.lastError }, 'spare worker died');
    this.later();
    return true;
  }

  /** Each second: a ready spare silent for STUCK_MS, or one still loading
   * at the start timeout, is replaced (`lateMs`: how long the master itself
   * did not run, credited to the heartbeats as for workers: stall.ts). */
  check(now: number, lateMs: number): void {
    creditStall(this.procs, lateMs, now);
    for (const p of this.procs) {
      if (p.status !== 'starting') continue;
      const timeout = this.opts.startTimeoutMs ?? 0;
      if (p.spare === 'ready' && now - p.lastSeen > STUCK_MS) this.replaceStuck(p, `silent for ${Math.round((now - p.lastSeen) / 1000)} s (stopped, or its event loop blocked)`);
      else if (p.spare === 'loading' && timeout > 0 && now - p.spawnedAt > timeout) this.replaceStuck(p, `its app did not load in ${Math.round(timeout / 1000)} s`);
    }
  }

  /** SIGKILL a stuck spare (SIGKILL ends a stopped process too); another
   * starts at once when every slot accepts, else when they do. */
  private replaceStuck(p: Proc, why: string): void {
    log('master').warn({ pid: p.pid, spare: p.spare }, `spare worker not responding: ${why}: replacing it`);
    p.status = 'draining';
    p.reason = 'spare not responding';
    p.killed = true;
    signal(p, 'SIGKILL');
    this.fill();
  }

  /** A reload: the spares run the old code; new ones start once the new
   * generation accepts (`hold`: once resume() is called). */
  drop(reason: string, hold: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = hold;
    for (const p of this.procs) drain(p, reason, this.opts.mercyMs);
  }

  /** The reload that dropped the spares is done: new ones start. (Between
   * two steps of a chain every slot accepts, but a spare started then
   * would boot beside the next step's replacement.) */
  resume(): void {
    this.held = false;
    this.fill();
  }

  /** No more spares (stop, handover): the live ones, for the caller to end. */
  stop(): Proc[] {
    this.stopping = true;
    clearTimeout(this.timer);
    return [...this.procs];
  }

  /** The live spares. */
  all(): Proc[] {
    return [...this.procs];
  }

  /** The spares, for stats. */
  views(): SpareView[] {
    return [...this.procs].filter((p) => p.status !== 'draining').map((p) => ({ pid: p.pid, status: p.spare ?? 'loading', since: p.spawnedAt }));
  }

  private spawn(): boolean {
    const p = this.opts.start();
    if (!p) {
      this.crashes++;
      this.later();
      return false;
    }
    p.spare = 'loading';
    this.procs.add(p);
    log('master').info({ pid: p.pid }, 'spare worker spawned');
    return true;
  }

  /** A spare died before taking a slot: start another, with the backoff. */
  private later(): void {
    if (this.stopping || this.timer) return;
    const delay = backoffMs(this.crashes, this.opts.backoffMaxMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fill();
    }, delay);
  }
}
