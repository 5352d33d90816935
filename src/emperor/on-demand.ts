// On-demand vassals (emperor-on-demand-extension / -directory / -exec): the emperor
// binds the vassal's socket itself and spawns the vassal only when the first
// connection arrives, handing it the listening socket (fd 4, announced in
// LIEGE_SOCKET_FDS so the vassal adopts it for the same address in its
// config instead of binding). The emperor keeps its copy: a vassal that
// dies leaves connections queued, never refused. The first connection is
// seen without accepting it: a dup of the socket is read, which fails with
// EINVAL/ENOTCONN exactly when a connection is pending.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SOCKET_FDS_ENV } from '../ipc/vassal';
import { native } from '../os/native';
import { tcpAddress } from '../os/tcp-address';

export const ON_DEMAND_FD = 4; // after stdio and the emperor pipe

export interface OnDemandSocket {
  addr: string;
  fd: number;
  port: number;
}

/** The socket an on-demand vassal listens on: from CONFIG+EXT, or DIR/NAME.socket. */
export function onDemandAddr(config: string, ext: string | undefined, dir: string | undefined): string | undefined {
  if (ext) {
    try {
      return fs.readFileSync(config + ext, 'utf8').trim() || undefined;
    } catch {
      return undefined; // no socket file: an ordinary vassal
    }
  }
  if (dir) return path.join(dir, `${path.basename(config).replace(/\.[^.]*$/, '')}.socket`);
  return undefined;
}

const EXEC_TIMEOUT_MS = 10_000;

/** emperor-on-demand-exec: the first line `/bin/sh -c "CMD CONFIG"` prints
 * (uWSGI passes the vassal name as the only argument); undefined when it
 * prints nothing or fails (an ordinary vassal, `onError` says why). Never
 * waited for by the loop. */
export function onDemandExec(cmd: string, config: string, onError: (why: string) => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', `${cmd} "$1"`, 'sh', config], { timeout: EXEC_TIMEOUT_MS, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err) onError(err.killed ? `timed out after ${EXEC_TIMEOUT_MS} ms` : err.message.split('\n')[0]!);
      resolve(err ? undefined : stdout.split('\n')[0]!.trim() || undefined);
    });
  });
}

export function bindOnDemand(addr: string): OnDemandSocket {
  if (addr.includes('/') || addr.startsWith('@')) return { addr, fd: native.listenUnix(addr, 511), port: 0 };
  const { host, port } = tcpAddress(addr);
  const fd = native.listenTcp(host, port, 511);
  return { addr, fd, port: native.sockPort(fd) };
}

/** Calls `onFirst` once when a connection is pending; returns a cancel. */
export function watchFirstConnection(s: OnDemandSocket, onFirst: () => void): () => void {
  const w = new net.Socket({ fd: native.dupFd(s.fd), readable: true, writable: false });
  let done = false;
  const fire = () => {
    if (done) return;
    done = true;
    w.destroy();
    onFirst();
  };
  w.on('error', fire);
  w.on('data', fire);
  w.on('end', fire);
  return () => { done = true; w.destroy(); };
}

/** What the vassal's environment says about the handed-over socket: one
 * entry per protocol, the vassal adopts the one its config names. */
export function onDemandEnv(s: OnDemandSocket): Record<string, string> {
  const entries = ['http', 'uwsgi', 'https'].map((proto) => ({ addr: s.addr, proto, fd: ON_DEMAND_FD, port: s.port, external: true }));
  return { [SOCKET_FDS_ENV]: JSON.stringify(entries) };
}
