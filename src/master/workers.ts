// The worker table: one slot per `processes`; a slot holds the worker that
// serves (current), at most one replacement that is starting (next), and old
// workers that drain (retiring). A replacement that accepts takes the slot
// and the old worker drains: reload, chain reload and every recycling reason
// go through replace(). Deaths are respawned at once, then with an
// exponential backoff while the slot keeps dying early (before serving, or
// within a second of accepting). A slot that loses its worker takes a warm
// spare when there is one (spares.ts). A worker process itself (its start,
// signals, stop, /proc) is worker-process.ts; whether its death is a crash,
// and its line, worker-deaths.ts; the slots as stats sees them,
// worker-views.ts; a worker handed across a reload's exec, worker-handover.ts.
// A generation's workers (start, reload) start through the boot gate
// (boot-gate.ts): at most one CPU-bound boot per core, so the first ones
// accept after one boot's time instead of all after N/cores.
import { log, logDestinationState } from '../log';
import { watchPid } from '../os/reaper';
import type { WorkerMessage, WorkerSpec } from '../ipc/worker';
import { AcceptHolds } from './accept-holds';
import { BootGate } from './boot-gate';
import { openChannel, type AdoptedWorker } from './generations';
import { adoptOutput } from './log-relay';
import type { BoundSocket } from './sockets';
import { reloadStep, type ReloadStep } from './reload-steps';
import type { SharedPort } from './shared-ports';
import { heardFrom } from './silence';
import { Spares, type SpareView } from './spares';
import { countDeath, sayDeath, servedLong, spawnWhy, UNCAUGHT } from './worker-deaths';
import { adoptedMessages, adoptedProc, handedOver } from './worker-handover';
import { armDrainMercy, backoffMs, drain, exists, Launcher, lostChannel, signal, stopProc, type Proc } from './worker-process';
import { drainingView, plus, slotView, ZERO, type DrainingView, type SlotRecord, type WorkerView } from './worker-views';

interface Slot extends SlotRecord {
  retiring: Set<Proc>;
  crashes: number; // consecutive early deaths (backoff)
  pending?: NodeJS.Timeout; // a respawn waiting for its backoff
}

export type WorkerEvent =
  | { type: 'fatal'; id: number; detail: string; replacement: boolean }
  | { type: 'accepting'; id: number; pid: number }
  | { type: 'worker-exit'; id: number; pid: number; failedReplacement: boolean }
  | { type: 'app-load-failed'; id: number; pid: number; replacement: boolean; serial: number; error: string }
  | { type: 'stats'; id: number; pid: number }
  | { type: 'signalled'; id: number; pid: number; signal: NodeJS.Signals; from: number; at: number }; // at: when the worker got it

export interface WorkerOptions {
  mercyMs: number; // drain cap, then SIGKILL
  spares?: number; // spare-workers
  backoffMaxMs: number;
  startTimeoutMs?: number; // a spare whose app load hangs is replaced
}

const SHARED_GRACE_MS = 5000;

export class Workers {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly launcher: Launcher;
  private readonly spares: Spares;
  private readonly gate = new BootGate(() => this.bootingPids());
  private readonly holds = new AcceptHolds();
  // the previous image's workers still alive: the shared ports the new
  // generation does not listen on close once they are gone (shared-ports.ts)
  private readonly adopted = new Set<Proc>();
  private sharedAdopted = false;
  // old workers draining without a slot in this generation (it has fewer
  // processes): watched, waited for and said gone as a slot's retiring ones
  private readonly unslotted = new Set<Proc>();

