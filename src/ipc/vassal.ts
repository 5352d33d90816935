// The emperor ↔ vassal pipe (uWSGI's UWSGI_EMPEROR_FD socketpair): single
// command bytes both ways. Shared by emperor/, master/ and worker/ (the
// single-process instance).

export const EMPEROR_FD_ENV = 'UWSGI_EMPEROR_FD';
export const EMPEROR_FD = 3; // the pipe is the vassal's fd 3

/** Emperor → vassal (uWSGI's bytes; heartbeat is liege's: "your owner
 * still holds you", sent only to fenced vassals). */
export const TO_VASSAL = { stop: 0, reload: 1, gracefulStop: 2, heartbeat: 26 } as const;

/** Self-fencing (etcd emperors): a vassal started with this variable (ms)
 * stops itself gracefully when its emperor has said nothing for that long,
 * and is killed outright if it has not stopped within as long again. The
 * emperor sends heartbeats only while its lease certainly outlives the
 * fence, so a frozen or cut-off emperor's vassals stop before another
 * emperor can claim them. */
export const FENCE_ENV = 'LIEGE_EMPEROR_FENCE_MS';

/** Vassal → emperor (uWSGI's bytes): started, accepting, loyal, heartbeat;
 * and liege's reloadFailed: "a reload failed (refused, or its new generation
 * could not start): the running generation keeps serving". After a reload
 * the vassal answers with accepting (the new generation serves) or
 * reloadFailed: the emperor knows when its own reload is done. */
export const FROM_VASSAL = { ready: 1, accepting: 5, loyal: 17, heartbeat: 26, reloadFailed: 44 } as const;

/** Whether the emperor's reload waits in a vassal's `queue`, not taken
 * yet: an accepting said now (a first start that ends as the emperor's
 * reload comes) would read as the answer to that reload, which its own
 * answer follows. */
export function reloadQueued<E extends { type: string }>(queue: { watch(f: (e: E) => void): () => void }): boolean {
  let queued = false;
  queue.watch((e) => { if (e.type === 'emperor' && (e as { byte?: number }).byte === TO_VASSAL.reload) queued = true; })();
  return queued;
}

/** A vassal exits with this when its config is invalid: not respawned until
 * the config changes (uWSGI's UWSGI_EXILE_CODE, "do not respawn"). */
export const EXILE_CODE = 26;

/** Listening sockets a process inherits (JSON [{ addr, fd, port }]): across
 * a reload, and from the emperor for an on-demand vassal. */
export const SOCKET_FDS_ENV = 'LIEGE_SOCKET_FDS';

/** The vassal prelude's job (as-vassal hooks, vassals-start-hook), JSON in this variable. */
export const VASSAL_ENV = 'LIEGE_VASSAL';

/** What the vassal runs before it becomes the instance (in the same pid). */
export interface VassalJob {
  config: string;
  startHook?: string;
  hooks: import('../config/config').HookLine[]; // as-vassal lines of the emperor
  ctx: import('../hooks/actions/types').HookContext;
}

export interface EmperorLink {
  /** Send a byte to the emperor (ignored when the pipe is gone). */
  tell(byte: number): void;
  /** Send a heartbeat every `seconds` (unref'd timer). */
  heartbeat(seconds: number): void;
  /** Keep the pipe open across an exec (reload in place). */
  keepAcrossExec(setCloexec: (fd: number, on: boolean) => void): void;
  /** Whether the pipe still stands. */
  connected(): boolean;
}

/** What linkToEmperor took out of the environment, for an exec in place. */
let linked: { fd: number; fenceMs?: string } | undefined;

/** UWSGI_EMPEROR_FD as a usable fd; undefined when not a vassal. */
export function envFd(): number | undefined {
  const fd = Number(process.env[EMPEROR_FD_ENV]);
  if (!process.env[EMPEROR_FD_ENV] || !Number.isInteger(fd) || fd < 0) return undefined;
  return fd;
}

/** Before an exec in place (reload, fallback config): the new image gets
 * the emperor's pipe and its variables back, linked yet or not. */
export function keepEmperorForExec(setCloexec: (fd: number, on: boolean) => void): void {
  if (linked) {
    process.env[EMPEROR_FD_ENV] = String(linked.fd);
    if (linked.fenceMs) process.env[FENCE_ENV] = linked.fenceMs;
  }
  const fd = envFd();
  if (fd !== undefined) setCloexec(fd, false);
}

/** In a vassal: read the emperor's commands on UWSGI_EMPEROR_FD; undefined
 * when not run by an emperor. `setCloexec` keeps the pipe from workers.
 * With FENCE_ENV set, a silent emperor is answered with a graceful stop
 * (`onCommand(gracefulStop)`, `warn` says why). */
