// systemd's sd_notify protocol: when started by a Type=notify unit,
// NOTIFY_SOCKET names a unix datagram socket for READY=1, RELOADING=1,
// STOPPING=1 and STATUS=… lines. The variable stays in the master's own
// environment (a reload re-execs with it: same MAINPID); workers and vassals
// are started without it.
import { native } from './native';

/** Send `fields` (e.g. { READY: 1, STATUS: '…' }) if systemd listens.
 * Returns the error when the socket could not be written (the caller logs). */
export function sdNotify(fields: Record<string, string | number>): Error | undefined {
  const socketPath = process.env.NOTIFY_SOCKET;
  if (!socketPath) return undefined;
  const msg = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('\n');
  try {
    native.sdNotify(socketPath, msg);
    return undefined;
  } catch (e) {
    return e as Error;
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
