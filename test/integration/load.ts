// A keep-alive load loop in Node (wrk's shape: N connections, each sends its
// next request as soon as the previous answer arrived) that counts every
// failed request: socket errors, resets, non-2xx.
import * as http from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Record<string, number>;
  pids: Set<string>;
  maxMs: number;
}

export interface Load {
  stop(): Promise<LoadResult>;
  result: LoadResult;
}

/** Starts `connections` keep-alive clients against 127.0.0.1:port. */
export function startLoad(port: number, connections = 16): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const result: LoadResult = { ok: 0, failed: 0, errors: {}, pids: new Set(), maxMs: 0 };
  let running = true;
  const one = () => new Promise<void>((resolve) => {
    const t0 = Date.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => {
        result.maxMs = Math.max(result.maxMs, Date.now() - t0);
        if (res.statusCode === 200) result.ok++;
        else fail(`status ${res.statusCode}`);
        const pid = res.headers['x-pid'];
        if (typeof pid === 'string') result.pids.add(pid);
        resolve();
      });
      res.on('error', (e) => (fail((e as NodeJS.ErrnoException).code ?? e.message), resolve()));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => (fail((e as NodeJS.ErrnoException).code ?? e.message), resolve()));
  });
  const fail = (why: string) => {
    result.failed++;
    result.errors[why] = (result.errors[why] ?? 0) + 1;
  };
  const loops = Array.from({ length: connections }, async () => {
    while (running) await one();
  });
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
