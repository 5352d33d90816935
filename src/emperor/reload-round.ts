// The emperor's own reload (SIGHUP). Systemd (Type=notify-reload) holds the
// unit in "reloading" from RELOADING=1 to READY=1; READY=1 comes when every
// vassal of the reload answered (accepting: its new generation serves;
// reload failed: its running generation serves), died, or was stopped, or
// when emperor-reload-timeout passed (a hung vassal does not hold it for
// good). A vassal added meanwhile is a start, not part of the reload; a
// second SIGHUP is coalesced into the one under way.
import type { Logger } from '../log';
import type { Vassal } from './vassal';

export type ReloadOutcome = 'reloaded' | 'failed' | 'died' | 'stopped';

/** One reload: the vassals it waits for, and what each one's came to. */
export class ReloadRound {
  private readonly waiting = new Set<Vassal>();
  readonly outcomes = new Map<Vassal, ReloadOutcome>();
  timer?: NodeJS.Timeout;

  /** `v` is part of the reload (again: a second SIGHUP). */
  wait(v: Vassal): void {
    this.waiting.add(v);
    this.outcomes.delete(v);
  }

  /** `v` answered; false when it was not waited for. */
  settle(v: Vassal, outcome: ReloadOutcome): boolean {
    if (!this.waiting.delete(v)) return false;
    this.outcomes.set(v, outcome);
    return true;
  }

  /** The vassals still reloading. */
  left(): Vassal[] {
    return [...this.waiting];
  }

  get total(): number {
    return this.waiting.size + this.outcomes.size;
  }

  /** The names with this outcome, sorted. */
  named(outcome: ReloadOutcome): string[] {
    return [...this.outcomes].filter(([, o]) => o === outcome).map(([v]) => v.name).sort();
  }
}

/** What the reload needs of the emperor. */
export interface ReloadHost {
  /** The vassals a SIGHUP reloads: with a process, starting or serving. */
  live(): Vassal[];
  /** No longer the emperor's, or stopping (its config is gone). */
  stopped(v: Vassal): boolean;
  /** The state table's 'reload' (sent now, or once the running one answers). */
  reload(v: Vassal): void;
  /** Pushes the bound's event for `round` after `ms`. */
  timeout(round: ReloadRound, ms: number): NodeJS.Timeout;
  /** STATUS= now; `died` is named once (READY=1 of the reload). */
  statusText(died?: string[]): string;
  /** STATUS= when it changed. */
  status(): void;
  notify(fields: Record<string, string | number>): void;
  /** RELOADING=1 and MONOTONIC_USEC= (os/notify.ts). */
  reloading(): Record<string, string | number>;
}

/** The emperor's reload under way, if any; the loop calls `settle` after
 * every event. */
export class EmperorReload {
  round?: ReloadRound;

  constructor(private readonly host: ReloadHost, private readonly timeoutS: number, private readonly l: Logger) {}

  /** "; reloading, K of M to go" while one runs (STATUS=). */
  progress(): string | undefined {
    return this.round && `; reloading, ${this.round.left().length} of ${this.round.total} to go`;
  }

  /** Every vassal answered: READY=1 follows (settle), no STATUS= before it. */
  ending(): boolean {
    return this.round !== undefined && this.round.left().length === 0;
  }

  /** SIGHUP: every live vassal reloads; one while the emperor reloads is
   * coalesced (a vassal still reloading reloads once more after its
   * answer, the others now) and restarts the bound. */
  start(): void {
    const live = this.host.live();
    const fresh = !this.round;
    const r = this.round ?? new ReloadRound();
    this.round = r;
    if (fresh) this.l.info({ vassals: live.length }, 'SIGHUP: reloading every vassal');
    else this.l.info({ vassals: live.length }, 'SIGHUP while the emperor reloads: coalesced (a vassal still reloading reloads once more after it answers, the others now)');
    for (const v of live) {
      r.wait(v);
      this.host.reload(v);
    }
    // (RELOADING=1 for Type=notify-reload, which waits for it and a READY=1 after its SIGHUP)
    if (fresh) this.host.notify({ ...this.host.reloading(), STATUS: this.host.statusText() });
    clearTimeout(r.timer);
    r.timer = this.host.timeout(r, this.timeoutS * 1000);
    this.settle();
  }

  /** A reloading vassal answered: done, unless one more was asked meanwhile. */
  answered(v: Vassal, outcome: 'reloaded' | 'failed'): void {
    if (v.reloadAgain) {
      v.reloadAgain = false;
      this.l.info({ vassal: v.name }, 'vassal reloads once more (asked again while it reloaded)');
      this.host.reload(v);
      return;
    }
    if (outcome === 'reloaded') this.l.info({ vassal: v.name, pid: v.pid }, 'vassal reloaded: its new generation serves');
    else this.l.warn({ vassal: v.name, pid: v.pid }, 'vassal reload failed: its running generation keeps serving (its log says why)');
    this.round?.settle(v, outcome);
  }

  /** After every event: vassals of the reload that died or are stopping no
   * longer hold it; READY=1 once none is left. */
  settle(): void {
    const r = this.round;
    if (!r) return;
    for (const v of r.left()) {
      if (this.host.stopped(v)) r.settle(v, 'stopped');
      else if (!v.child) r.settle(v, 'died');
    }
    if (r.left().length) this.host.status();
    else this.end(r, false);
  }

  /** The bound passed: READY=1 now, naming those still reloading. */
  timedOut(r: ReloadRound): void {
    if (r === this.round) this.end(r, true);
  }

  /** A stop: no READY=1 (STOPPING=1 follows). */
  abandon(): void {
    if (!this.round) return;
    this.l.info({ reloading: this.round.left().map((v) => v.name).join(' ') }, 'the emperor\'s reload under way is given up: stopping');
    clearTimeout(this.round.timer);
    this.round = undefined;
  }

  private end(r: ReloadRound, timedOut: boolean): void {
    this.round = undefined;
    clearTimeout(r.timer);
    const overdue = r.left();
    for (const v of overdue) v.overdue = true;
    const [failed, died, stopped] = [r.named('failed'), r.named('died'), r.named('stopped')];
    const fields = { reloaded: r.named('reloaded').length, failed: failed.join(' ') || undefined, died: died.join(' ') || undefined, stopped: stopped.join(' ') || undefined };
    if (timedOut) this.l.warn({ ...fields, reloading: overdue.map((v) => v.name).join(' ') }, `the emperor's reload is not done after ${this.timeoutS} s (emperor-reload-timeout): READY=1 to systemd now, those still reloading are named`);
    else if (failed.length || died.length) this.l.warn(fields, 'the emperor\'s reload is done, not every vassal reloaded');
    else this.l.info(fields, 'the emperor\'s reload is done: every vassal serves again');
    this.host.notify({ READY: 1, STATUS: this.host.statusText(died) });
  }
}

/** What STATUS= says of vassals whose reload did not come through: failed
 * (the running generation serves), still reloading after the bound, died
 * during the reload (respawned as after any death). Empty when none. */
export function reloadNote(failed: string[], overdue: string[], died: string[] = []): string {
  const parts: string[] = [];
  if (failed.length) parts.push(`reload failed in ${failed.join(', ')} (the running generation serves)`);
  if (overdue.length) parts.push(`still reloading: ${overdue.join(', ')}`);
  if (died.length) parts.push(`died during the reload: ${died.join(', ')} (respawned)`);
  return parts.map((p) => `; ${p}`).join('');
}