export function linkToEmperor(onCommand: (byte: number) => void, onLost: () => void, setCloexec: (fd: number, on: boolean) => void, warn?: (message: string) => void): EmperorLink | undefined {
  const fd = envFd();
  if (fd === undefined) return undefined;
  // neither the fd nor the variables for workers and daemons (a liege run
  // as a daemon would take whatever its fd 3 is for an emperor, and fence
  // itself); keepEmperorForExec puts them back for an exec in place
  setCloexec(fd, true);
  const fenceMs = process.env[FENCE_ENV];
  delete process.env[EMPEROR_FD_ENV];
  delete process.env[FENCE_ENV];
  linked = { fd, fenceMs };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net'); // not for hook-only starts
  const pipe = new net.Socket({ fd, readable: true, writable: true });
  let lost = false;
  const lose = () => {
    if (lost) return;
    lost = true;
    onLost();
  };
  const fence = fenceWatch(Number(fenceMs), () => {
    warn?.(`no word from the emperor for ${fenceMs} ms: it may have lost this vassal to another host, stopping (fenced)`);
    onCommand(TO_VASSAL.gracefulStop);
  });
  pipe.on('data', (buf: Buffer) => {
    fence.heard();
    for (const byte of buf) if (byte !== TO_VASSAL.heartbeat) onCommand(byte);
  });
  pipe.on('end', lose);
  pipe.on('error', lose);
  return {
    tell: (byte) => { if (!lost) pipe.write(Buffer.from([byte])); },
    heartbeat: (seconds) => { setInterval(() => { if (!lost) pipe.write(Buffer.from([FROM_VASSAL.heartbeat])); }, seconds * 1000).unref(); },
    keepAcrossExec: keepEmperorForExec,
    connected: () => !lost,
  };
}

/** The vassal side of self-fencing: `onSilent` once nothing was heard for
 * `ms`; SIGKILL of this process `ms` later if it is still alive (its
 * workers die with it by PDEATHSIG, its daemons by their watcher). */
function fenceWatch(ms: number, onSilent: () => void): { heard(): void } {
  let last = Date.now();
  if (!Number.isInteger(ms) || ms <= 0) return { heard: () => undefined };
  const check = () => {
    if (Date.now() - last <= ms) return;
    // after a blocked loop the timer fires before the pipe is read: look
    // again once the poll phase delivered what the emperor sent meanwhile
    setImmediate(() => setImmediate(() => {
      if (Date.now() - last <= ms) return;
      clearInterval(timer);
      onSilent();
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), ms).unref();
    }));
  };
  const timer = setInterval(check, Math.max(50, Math.min(250, Math.floor(ms / 4))));
  timer.unref();
  return { heard: () => { last = Date.now(); } };
}

// A vassal obeys only its emperor's stop and reload signals. Sent to the
// whole process group or cgroup (`liege --emperor` stopped with Ctrl-C, a
// terminal's hangup, `kill -TERM -PGID`, systemd's KillMode=control-group)
// the emperor got the same signal at the same moment and answers it for
// every vassal over the pipe, in order (a stop: each vassal's emperor-stop
// hooks, then vassals-stop-hook; SIGHUP: one reload of each): a vassal
// acting on its own copy as well stopped without its emperor-stop hooks, or
// reloaded twice. So a vassal reports anyone else's signal to the emperor
// (one byte on the pipe), which passes it on as its own when it did not
// hear it itself: a signal to that vassal alone (`kill -TERM <vassal
// pid>`) is acted on as before, a second later. The sender is read as a
// worker reads its master's (os/signal-route.ts); a vassal whose pipe
// is gone acts on every signal itself. Not routed: SIGUSR1/SIGUSR2 (an
// emperor has no stats or chain reload of its vassals to answer them).

/** The signals an emperor answers for its vassals. */
export const EMPEROR_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];

/** Vassal → emperor: "I got this signal from someone else" (liege's bytes). */
export const SIGNAL_REPORTS: Readonly<Record<string, number>> = { SIGHUP: 40, SIGTERM: 41, SIGINT: 42, SIGQUIT: 43 };

/** The signal a report byte names, if it is one. */
export function reportedSignal(byte: number): NodeJS.Signals | undefined {
  return (Object.keys(SIGNAL_REPORTS) as NodeJS.Signals[]).find((s) => SIGNAL_REPORTS[s] === byte);
}

/** A vassal's signal parent (os/signal-route.ts listenSignals): its
 * emperor, over the pipe; undefined when not a vassal. */
export function emperorAsParent(link: EmperorLink | undefined): { signals: readonly string[]; report(s: NodeJS.Signals): boolean } | undefined {
  if (!link) return undefined;
  return { signals: EMPEROR_SIGNALS, report: (s) => (link.connected() ? (link.tell(SIGNAL_REPORTS[s]!), true) : false) };
}
