// Reload handover: the master re-execs in place (same pid, the listening
// sockets inherited: sockets.ts) and the running workers are adopted across
// the execve instead of stopped. They keep serving — they are still our
// children, their IPC channel fd is left open for the new image — until the
// new generation accepts; then each one drains (drain.ts). If the new image
// cannot start (asap hook, a newly added port, …) it keeps supervising the
// old generation with the settings it carried over (master.ts runFallback).
import * as net from 'node:net';
import { onLines } from '../ipc/lines';
import type { BusyInfo, WorkerSpec } from '../ipc/worker';
import { log } from '../log';
import { native } from '../os/native';
import type { SharedPort } from './shared-ports';

export const GENERATION_ENV = 'LIEGE_GENERATION';

/** One running worker handed to the next image. */
export interface AdoptedWorker {
  id: number;
  pid: number;
  fd?: number; // the master's end of its IPC channel
  out?: { fds: number[]; partial: string[] }; // log-master: the master's ends of its stdout and stderr pipes, and the partial lines read from them
  spawnedAt: number;
  requests: number;
  /** Its oldest request in flight at the exec (harakiri's deadline runs
   * from that request's start, not from the exec). */
  busy?: BusyInfo | null;
  /** A worker already draining (a recycling, a chain reload's old one):
   * it finishes its drain watched by the next image. */
  draining?: { reason: string; since: number };
}

export interface Handover {
  generation: number;
  workers: AdoptedWorker[];
  /** The app's shared ports (shared-ports.ts), open across the exec. */
  shared?: SharedPort[];
  /** The settings of the running generation, for the fallback. */
  settings: unknown;
  spec: Omit<WorkerSpec, 'id' | 'once'>;
  /** A brutal reload killed the workers: none handed over, yet a
   * generation to start again if the new image cannot start. */
  brutal?: boolean;
  /** When the previous images heard each signal (worker-signals.ts). */
  heard?: Record<string, number[]>;
}

/** Whether a new image that cannot start falls back to the running
 * generation (its workers, or the ones a brutal reload killed). */
export function canFallBack(h: Handover): boolean {
  return h.workers.length > 0 || h.brutal === true;
}

/** Make the channels survive execve and describe the workers in the env. */
export function handOver(h: Handover): void {
  for (const w of h.workers) if (w.fd !== undefined) native.setCloexec(w.fd, false);
  // (the output pipes: log-relay.ts, which stopped reading them)
  process.env[GENERATION_ENV] = JSON.stringify(h);
}

/** The signals heard up to the exec, in what is handed over: some come
 * after handOver() (a group's, while a reload's atexit hooks run), and a
 * worker's report of the same signal, read by the new image, is then
 * judged the group's (master/worker-signals.ts). */
export function handOverHeard(heard: Record<string, number[]>): void {
  const raw = process.env[GENERATION_ENV];
  if (!raw) return;
  const h = JSON.parse(raw) as Handover;
  h.heard = heard;
  process.env[GENERATION_ENV] = JSON.stringify(h);
}

/** What the previous image handed over (once; removed from the env so
 * workers and hooks do not see it). */
export function takeHandover(): Handover | undefined {
  const raw = process.env[GENERATION_ENV];
  delete process.env[GENERATION_ENV];
  if (!raw) return undefined;
  let h: Handover;
  try {
    h = JSON.parse(raw) as Handover;
  } catch (e) {
    log('master').error({ code: 'LIEGE_ERR_RELOAD' }, `unable to read what the previous image handed over (its workers are not adopted): ${(e as Error).message}`);
    return undefined;
  }
  // a worker that died between the handover and the exec: its channel was
  // closed (EBADF here); it is adopted without one, and reaped (before, the
  // whole handover was dropped: every other worker left unwatched)
  for (const w of h.workers) {
    if (w.fd !== undefined && !cloexec(w.fd)) w.fd = undefined;
    // (its output pipes too: a hole, as adoptOutput reads a JSON null)
    if (w.out) w.out.fds = w.out.fds.map((fd) => (fd === null || cloexec(fd) ? fd : (null as unknown as number)));
  }
  h.shared = (h.shared ?? []).filter((p) => cloexec(p.fd));
  return h;
}

/** Marks an inherited fd close-on-exec; false when it is not open. */
function cloexec(fd: number): boolean {
  try {
    native.setCloexec(fd, true);
    return true;
  } catch {
    return false;
  }
}

/** A channel fd kept across the exec, read as Node's IPC framing (one JSON
 * message a line). */
export function openChannel(fd: number, onMessage: (m: unknown) => void, onClose: () => void): net.Socket {
  const sock = new net.Socket({ fd, readable: true, writable: true });
  onLines(sock, (line) => {
    try {
      onMessage(JSON.parse(line));
    } catch { /* not ours */ }
  });
  sock.on('error', () => sock.destroy());
  sock.on('close', onClose);
  return sock;
}
