// systemd's sd_notify protocol: when started by a Type=notify unit,
// NOTIFY_SOCKET names a unix datagram socket for READY=1, RELOADING=1,
// STOPPING=1, WATCHDOG=1 and STATUS=… lines. The variable stays in the
// master's own environment (a reload re-execs with it: same MAINPID); workers
// and vassals are started without it.
// The socket is connected once, first thing, while the instance is still
// root: systemd's socket is root-only (0600 or in a 0700 dir), and the
// kernel checks the file's permission at connect, not at each send, so the
// connected fd reaches it after `uid`/`gid` dropped privileges (libsystemd's
// users do the same). The fd is close-on-exec (no worker or hook gets it)
// and is carried across the master's own re-exec (reload, fallback config).
import * as fs from 'node:fs';
import { native } from './native';

const FD_ENV = 'LIEGE_NOTIFY_FD';
/** The connected socket no longer leads to systemd's (it was re-created). */
const PEER_GONE = new Set(['ECONNREFUSED', 'ENOTCONN', 'ECONNRESET']);

let connected: number | undefined;

/** Connect to NOTIFY_SOCKET now (before the privileges drop), or take the
 * socket the previous image connected (a reload's re-exec). When it cannot
 * connect (no socket yet), each message tries the path and the first that
 * fails is reported (sdNotifyReported): one warning, not two. */
export function openNotify(): void {
  const inherited = Number(process.env[FD_ENV] ?? NaN);
  delete process.env[FD_ENV];
  const socketPath = process.env.NOTIFY_SOCKET;
  if (!socketPath || connected !== undefined) return;
  if (Number.isInteger(inherited) && isSocket(inherited)) {
    native.setCloexec(inherited, true);
    connected = inherited;
    return;
  }
  try {
    connected = native.dgramSocket(socketPath, -1, true);
  } catch { /* the first message that fails says why */ }
}

/** Keep the connected socket across this process's execve. */
export function keepNotifyAcrossExec(): void {
  if (connected === undefined) return;
  native.setCloexec(connected, false);
  process.env[FD_ENV] = String(connected);
}

/** Send `fields` (e.g. { READY: 1, STATUS: '…' }) if systemd listens.
 * Returns the error when the socket could not be written (the caller logs). */
export function sdNotify(fields: Record<string, string | number>): Error | undefined {
  const socketPath = process.env.NOTIFY_SOCKET;
  if (!socketPath) return undefined;
  const msg = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('\n');
  if (connected !== undefined) {
    const err = sendConnected(msg);
    if (!err || !PEER_GONE.has(err.code ?? '')) return err;
    // systemd made a new socket (or none listens): connect again by path
    // (as root it works; dropped, the path's permission decides)
    native.closeFd(connected);
    connected = undefined;
    try { connected = native.dgramSocket(socketPath, -1, true); } catch { /* the path's send says why */ }
    if (connected !== undefined) return sendConnected(msg);
  }
  // no socket could be connected: a socket of this message's own says why
  let fd: number | undefined;
  try {
    fd = native.dgramSocket(socketPath, -1);
    native.dgramSend(fd, msg, socketPath);
    return undefined;
  } catch (e) {
    return e as Error;
  } finally {
    if (fd !== undefined) native.closeFd(fd);
  }
}

/** RELOADING=1 as systemd's Type=notify-reload needs it: with
 * MONOTONIC_USEC (CLOCK_MONOTONIC, as libuv's hrtime), which systemd
 * compares with the moment it sent its reload signal; without it a
 * notify-reload unit's reload waited for READY=1 in vain until its timeout.
 * (Type=notify with ExecReload= ignores the field.) */
export function reloading(): Record<string, string | number> {
  return { RELOADING: 1, MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) };
}

function sendConnected(msg: string): NodeJS.ErrnoException | undefined {
  try {
    native.dgramSend(connected!, msg);
    return undefined;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

function isSocket(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

let failing = false;

/** sdNotify for a loop that sends often (the watchdog's WATCHDOG=1 twice
 * per interval): `report(err)` once when sending starts to fail, and
 * `report(undefined)` once it goes through again, never once per message
 * (a socket gone or refused to the dropped user was a warning a second). */
export function sdNotifyReported(fields: Record<string, string | number>, report: (err: Error | undefined) => void): void {
  const err = sdNotify(fields);
  if (!err === !failing) return;
  failing = !!err;
  report(err);
}
