// One worker process, as the master sees it: how it starts (`node
// dist/worker/main.js` with the listening sockets as fds 4.., its busy slot
// after them, and its job in LIEGE_WORKER), how it is signalled, drained and
// stopped, and what the master reads of it from /proc. Which slot it serves
// is the worker table's (workers.ts), what its death means worker-deaths.ts.
import type { Readable } from 'node:stream';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type * as net from 'node:net';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { log } from '../log';
import { native } from '../os/native';
import { killTree } from '../os/reaper';
import { slotViews, SLOT_BYTES, type BusySlot } from '../ipc/busy-slot';
import { FIRST_SOCKET_FD, isWorkerMessage, WORKER_ENV, type MasterMessage, type WorkerCounters, type WorkerMessage, type WorkerSpec, type WorkerStats } from '../ipc/worker';
import { logMasterOn, OutputRelay, reqLogPipeOn } from './log-relay';
import { SharedPorts } from './shared-ports';
import type { BoundSocket } from './sockets';

export type ProcStatus = 'starting' | 'accepting' | 'draining';

/** One worker process (spawned by this image, or adopted across a reload). */
export interface Proc {
  id: number;
  pid: number;
  child?: ChildProcess;
  channel?: net.Socket;
  status: ProcStatus;
  spawnedAt: number;
  serial?: number; // its start's number in this image (1, 2 …; absent: adopted across a reload): reload-steps.ts
  acceptingAt?: number;
  faultedEarly?: boolean; // an uncaught exception within a second of accepting: its death is a crash, however long it drained
  lastSeen: number; // last message (stats heartbeat)
  stats: WorkerStats;
  counters?: WorkerCounters; // last report (control/stats)
  slot?: BusySlot; // shared with the worker: its request in flight (harakiri)
  lastError?: string;
  lastErrorLogged?: boolean; // lastError has its own line already (a load failure): its death does not repeat it
  reason?: string; // why it drains (or why we killed it)
  drainingSince?: number; // when it was told to drain (stats)
  killed?: boolean; // SIGKILLed by the master (harakiri, evil-reload-on-rss, a brutal reload)
  killTimer?: NodeJS.Timeout;
  spare?: 'loading' | 'ready'; // a warm spare not yet given a slot (id 0)
  promoted?: boolean; // a spare given a slot: it heartbeats until it accepts
  replacing?: boolean; // started to replace its slot's worker (a reload, a recycling)
  channelLostAt?: number; // its channel closed while it lived on (the app called process.disconnect())
  silentSince?: number; // its last heartbeat before a silence the master warned about (silence.ts)
  output?: OutputRelay; // log-master: its stdout and stderr, read by the master
  sent?: Set<NodeJS.Signals>; // the signals the master sent it (worker-signals.ts)
}

/** What the worker table hears from the processes it starts. */
export interface ProcEvents {
  message(p: Proc, m: WorkerMessage): void;
  exit(p: Proc, code: number | null, sig: NodeJS.Signals | null): void;
}

const WORKER_MAIN = path.resolve(__dirname, '..', 'worker', 'main.js');

// every worker process this image started that has not exited yet: the
// slots' and the warm spares' (a log reopen reaches them all)
const running = new Set<Proc>();

/** The live worker processes this image started (spares included). */
export function startedProcs(): Proc[] {
  return [...running];
}

/** Sends a message to a worker: on its IPC channel, or on the channel
 * kept across a reload's exec (an adopted worker: Node's framing, a JSON
 * line). False when it has no channel left (its app disconnected it). */
