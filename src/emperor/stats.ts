// emperor-stats: every connection gets one JSON document (uWSGI's emperor
// stats: version, pid, uid, gid, cwd, emperor monitors, vassals …) and is
// closed. HOST:PORT or a unix socket path.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { log } from '../log';

export function serveStats(addr: string, snapshot: () => object): net.Server {
  const server = net.createServer((c) => {
    c.on('error', () => { /* client went away */ });
    c.end(JSON.stringify(snapshot()) + '\n');
  });
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
