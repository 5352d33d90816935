// Draining a worker: stop accepting, let in-flight requests finish, exit.
import * as http from 'node:http';
import * as net from 'node:net';

/** Stop accepting, let in-flight requests finish, exit (cap: `mercyMs`). */
export function drainAndExit(servers: net.Server[], mercyMs: number): void {
  let open = servers.length;
  if (open === 0) process.exit(0);
  for (const s of servers) net.Server.prototype.close.call(s, () => { if (--open === 0) process.exit(0); });
  for (const s of servers) if (s instanceof http.Server) s.closeIdleConnections();
  setTimeout(() => process.exit(0), mercyMs).unref();
}