export function tell(p: Proc, m: MasterMessage): boolean {
  try {
    if (p.child) {
      if (!p.child.connected) return false;
      p.child.send(m);
      return true;
    }
    if (!p.channel || p.channel.destroyed) return false;
    p.channel.write(`${JSON.stringify(m)}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Starts worker processes on the instance's sockets; answers their listen()
 * of other ports itself (shared-ports.ts). */
export class Launcher {
  readonly shared = new SharedPorts();
  /** Worker processes started so far (spares too). */
  started = 0;

  constructor(
    private readonly sockets: BoundSocket[],
    private readonly on: ProcEvents,
  ) {}

  /** Start one worker process; undefined when the spawn failed (then
   * `failed` is called, at once or from the child's error event). */
  start(job: WorkerSpec, id: number, failed?: (e: NodeJS.ErrnoException) => void): Proc | undefined {
    const now = Date.now();
    // only harakiri reads the slot: no memfd and mapping per worker without it
    const shared = job.harakiri ? busySlot() : undefined;
    if (shared) job.slotFd = FIRST_SOCKET_FD + this.sockets.length;
    // req-logger: the request log on a pipe of its own, after the others
    const reqLog = logMasterOn() && reqLogPipeOn();
    job.reqLogFd = reqLog ? FIRST_SOCKET_FD + this.sockets.length + (shared ? 1 : 0) : undefined;
    let child: ChildProcess;
    try {
      const out = logMasterOn() ? 'pipe' : 'inherit';
      // fd 3 the channel, then the sockets, the busy slot, the request log
      const stdio: StdioOptions = ['ignore', out, out, 'ipc', ...this.sockets.map((s) => s.fd)];
      if (shared) stdio.push(shared.fd);
      if (reqLog) stdio.push('pipe');
      // (systemd's notify socket and watchdog are the master's alone)
      const env = { ...process.env, NOTIFY_SOCKET: undefined, WATCHDOG_USEC: undefined, WATCHDOG_PID: undefined, [WORKER_ENV]: JSON.stringify(job) };
      child = spawn(process.execPath, [WORKER_MAIN], { cwd: job.cwd, stdio, env });
    } catch (e) {
      failed?.(e as NodeJS.ErrnoException);
      return undefined;
    } finally {
      if (shared) native.closeFd(shared.fd);
    }
    if (child.pid === undefined) {
      child.once('error', (e) => failed?.(e as NodeJS.ErrnoException));
      return undefined;
    }
    const p: Proc = {
      id,
      pid: child.pid,
      child,
      status: 'starting',
      spawnedAt: now,
      serial: ++this.started,
      lastSeen: now,
      stats: { requests: 0, exceptions: 0, avgRtMs: 0, busy: null },
      slot: shared?.slot,
    };
    const requests = job.reqLogFd === undefined ? undefined : (child.stdio[job.reqLogFd] as Readable | null);
    if (child.stdout || child.stderr) p.output = new OutputRelay(p, child.stdout, child.stderr, requests);
    child.on('error', (e) => log('master').warn({ worker: p.id, pid: child.pid, code: (e as NodeJS.ErrnoException).code }, `worker process error: ${e.message}`));
    child.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return; // the app's own process.send()
      if (m.type === 'listen') return this.shared.answer(child, m);
      this.on.message(p, m);
    });
    running.add(p);
    child.on('exit', (code, sig) => {
      running.delete(p);
      this.on.exit(p, code, sig);
    });
    child.on('disconnect', () => lostChannel(p));
    return p;
  }
}

/** The channel closed: at a worker's exit (its 'exit' follows), or while it
 * lives on when the app called process.disconnect(); recycle.ts tells. */
export function lostChannel(p: Proc): void {
  p.channelLostAt ??= Date.now();
}

/** Drain `p` (SIGTERM: the worker owns the drain), SIGKILL after mercy. */
export function drain(p: Proc, reason: string, mercyMs: number): void {
  p.status = 'draining';
  p.reason = reason;
  p.drainingSince = Date.now();
  log('master').info({ worker: p.id, pid: p.pid, reason }, 'worker draining');
  tell(p, { type: 'drain', reason, liege: 1 }); // its log lines name the reason, not the signal
  signal(p, 'SIGTERM');
  armDrainMercy(p, mercyMs);
}

/** The worker ends its own drain at the mercy (and says so); one still
 * running a second later is stuck (a blocked event loop): a warning naming
 * the mercy, not only "old worker gone … signal=SIGKILL". Counted from when
 * it began to drain (before a reload's exec, for one adopted draining). */
export function armDrainMercy(p: Proc, mercyMs: number): void {
  const since = p.drainingSince ?? Date.now();
  p.killTimer = setTimeout(() => {
    log('master').warn({ worker: p.id, pid: p.pid, reason: p.reason, mercy_ms: mercyMs }, `worker still running 1 s after its drain mercy (worker-reload-mercy = ${mercyMs / 1000} s) expired: SIGKILL`);
    signal(p, 'SIGKILL');
  }, Math.max(0, since + mercyMs + 1000 - Date.now()));
  p.killTimer.unref();
}

/** Stop `p`: SIGINT (a drain that closes idle keep-alive connections too,
 * bounded by the worker itself at `mercy`) or SIGKILL; resolves once it is
 * gone. One still running a second after its mercy (its event loop
 * blocked) is SIGKILLed. */
export function stopProc(p: Proc, graceful: boolean, mercy: { ms: number; name: string }): Promise<void> {
  const killAt = graceful ? mercy.ms + 1000 : 0;
  return new Promise<void>((resolve) => {
    if (!exists(p.pid)) return resolve();
    const gone = () => {
      clearInterval(t);
      resolve();
    };
    // (an adopted worker is no child of ours: its pid is polled)
    const t = setInterval(() => {
      if (!exists(p.pid)) gone();
    }, 50);
    p.child?.once('exit', gone);
    setTimeout(() => {
      if (!exists(p.pid)) return;
      if (graceful) log('master').warn({ worker: p.id, pid: p.pid, mercy_ms: mercy.ms }, `worker still running 1 s after its stop mercy (${mercy.name} = ${mercy.ms / 1000} s) expired: SIGKILL`);
      signal(p, 'SIGKILL');
    }, killAt).unref();
    if (graceful) tell(p, { type: 'drain', reason: 'stop', liege: 1 }); // its log lines say so, not "SIGINT"
    signal(p, graceful ? 'SIGINT' : 'SIGKILL');
  });
}

/** The wait before the next start after `failures` in a row: the first
 * failure is retried at once, then 100 ms doubling up to `maxMs`. */
export function backoffMs(failures: number, maxMs: number): number {
  if (failures <= 1) return 0;
  return Math.min(maxMs, 100 * 2 ** (failures - 2));
}

/** A busy slot for a new worker (memfd + mapping); none if the kernel refuses
 * (harakiri then sees a blocked worker by its missing heartbeat only). */
function busySlot(): { fd: number; slot: BusySlot } | undefined {
  try {
    const [fd, buf] = native.shmCreate(SLOT_BYTES);
    return { fd, slot: slotViews(buf) };
  } catch (e) {
    log('master').warn({ code: (e as NodeJS.ErrnoException).code }, `unable to create a busy slot for harakiri: ${(e as Error).message}`);
    return undefined;
  }
}

/** Send `sig` to the worker; one already gone is no error. A SIGTERM or
 * SIGINT (a drain) is followed by SIGCONT (as systemd does): a stopped worker (SIGSTOP, a
 * debugger that let go, a frozen cgroup thawed) would otherwise hold the
 * drain, a reload or a stop until its mercy expires. A SIGKILL takes what
 * the app spawned with it (a worker killed gets no chance to end them). */
export function signal(p: Proc, sig: NodeJS.Signals): void {
  if (sig === 'SIGKILL') {
    killTree(p.pid);
    return;
  }
  (p.sent ??= new Set()).add(sig);
  try {
    process.kill(p.pid, sig);
    if (sig === 'SIGTERM' || sig === 'SIGINT') process.kill(p.pid, 'SIGCONT');
  } catch { /* gone */ }
}

/** The pid still exists, a zombie included: a stop waits until its worker
 * is reaped (by libuv, or by the reaper for an adopted one), so the master
 * never exits leaving a zombie for init. */
export function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** RSS in bytes from /proc (the master's view, valid for a stuck worker). */
export function rssOf(p: Proc): number {
  return rssOfPid(p.pid) ?? p.stats.rss ?? 0;
}

/** Resident set size of any process in bytes (undefined when it is gone). */
export function rssOfPid(pid: number): number | undefined {
  try {
    const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch {
    return undefined;
  }
}
