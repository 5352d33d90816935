// The master's side of worker/accept-hold.ts: when a worker starts
// accepting beside others, they hold off accepting until it took a
// connection, HOLD_MS at most (each worker ends its own hold then). The
// master ends the hold itself as soon as it cannot help any more: the
// newcomer took a connection, or left (exited, killed, draining: it takes
// none); a held worker that left is no longer held; a stop or a reload's
// handover releases everyone (the next image knows of no hold).
import { tell, type Proc } from './worker-process';

const HOLD_MS = 50;
// the master's record of a hold lives as long as the hold can: the
// workers' timers start when the message arrives, a little later
const RECORD_MS = 2 * HOLD_MS;

export class AcceptHolds {
  private newcomer?: Proc;
  private held: Proc[] = [];
  private expiry?: NodeJS.Timeout;

  /** `p` accepts now beside `others`: they hold until it took a connection. */
  start(p: Proc, others: Proc[]): void {
    const held = others.filter((q) => tell(q, { type: 'hold-accept', ms: HOLD_MS, liege: 1 }));
    // (an earlier newcomer's hold passes to this one; a worker held for it
    // and not for this one is released now)
    this.release(this.held.filter((q) => !held.includes(q)));
    this.newcomer = held.length > 0 ? p : undefined;
    this.held = held;
    clearTimeout(this.expiry);
    if (held.length > 0) this.expiry = setTimeout(() => this.forget(), RECORD_MS).unref();
  }

  /** `p` took its first connection: the hold for it ends. */
  took(p: Proc): void {
    if (p === this.newcomer) this.releaseAll();
  }

  /** `p` accepts no more (it exited, was killed or drains): a hold for it
   * ends now, and it is no longer held itself. */
  left(p: Proc): void {
    if (p === this.newcomer) return this.releaseAll();
    this.held = this.held.filter((q) => q !== p);
  }

  /** Every held worker released (a stop, a reload's handover). */
  releaseAll(): void {
    this.release(this.held);
    this.forget();
  }

  private release(procs: Proc[]): void {
    for (const q of procs) tell(q, { type: 'release-accept', liege: 1 });
  }

  private forget(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    this.newcomer = undefined;
    this.held = [];
  }
}