  constructor(
    count: number,
    private readonly spec: Omit<WorkerSpec, 'id' | 'once'>,
    sockets: BoundSocket[],
    private readonly opts: WorkerOptions,
    private readonly onEvent: (e: WorkerEvent) => void,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ id: i + 1, retiring: new Set(), respawns: 0, harakiri: 0, crashes: 0, lastSpawn: 0, done: { ...ZERO } }));
    this.launcher = new Launcher(sockets, { message: (p, m) => this.onMessage(p, m), exit: (p, code, sig) => this.onExit(p, code, sig) });
    this.spares = new Spares({
      want: opts.spares ?? 0,
      backoffMaxMs: opts.backoffMaxMs,
      mercyMs: opts.mercyMs,
      startTimeoutMs: opts.startTimeoutMs,
      start: () => this.launcher.start({ ...this.spec, id: 0, once: false, spare: true }, 0),
      slotsAccept: () => this.gate.waiting === 0 && this.slots.every((s) => s.current?.status === 'accepting' && !s.next),
    });
  }

  /** Take over workers of the previous image: they serve until replaced;
   * and its shared ports, answered from instead of bound again. */
  adopt(list: AdoptedWorker[], shared: SharedPort[] = []): void {
    this.launcher.shared.adopt(shared);
    this.sharedAdopted = shared.length > 0;
    for (const a of list) {
      const slot = this.slots[a.id - 1];
      const p = adoptedProc(a);
      if (a.fd !== undefined) p.channel = openChannel(a.fd, adoptedMessages((m) => this.onMessage(p, m)), () => lostChannel(p));
      if (a.out) p.output = adoptOutput(p, a.out);
      this.adopted.add(p);
      if (a.draining) {
        // (the previous image told it to drain: it finishes here, under
        // harakiri and its mercy, and a reload or a stop waits for it)
        p.status = 'draining';
        p.reason = a.draining.reason;
        p.drainingSince = a.draining.since;
        (slot?.retiring ?? this.unslotted).add(p);
        armDrainMercy(p, this.opts.mercyMs);
      } else if (slot) {
        slot.respawns = Math.max(slot.respawns, 1);
        slot.current = p;
        slot.lastSpawn = a.spawnedAt;
      }
      // (it may have died during the exec: then this reaps it at once)
      watchPid(a.pid, (code, signal) => this.onExit(p, code, signal));
      // the new config has fewer processes: drain the extra ones
      if (!slot && !a.draining) this.retireProc(p, 'not in the new generation');
    }
  }

  /** Start every empty slot; replace adopted workers (the new generation),
   * unless `keepRunning` (the fallback: the previous generation serves on). */
  spawnAll(reason = 'new generation', keepRunning = false): void {
    for (const s of this.slots) {
      this.gate.enqueue(() => {
        if (this.stopping) return;
        if (!s.current) {
          if (!s.pending) this.spawn(s);
        } else if (!keepRunning && s.current.serial === undefined) {
          // only the previous image's: a worker this image started (a
          // respawn, one of an adopted worker that died at the exec) already
          // runs this generation
          this.replace(s.id, reason);
        }
      });
    }
  }

  /** The workers of slots that are booting (spawned, not accepting yet). */
  private bootingPids(): number[] {
    return this.slots.flatMap((s) => [s.current, s.next]).flatMap((p) => (p && p.status === 'starting' ? [p.pid] : []));
  }

  /** Every slot's id, in order (the chain reload order). */
  ids(): number[] {
    return this.slots.map((s) => s.id);
  }

  /** How many workers were started so far: a reload asked now replaces
   * the workers started up to this mark (reload-steps.ts). */
  mark(): number {
    return this.launcher.started;
  }

  /** What a workers or chain reload asked at `mark` does with slot `id` now. */
  reloadStep(id: number, mark: number): ReloadStep {
    const s = this.slots[id - 1];
    if (!s) return 'done';
    return reloadStep({ current: s.current, next: s.next, pending: s.pending !== undefined }, mark);
  }

  /** The worker that serves slot `id`. */
  proc(id: number): Proc | undefined {
    return this.slots[id - 1]?.current;
  }

  /** How many slots have a worker accepting. */
  acceptingCount(): number {
    return this.acceptingProcs().length;
  }

  private acceptingProcs(): Proc[] {
    return this.slots.flatMap((s) => (s.current?.status === 'accepting' ? [s.current] : []));
  }

  /** True while some slot has a replacement starting, waiting for its
   * backoff after a failure, or an old worker draining. */
  busy(): boolean {
    if (this.gate.waiting > 0 || this.unslotted.size > 0) return true;
    return this.slots.some((s) => s.next || s.pending || s.retiring.size > 0 || s.current?.status !== 'accepting');
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
  dropSpares(reason: string, hold = false): void {
    this.spares.drop(reason, hold);
  }

  /** The workers or chain reload that dropped the spares is done. */
  resumeSpares(): void {
    this.spares.resume();
  }

  /** The master's tick: replace a spare that stopped answering. */
  checkSpares(now: number, lateMs: number): void {
    this.spares.check(now, lateMs);
  }

  /** The workers that drain (an old generation's, a recycled one): what
   * holds a reload or a stop, for stats and top. */
  drainingViews(): DrainingView[] {
    const out: DrainingView[] = [];
    for (const s of [...this.slots, { retiring: this.unslotted }]) {
      for (const p of procsOf(s)) {
        if (p.status === 'draining') out.push(drainingView(p));
      }
    }
    return out;
  }

  /** The spares, for stats. */
  spareViews(): SpareView[] {
    return this.spares.views();
  }

  /** Every live process: serving, starting and draining. */
  all(): Proc[] {
    return [...this.slots.flatMap(procsOf), ...this.unslotted];
  }

  /** SIGKILL a worker now (harakiri, evil-reload-on-rss); its death is
   * respawned like a crash, without counting toward the backoff. */
  kill(p: Proc, why: string): void {
    const slot = this.slots[p.id - 1];
    if (slot && why.startsWith('harakiri')) slot.harakiri++;
    p.reason = why;
    p.lastError = why;
    p.killed = true;
    signal(p, 'SIGKILL');
  }

  /** Send the worker of pid `pid` (serving, starting, draining or a spare)
   * `sig` from the master; false when no such worker lives. */
  passOn(pid: number, sig: NodeJS.Signals): boolean {
    const p = this.all().concat(this.spares.all()).find((q) => q.pid === pid);
    if (!p || !exists(pid)) return false;
    signal(p, sig);
    return true;
  }

  /** Give slot `slot` a spare, as its worker or as the replacement of its
   * worker. False when there is none. */
  private promote(slot: Slot, asNext: boolean): boolean {
    const p = this.spares.promote(slot.id, slot.respawns === 0);
    if (!p) return false;
    clearTimeout(slot.pending);
    slot.pending = undefined;
    this.seat(slot, p, asNext);
    return true;
  }

  private spawn(slot: Slot, asNext = false): void {
    // a retry still armed (an earlier replacement died early) would replace
    // the worker started now
    clearTimeout(slot.pending);
    slot.pending = undefined;
    const p = this.launcher.start({ ...this.spec, id: slot.id, once: slot.respawns === 0 }, slot.id, (e) => this.spawnFailed(slot, e, asNext));
    if (!p) return;
    this.seat(slot, p, asNext);
    log('master').info({ worker: slot.id, pid: p.pid }, 'worker spawned');
  }

  /** `p` becomes the slot's worker, or the replacement of its worker. */
  private seat(slot: Slot, p: Proc, asNext: boolean): void {
    p.replacing = asNext;
    if (asNext) slot.next = p;
    else slot.current = p;
    slot.respawns++;
    slot.lastSpawn = p.spawnedAt;
  }

  private spawnFailed(slot: Slot, e: NodeJS.ErrnoException, asNext: boolean): void {
    slot.crashes++;
    const delay = this.backoff(slot);
    log('master').error({ worker: slot.id, code: e.code ?? 'LIEGE_ERR_SYSCALL', retryMs: delay }, `unable to spawn a worker: ${spawnWhy(e, this.spec.cwd)}`);
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
    return backoffMs(slot.crashes, this.opts.backoffMaxMs);
  }

  private onMessage(p: Proc, m: WorkerMessage): void {
    p.lastSeen = Date.now();
    heardFrom(p, p.lastSeen);
    const slot = this.slots[p.id - 1];
    if (m.type === 'counters') {
      p.counters = m;
    } else if (m.type === 'stats') {
      p.stats = m.stats;
      this.onEvent({ type: 'stats', id: p.id, pid: p.pid });
    } else if (m.type === 'app-error') {
      p.stats.exceptions++;
      p.lastError = m.message;
      p.lastErrorLogged = m.when === 'load';
      if (m.when === 'load') {
        log('master').error({ code: m.code ?? 'LIEGE_ERR_APP_LOAD', worker: p.id, pid: p.pid, file: m.file }, m.message);
        this.onEvent({ type: 'app-load-failed', id: p.id, pid: p.pid, replacement: isReplacement(slot, p), serial: p.serial ?? 0, error: m.message });
      }
      // a worker that served a while drains after an uncaught exception:
      // its replacement starts now (an early one is a crash loop: it exits
      // and is respawned with the backoff)
      if (m.when === 'serving' && !servedLong(p)) p.faultedEarly = true;
      if (m.when === 'serving' && slot?.current === p && !slot.next && p.status === 'accepting' && servedLong(p) && !this.stopping) {
        log('master').warn({ worker: p.id, pid: p.pid, error: m.message }, 'worker ends after an uncaught exception: replacing it while it drains');
        this.replace(p.id, UNCAUGHT, true);
      }
    } else if (m.type === 'log-state') {
      logDestinationState(m.error, { worker: p.id });
    } else if (m.type === 'fatal') {
      this.onEvent({ type: 'fatal', id: p.id, detail: m.detail, replacement: isReplacement(slot, p) });
    } else if (m.type === 'spare-ready') {
      this.spares.ready(p);
    } else if (m.type === 'accepting') {
      p.status = 'accepting';
      p.acceptingAt = Date.now();
      if (slot && slot.next === p) {
        const old = slot.current;
        slot.current = p;
        slot.next = undefined;
        if (old) this.retireProc(old, old.reason ?? 'replaced', slot);
      }
      if (!this.stopping) this.holds.start(p, this.acceptingProcs().filter((q) => q !== p));
      this.onEvent({ type: 'accepting', id: p.id, pid: p.pid });
      this.closeUnaskedShared();
      this.gate.pump();
      this.spares.fill();
    } else if (m.type === 'took-connection') {
      this.holds.took(p);
    } else if (m.type === 'signalled') {
      // a signal pending twice is delivered once, with the first sender's
      // pid: the master's own (a stop's SIGINT while the group's Ctrl-C was
      // pending) merged into it, so it is sent again (taken once: a drain
      // that runs goes on). Not sent yet: the group's, or the worker's alone
      if (p.sent?.has(m.signal)) signal(p, m.signal);
      else this.onEvent({ type: 'signalled', id: p.id, pid: p.pid, signal: m.signal, from: m.from, at: m.at ?? p.lastSeen });
    }
  }

  /** Drain `p` (SIGTERM: the worker owns the drain), SIGKILL after mercy. */
  private retireProc(p: Proc, reason: string, slot?: Slot): void {
    this.holds.left(p);
    (slot?.retiring ?? this.unslotted).add(p);
    drain(p, reason, this.opts.mercyMs);
  }

  // once the old generation is gone and the new one accepts, and a grace
  // later: an app may listen on its metrics port a moment after it serves
  // (after connecting to its database); closed at once, such a port would
  // refuse connections until the master binds it again
  private closeUnaskedShared(): void {
    if (!this.sharedAdopted || this.adopted.size > 0) return;
    if (!this.slots.every((s) => s.current?.status === 'accepting')) return;
    this.sharedAdopted = false;
    setTimeout(() => {
      for (const key of this.launcher.shared.closeUnasked()) log('master').info({ address: key }, 'closed a shared port the new generation does not listen on');
    }, SHARED_GRACE_MS).unref();
  }

  private onExit(p: Proc, code: number | null, sig: NodeJS.Signals | null): void {
    clearTimeout(p.killTimer);
    this.holds.left(p); // a newcomer that died takes no connection: the others accept now
    p.channel?.destroy();
    if (this.adopted.delete(p)) this.closeUnaskedShared();
    if (this.spares.exited(p, code, sig)) return;
    const slot = this.slots[p.id - 1];
    // a slot's totals survive its workers (stats: requests since start)
    if (slot && p.counters) slot.done = plus(slot.done, p.counters);
    if (slot?.retiring.delete(p) || this.unslotted.delete(p)) {
      log('master').info({ worker: p.id, pid: p.pid, code, signal: sig, reason: p.reason, last_error: p.lastError }, 'old worker gone');
      this.onEvent({ type: 'worker-exit', id: p.id, pid: p.pid, failedReplacement: false });
      return;
    }
    if (!slot) return;
    const wasNext = slot.next === p;
    if (wasNext) slot.next = undefined;
    if (slot.current === p) slot.current = undefined;
    if (this.stopping) return;
    this.gate.pump();
    countDeath(slot, p, sig);
    const delay = this.backoff(slot);
    sayDeath(p, code, sig, wasNext, slot.next, delay);
    this.onEvent({ type: 'worker-exit', id: p.id, pid: p.pid, failedReplacement: wasNext });
    this.respawn(slot, wasNext, delay);
  }

  /** After a death in `slot`: its replacement (`wasNext`) is retried, or
   * its worker respawned, from a spare when there is one, after `delay`. */
  private respawn(slot: Slot, wasNext: boolean, delay: number): void {
    if (wasNext && slot.current) {
      this.later(slot, Math.max(delay, 100), true);
      return;
    }
    // the replacement takes the slot when it accepts
    if (!slot.current && slot.next) return;
    if (delay !== 0) this.later(slot, delay, false);
    else if (!this.promote(slot, false)) this.spawn(slot);
  }

  /** No more starts, respawns or spares (stop, handover); returns the
   * spares for the caller to end. */
  private halt(): Proc[] {
    this.stopping = true;
    this.holds.releaseAll(); // (a reload's next image knows of no hold)
    this.gate.clear();
    for (const s of this.slots) clearTimeout(s.pending);
    return this.spares.stop();
  }

  /** For a handover: every worker, with its channel fd: the ones that
   * serve, and the ones that drain (a recycling, a chain reload's old one:
   * the next image watches them to the end, harakiri and mercy included,
   * and a stop waits for them). Replacements still starting are killed
   * (the next image starts its own). */
  handover(): AdoptedWorker[] {
    // (the new image knows nothing of them: said here, or never)
    for (const p of this.halt()) {
      log('master').info({ pid: p.pid }, 'spare worker killed: it runs the old code, the new generation starts its own');
      signal(p, 'SIGKILL');
    }
    for (const s of this.slots) if (s.next) signal(s.next, 'SIGKILL');
    const procs = [...this.slots.flatMap((s) => [s.current, ...s.retiring]), ...this.unslotted];
    return procs.flatMap((p) => (p ? [handedOver(p)] : []));
  }

  /** For a handover: the app's shared ports, kept open across the exec. */
  handOverShared(): SharedPort[] {
    return this.launcher.shared.handOver();
  }

  /** Stop everything (SIGINT, bounded by `mercy`: stopMercy(), or
   * SIGKILL: worker-process.ts stopProc) and wait for every process. */
  async stopAll(graceful: boolean, mercy = { ms: this.opts.mercyMs, name: 'worker-reload-mercy' }): Promise<void> {
    const all = this.all().concat(this.halt());
    await Promise.all(all.map((p) => stopProc(p, graceful, mercy)));
  }

  /** Replace every worker: graceful (a replacement accepts, then the old
   * one drains) or brutal (SIGKILL, respawned; old workers still draining,
   * a stuck one held by its mercy, are killed too). */
  recycleAll(brutal: boolean): void {
    if (brutal) for (const p of this.unslotted) this.kill(p, 'brutal workers reload');
    for (const s of this.slots) {
      if (brutal) for (const p of s.retiring) this.kill(p, 'brutal workers reload');
      if (brutal && s.current) this.kill(s.current, 'brutal workers reload');
      else this.replace(s.id, 'workers reload');
    }
  }

  /** A read-only view of the slots for stats, metrics and top. */
  snapshot(): WorkerView[] {
    return this.slots.map(slotView);
  }
}

/** `p` was started to replace its slot's worker and has not taken the slot:
 * still so after its exit took it out of slot.next (Node may deliver its
 * last message after 'exit'). */
function isReplacement(slot: Slot | undefined, p: Proc): boolean {
  return !!slot && (slot.next === p || (p.replacing === true && slot.current !== p));
}

/** Every live process of a slot: serving, starting and draining. */
function procsOf(s: Pick<Slot, 'retiring'> & Partial<Slot>): Proc[] {
  return [s.current, s.next, ...s.retiring].filter((p): p is Proc => !!p);
}
