// The app's SIGTERM/SIGINT listeners, held back: whoever serves the app (a
// worker's drain, a single-process instance) owns those signals, and runs
// the app's listeners once no request can be lost. A naive app that calls
// process.exit() or server.close() on SIGTERM would otherwise end its
// requests in flight with it. Installed before the app is loaded.
type Listener = (...args: unknown[]) => void;
type On = (event: string | symbol, fn: Listener) => NodeJS.Process;

const HELD = new Set(['SIGTERM', 'SIGINT']);

export class HeldSignals {
  private readonly app: Array<{ signal: string; fn: Listener }> = [];
  private readonly own: Listener[] = [];
  private adding = false;
  private ran = false;

  /** Hold the app's listeners from now on (process.on, once, prepend; off
   * and removeAllListeners remove the app's own only). */
  install(): void {
    const held = this;
    const hold = (orig: On) =>
      function (this: NodeJS.Process, event: string | symbol, fn: Listener): NodeJS.Process {
        if (typeof event === 'string' && HELD.has(event) && !held.adding) {
          held.app.push({ signal: event, fn });
          return process;
        }
        return orig.call(process, event, fn);
      };
    process.on = hold(process.on.bind(process) as On) as typeof process.on;
    process.addListener = process.on;
    process.once = hold(process.once.bind(process) as On) as typeof process.once;
    process.prependListener = hold(process.prependListener.bind(process) as On) as typeof process.prependListener;
    // an app that resets its signal handlers (removeAllListeners('SIGTERM'),
    // off()) removes its own held ones, never ours: without it a SIGTERM
    // would end the process at once, its requests with it
    const off = process.removeListener.bind(process) as On;
    process.removeListener = function (event: string | symbol, fn: Listener): NodeJS.Process {
      if (typeof event === 'string' && HELD.has(event)) held.forget(event, fn);
      return off(event, fn);
    } as typeof process.removeListener;
    process.off = process.removeListener;
    // an app's removeAllListeners() (every event, or one) removes the app's own:
    // the listeners from before the app stay, and ours. Among them Node's
    // newListener/removeListener hooks that start and stop the signal
    // watchers: without them no signal listener added later (ours) was ever
    // called, and a SIGTERM ended the process at once, its requests with it
    // (a SIGUSR1 too: inspector-signal.ts). Of one event the same way:
    // removeAllListeners('SIGHUP') removed ours too, and a SIGHUP to the
    // group then ended the worker mid-request.
    const listenersOf = (e: string | symbol) => (process as NodeJS.EventEmitter).listeners(e) as Listener[];
    const before = new Map(process.eventNames().map((e) => [e, listenersOf(e)]));
    const removeAppListeners = (name: string | symbol) => {
      const keep = before.get(name) ?? [];
      for (const fn of listenersOf(name)) if (!keep.includes(fn) && !held.own.includes(fn)) off(name, fn);
    };
    process.removeAllListeners = function (event?: string | symbol): NodeJS.Process {
      if (typeof event === 'string' && HELD.has(event)) {
        held.forget(event);
        return process;
      }
      if (event !== undefined) {
        removeAppListeners(event);
        return process;
      }
      held.forget();
      for (const name of process.eventNames()) removeAppListeners(name);
      return process;
    } as typeof process.removeAllListeners;
  }

  /** Our own listener of `signal` (not held back, kept from the app's resets). */
  listen(signal: string, fn: (signal: NodeJS.Signals) => void): void {
    this.asOwn(() => process.on(signal, fn));
    this.own.push(fn as Listener);
  }

  /** Runs `f`, whose signal listeners are ours, not held back. */
  asOwn<T>(f: () => T): T {
    this.adding = true;
    try {
      return f();
    } finally {
      this.adding = false;
    }
  }

  /** How many app listeners are held. */
  get count(): number {
    return this.app.length;
  }

  /** Run the app's listeners, once: those of `signal`, or, when the app
   * has none for it, the other one's (an app written for PM2 listens for
   * both: its cleanup, db.close(), ran twice). */
  run(signal: string): void {
    if (this.ran) return;
    this.ran = true;
    const own = this.app.filter((l) => l.signal === signal);
    for (const { signal: s, fn } of own.length ? own : this.app) {
      try {
        fn(s);
      } catch { /* the app's cleanup failing does not keep the process alive */ }
    }
  }

  // the app removed held listeners: `fn` of `signal`, all of `signal`, or all
  private forget(signal?: string, fn?: Listener): void {
    for (let i = this.app.length - 1; i >= 0; i--) {
      const l = this.app[i]!;
      if (signal !== undefined && l.signal !== signal) continue;
      if (fn !== undefined && l.fn !== fn) continue;
      this.app.splice(i, 1);
    }
  }
}
