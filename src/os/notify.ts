// systemd's sd_notify protocol: when started by a Type=notify unit,
// NOTIFY_SOCKET names a unix datagram socket for READY=1, RELOADING=1,
// STOPPING=1 and STATUS=… lines. The variable stays in the master's own
// environment (a reload re-execs with it: same MAINPID); workers and vassals
// are started without it.
import { log } from '../log';
import { native } from './native';

/** Send `fields` (e.g. { READY: 1, STATUS: '…' }) if systemd listens. */
export function sdNotify(fields: Record<string, string | number>): void {
  const socketPath = process.env.NOTIFY_SOCKET;
  if (!socketPath) return;
  const msg = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('\n');
  try {
    native.sdNotify(socketPath, msg);
  } catch (e) {
    log('master').warn({ socket: socketPath, error: (e as Error).message }, 'unable to notify systemd');
  }
}
