// The master's side of worker/accept-hold.ts: when a worker starts
// accepting beside others, they hold off accepting until it took a
// connection, HOLD_MS at most (each worker ends its own hold then, so a
// newcomer that dies or never sees a connection costs nothing more).
import { tell, type Proc } from './worker-process';

const HOLD_MS = 50;

export class AcceptHolds {
  private newcomer?: Proc;
  private held: Proc[] = [];

  /** `p` accepts now beside `others`: they hold until it took a connection. */
  start(p: Proc, others: Proc[]): void {
    if (others.length === 0) return;
    this.newcomer = p;
    this.held = others.filter((q) => tell(q, { type: 'hold-accept', ms: HOLD_MS, liege: 1 }));
  }

  /** `p` took its first connection: the hold for it ends. */
  took(p: Proc): void {
    if (p !== this.newcomer) return;
    for (const q of this.held) tell(q, { type: 'release-accept', liege: 1 });
    this.newcomer = undefined;
    this.held = [];
  }
}
