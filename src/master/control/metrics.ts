// `metrics = HOST:PORT`: a Prometheus endpoint (prom-client, loaded only
// when configured) computed at each scrape from the worker table.
import type * as http from 'node:http';
import type { StatsSource } from './stats';
import { capClients } from '../../os/client-cap';
import { listenOn, rssOf, sayAsMaster } from './stats';

export async function startMetricsServer(addr: string, src: StatsSource, fd?: number): Promise<http.Server> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const prom = require('prom-client') as typeof import('prom-client');
  // node:http too: a master without `metrics` should not compile and hold it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createServer } = require('node:http') as typeof import('node:http');
  const registry = new prom.Registry();
  const perWorker = (name: string, help: string, value: (w: ReturnType<StatsSource['workers']>[number]) => number, type: 'gauge' | 'counter' = 'gauge') => {
    const Metric = type === 'gauge' ? prom.Gauge : prom.Counter;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    new (Metric as any)({
      name,
      help,
      labelNames: ['worker'],
      registers: [registry],
      collect(this: { reset(): void; set?: (l: object, v: number) => void; inc?: (l: object, v: number) => void }) {
        this.reset();
        for (const w of src.workers()) {
          const v = value(w);
          if (this.set) this.set({ worker: String(w.id) }, v);
          else if (v > 0) this.inc!({ worker: String(w.id) }, v);
        }
      },
    });
  };
  perWorker('liege_worker_requests_total', 'requests served by the worker slot', (w) => w.total.requests, 'counter');
  perWorker('liege_worker_exceptions_total', 'app exceptions in the worker slot', (w) => w.total.exceptions, 'counter');
  perWorker('liege_worker_respawns_total', 'times the worker slot was (re)spawned', (w) => w.respawns, 'counter');
  perWorker('liege_worker_busy', 'requests in flight', (w) => w.counters.busy);
  perWorker('liege_worker_rss_bytes', 'resident memory of the worker', (w) => rssOf(w.pid));
  perWorker('liege_worker_avg_response_seconds', 'mean response time of the worker slot', (w) => (w.total.requests ? w.total.rtSumUs / w.total.requests / 1e6 : 0));
  perWorker('liege_worker_up', '1 when the worker process runs', (w) => (w.pid ? 1 : 0));
  perWorker('liege_worker_harakiri_total', 'times harakiri killed the worker of the slot', (w) => w.harakiri, 'counter');
  new prom.Gauge({
    name: 'liege_socket_listen_queue',
    help: 'connections waiting in the socket\'s accept queue (no worker took them yet)',
    labelNames: ['socket'],
    registers: [registry],
    collect() {
      this.reset();
      const queues = src.queues?.() ?? [];
      src.sockets.forEach((s, i) => this.set({ socket: s.addr }, queues[i] ?? 0));
    },
  });
  new prom.Gauge({ name: 'liege_master_rss_bytes', help: 'resident memory of the master', registers: [registry], collect() { this.set(rssOf(process.pid)); } });
  // the master's fds are the instance's: a client that sends no request is
  // cut off within seconds (Node's defaults: a minute and more)
  const server = createServer({ headersTimeout: 5000, requestTimeout: 10_000, connectionsCheckingInterval: 1000 }, async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { connection: 'close' }).end();
      return;
    }
    // a connection per scrape: none is left idle for a reload's exec to cut
    res.writeHead(200, { 'content-type': registry.contentType, connection: 'close' });
    res.end(await registry.metrics());
  });
  capClients(server, 'metrics', addr, sayAsMaster);
  await listenOn(server, addr, fd);
  return server;
}
