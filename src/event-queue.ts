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

  /** Calls `f` once, at the first event `test` accepts (queued already, or
   * pushed before the returned function is called): a quit during a stop. */
  once(test: (e: E) => boolean, f: () => void): () => void {
    let done = false;
    return this.watch((e) => {
      if (done || !test(e)) return;
      done = true;
      f();
    });
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

/** A second Ctrl-C (SIGINT) or a SIGQUIT: a stop under way made immediate. */
export function isQuitSignal(e: { type: string; signal?: string | null }): boolean {
  return e.type === 'signal' && (e.signal === 'SIGQUIT' || e.signal === 'SIGINT');
}
