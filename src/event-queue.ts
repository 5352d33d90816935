// The main loops of the master and the emperor: listeners (signals, child
// exits, timers) only push events; one loop takes them in order.
export class EventQueue<E> {
  private readonly items: E[] = [];
  private wake?: () => void;
  private readonly watchers = new Set<(e: E) => void>();

  push = (e: E): void => {
    this.items.push(e);
    for (const w of this.watchers) w(e);
    this.wake?.();
  };

  /** Shows `f` every event queued and not taken yet, then every one pushed,
   * until the returned function is called: for a handler that blocks the
   * loop and must still see some events (a quit during a graceful stop). */
  watch(f: (e: E) => void): () => void {
    for (const e of this.items) f(e);
    this.watchers.add(f);
    return () => this.watchers.delete(f);
  }

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
