// How many workers boot at once when a generation starts (start, reload).
// A worker's boot (Node itself, then the app up to its listen()) is CPU
// work: N boots started together on fewer cores share them and all finish
// late, so the first request waits for N/cores boots. The gate lets at most
// one boot per core run at a time: the first workers accept in one boot's
// time and the last no later than before (the machine was busy anyway).
// A boot that waits (an app that connects to its database before it
// listens) does not hold the others back: the gate counts only boots that
// use the CPU, read from the kernel's scheduler statistics of the worker's
// threads (/proc/PID/task/*/stat: runnable now; schedstat: time running +
// time waiting for a CPU).
import * as fs from 'node:fs';
import { nodeOs } from '../os/node-os';
import { statFields } from '../os/proc-identity';

/** How often queued starts are reconsidered, ms. */
const CHECK_MS = 20;
/** A boot whose threads were runnable less than this share of the last
 * interval, none runnable now, waits (I/O). */
const IDLE_SHARE = 0.25;
/** Without /proc: a queued start waits at most this long. */
const BLIND_WAIT_MS = 150;

interface Sample {
  first: number; // when first seen, ms
  at: number; // last sample, ms
  ns: number; // running + runnable, ns
  busy: boolean;
}

/** The CPUs this process may run on: os.availableParallelism() (sched_getaffinity), read from
 * /proc/self/status instead, where the kernel prints the same mask; the libc
 * call is a page of code no other part of a master runs (~64 KiB of RSS with
 * the kernel's fault-around, bench/README.md). */
export function usableCores(status?: string): number {
  let text = status;
  try {
    text ??= fs.readFileSync('/proc/self/status', 'utf8');
  } catch { /* no /proc */ }
  const list = text === undefined ? undefined : /^Cpus_allowed_list:\s*([\d,-]+)$/m.exec(text)?.[1];
  let n = 0;
  for (const range of list?.split(',') ?? []) {
    const [a, b] = range.split('-').map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  if (n > 0) return n;
  const os = nodeOs();
  return os.availableParallelism?.() ?? os.cpus().length;
}

export class BootGate {
  private queue: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private readonly samples = new Map<number, Sample>();

  constructor(
    /** The pids of the workers booting now (spawned, not yet accepting). */
    private readonly booting: () => number[],
    private readonly limit = Math.max(1, usableCores()),
  ) {}

  /** Run `start` now, or once fewer than one boot per core uses a CPU. */
  enqueue(start: () => void): void {
    this.queue.push(start);
    this.pump();
  }

  /** Start what may start now (call when a boot ended: accepting, death). */
  pump(): void {
    while (this.queue.length > 0 && this.busy() < this.limit) this.queue.shift()!();
    if (this.queue.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.samples.clear();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, CHECK_MS);
  }

  /** Starts still queued. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Forget the queued starts (stop, handover). */
  clear(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    this.samples.clear();
  }

  /** How many booting workers use a CPU (or cannot be told apart). */
  private busy(): number {
    const pids = this.booting();
    for (const pid of this.samples.keys()) if (!pids.includes(pid)) this.samples.delete(pid);
    let n = 0;
    for (const pid of pids) {
      const now = Date.now();
      const cur = sample(pid);
      const last = this.samples.get(pid);
      if (!last) {
        this.samples.set(pid, { first: now, at: now, ns: cur?.ns ?? 0, busy: true });
        n++;
      } else if (cur === undefined) {
        // no scheduler statistics: a plain wait
        if (now - last.first < BLIND_WAIT_MS) n++;
      } else {
        // too short an interval to judge: keep the last verdict
        if (now - last.at >= CHECK_MS / 2) {
          last.busy = cur.runnable || (cur.ns - last.ns) / 1e6 >= IDLE_SHARE * (now - last.at);
          last.at = now;
          last.ns = cur.ns;
        }
        if (last.busy) n++;
      }
    }
    return n;
  }
}

/** Every thread of `pid`: their time running or waiting for a CPU (ns),
 * and whether one of them runs or waits for a CPU now (state R). A thread
 * that waits for a CPU has that wait counted only once it runs, and the main
 * thread may wait (futex) on a helper thread that waits for a CPU. */
function sample(pid: number): { ns: number; runnable: boolean } | undefined {
  try {
    let ns = 0;
    let runnable = false;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ');
      ns += Number(run) + Number(wait);
      if (statFields(fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'))[0] === 'R') runnable = true;
    }
    return { ns, runnable };
  } catch {
    return undefined;
  }
}
