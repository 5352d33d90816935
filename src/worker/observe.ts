// What a worker sees of each request: counters for the master's stats
// (requests, in flight, avg response time, exceptions, bytes) sent at most
// once a second, and the request log line (log.ts). One prepended 'request'
// listener per server; the cost is measured in bench/README.md.
import type * as http from 'node:http';
import type { WorkerCounters, WorkerMessage, WorkerSpec } from '../ipc/worker';
import { log, requestLog } from '../log';

export class RequestObserver {
  private readonly c: WorkerCounters = { requests: 0, exceptions: 0, busy: 0, rtSumUs: 0, tx: 0, lastRequestMs: 0 };
  private timer?: NodeJS.Timeout;
  private readonly logAll: boolean;

  constructor(private readonly spec: WorkerSpec, private readonly send: (m: WorkerMessage) => void) {
    this.logAll = !spec.requestLog?.disabled;
  }

  observe = (server: http.Server): void => {
    server.prependListener('request', this.onRequest);
  };

  /** An exception of the app while serving (fetch handlers): logged, counted. */
  appError = (e: unknown, req: http.IncomingMessage): void => {
    this.c.exceptions++;
    const err = e as Error;
    log('app').error({ worker: this.spec.id, method: req.method, uri: req.url, error: err?.message ?? String(e) }, `app exception: ${err?.stack ?? String(e)}`);
    this.report();
  };

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const start = process.hrtime.bigint();
    const written = req.socket?.bytesWritten ?? 0;
    const c = this.c;
    c.busy++;
    c.lastRequestMs = Date.now();
    const done = () => {
      c.busy--;
      c.requests++;
      const us = Number((process.hrtime.bigint() - start) / 1000n);
      c.rtSumUs += us;
      const bytes = (req.socket?.bytesWritten ?? written) - written; // headers + body of this response
      c.tx += bytes;
      const rl = this.spec.requestLog;
      const status = res.statusCode;
      if (this.logAll || (rl && ((rl.log4xx && status >= 400 && status < 500) || (rl.log5xx && status >= 500) || (rl.slowMs > 0 && us >= rl.slowMs * 1000)))) {
        requestLog({ worker: this.spec.id, requests: c.requests, addr: req.socket?.remoteAddress ?? '-', method: req.method ?? '-', uri: req.url ?? '-', proto: `HTTP/${req.httpVersion}`, status, bytes, us });
      }
      this.report();
    };
    res.once('finish', done);
    res.once('close', () => { if (!res.writableFinished) { res.off('finish', done); done(); } });
  };

  // counters to the master, at most once a second
  private report(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send({ type: 'counters', ...this.c });
    }, 1000);
    this.timer.unref();
  }
}
