// Whether a unix socket file has a listener. A stale one (its process
// gone) refuses the connect; one that does not answer within a second is
// taken as live: a socket file is never removed on a guess.
import * as net from 'node:net';

/** True unless the unix socket at `path` is stale (or gone). */
export function isLiveUnixSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ path });
    const end = (live: boolean) => {
      c.destroy();
      resolve(live);
    };
    c.once('connect', () => end(true));
    c.once('error', (e: NodeJS.ErrnoException) => end(e.code !== 'ECONNREFUSED' && e.code !== 'ENOENT'));
    c.setTimeout(1000, () => end(true));
  });
}
