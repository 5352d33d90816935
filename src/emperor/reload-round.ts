// The emperor's own reload (SIGHUP): the vassals it waits for, and what
// each one's reload came to. Systemd (Type=notify-reload) holds the unit in
// "reloading" from RELOADING=1 to READY=1; READY=1 comes when every vassal
// of the reload answered (accepting: its new generation serves; reload
// failed: its running generation serves), died, or was stopped, or when
// emperor-reload-timeout passed (a hung vassal does not hold it for good).
// A vassal added meanwhile is a start, not part of the reload.
import type { Vassal } from './vassal';

export type ReloadOutcome = 'reloaded' | 'failed' | 'died' | 'stopped';

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

  /** The names with this outcome. */
  named(outcome: ReloadOutcome): string[] {
    return [...this.outcomes].filter(([, o]) => o === outcome).map(([v]) => v.name).sort();
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
