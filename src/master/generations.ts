// Reload handover: the master re-execs in place (same pid, the listening
// sockets inherited: sockets.ts) and the running workers are adopted across
// the execve instead of stopped. They keep serving — they are still our
// children, their IPC channel fd is left open for the new image — until the
// new generation accepts; then each one drains (drain.ts). If the new image
// cannot start (asap hook, a newly added port, …) it keeps supervising the
// old generation with the settings it carried over (master.ts runFallback).
import * as net from 'node:net';
import { onLines } from '../ipc/lines';
import type { WorkerSpec } from '../ipc/worker';
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

/** What the previous image handed over (once; removed from the env so
 * workers and hooks do not see it). */
export function takeHandover(): Handover | undefined {
  const raw = process.env[GENERATION_ENV];
  delete process.env[GENERATION_ENV];
  if (!raw) return undefined;
  try {
    const h = JSON.parse(raw) as Handover;
    for (const w of h.workers) if (w.fd !== undefined) native.setCloexec(w.fd, true);
    for (const p of h.shared ?? []) native.setCloexec(p.fd, true);
    return h;
  } catch {
    return undefined;
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
