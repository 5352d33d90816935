// Signals that arrived before the master's loop listened: queued by
// bin/liege's first lines, and (after a reload's re-exec) caught natively by
// liege-early.so during Node's own start (reload.ts).
import { EARLY_SIGNALS_LIB, native } from './native';
import { signalNumbers } from './signals';

interface Early {
  signals: NodeJS.Signals[];
  listener: (s: NodeJS.Signals) => void;
}

const EARLY: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR2'];

function early(): Early | undefined {
  return (globalThis as { __liegeEarlySignals?: Early }).__liegeEarlySignals;
}

/** Drop liege-early.so from the environment (children must not load it). */
export function forgetPreload(): void {
  const pre = process.env.LD_PRELOAD;
  if (!pre || !pre.includes(EARLY_SIGNALS_LIB)) return;
  const rest = pre.split(/[\s:]+/).filter((p) => p && p !== EARLY_SIGNALS_LIB).join(' ');
  if (rest) process.env.LD_PRELOAD = rest;
  else delete process.env.LD_PRELOAD;
}

/** One turn of the loop, so the early listeners get what libuv caught but
 * has not handed to JS yet (a blocking hook held the loop): taken after
 * the listeners that route by sender are in place, it would be dropped as
 * a delivery counted before (os/signal-route.ts). */
export function settleEarlySignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The signals received so far, in order; the early listeners are removed
 * (call after installing your own, so no signal meets a default action). */
export function takeEarlySignals(): NodeJS.Signals[] {
  const e = early();
  const out = signalsIn(takeMask(() => native.takeEarlySignals()));
  if (!e) return out;
  for (const s of EARLY) process.off(s, e.listener);
  out.push(...e.signals.splice(0));
  return out;
}

/** Of the early signals, those that only others than this process and its
 * parent sent (known in a reload's new image: liege-early.so notes the
 * senders; empty otherwise). A vassal reports them to its emperor rather
 * than obey them, as it does once its own listeners route by sender. */
export function takeEarlyForeign(): Set<NodeJS.Signals> {
  return new Set(signalsIn(takeMask(() => native.takeEarlyForeign())));
}

function takeMask(take: () => number): number {
  try {
    return take();
  } catch {
    return 0; // no addon: nothing caught natively
  }
}

function signalsIn(mask: number): NodeJS.Signals[] {
  const out: NodeJS.Signals[] = [];
  if (!mask) return out;
  for (const [name, num] of Object.entries(signalNumbers())) if (mask & (2 ** num)) out.push(name as NodeJS.Signals);
  return out;
}

/** Not a master after all: remove the early listeners and deliver what
 * was queued with the dispositions now in place. */
export function releaseEarlySignals(): void {
  for (const s of takeEarlySignals()) process.kill(process.pid, s);
}

// Signals received after this image decided to re-exec itself (a reload:
// while its control side, daemons and atexit hooks end). The re-exec raises
// them again on its blocked main thread, so the new image gets them: a TERM
// during a reload stops the instance, a HUP is one more reload.
const carried: NodeJS.Signals[] = [];

/** Keep `signal` for the next image (each kind once); a signal listener. */
function carrySignal(signal: NodeJS.Signals): void {
  if (!carried.includes(signal)) carried.push(signal);
}

/** This image ends in a re-exec: from now on what the loop's listeners
 * obey is carried (`redirect`: os/signal-route.ts), with the signal events
 * of `queued` not taken yet. */
export function carrySignalsToExec(redirect: (fn: (s: NodeJS.Signals) => void) => void, queued: ReadonlyArray<{ type: string; signal?: NodeJS.Signals }>): void {
  redirect(carrySignal);
  for (const q of queued) if (q.type === 'signal' && q.signal) carrySignal(q.signal);
}

export function carriedSignals(): readonly NodeJS.Signals[] {
  return carried;
}
