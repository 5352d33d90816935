// The main loops of the master and the emperor: listeners (signals, child
// exits, timers) only push events; one loop takes them in order.
export class EventQueue<E> {
  private readonly items: E[] = [];
  private wake?: () => void;

  push = (e: E): void => {
    this.items.push(e);
    this.wake?.();
  };

  /** What is queued and not taken yet (emptied). */
  takeAll(): E[] {
    return this.items.splice(0);
  }

  async next(): Promise<E> {
    while (!this.items.length) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    return this.items.shift()!;
  }
}
