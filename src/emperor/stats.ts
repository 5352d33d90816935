// emperor-stats: every connection gets one JSON document (uWSGI's emperor
// stats: version, pid, uid, gid, cwd, emperor monitors, vassals …) and is
// closed. HOST:PORT or a unix socket path.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { log } from '../log';
import { capClients } from '../os/client-cap';

const STATS_CLIENT_MS = 5000;

export function serveStats(addr: string, snapshot: () => object): net.Server {
  const server = net.createServer((c) => {
    c.on('error', () => { /* client went away */ });
    // closed once the kernel has the answer: a client that never closes its
    // side (or never reads) held an fd of the emperor for good
    c.end(JSON.stringify(snapshot()) + '\n', () => c.destroy());
    c.setTimeout(STATS_CLIENT_MS, () => c.destroy());
  });
  capClients(server, 'emperor-stats', addr, (level, fields, msg) => log('emperor')[level](fields, msg));
  server.on('error', (e) => log('emperor').error({ stats: addr, error: e.message }, 'unable to serve emperor stats'));
  if (addr.includes('/')) {
    try { fs.unlinkSync(addr); } catch { /* none */ }
    server.listen(addr);
  } else {
    const colon = addr.lastIndexOf(':');
    server.listen(Number(addr.slice(colon + 1)), addr.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0');
  }
  server.unref();
  return server;
}
