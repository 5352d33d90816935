// Apps written for node:cluster (`if (cluster.isPrimary) fork() else
// serve`): in a liege worker cluster.isPrimary is true. The fork fails at
// once with what to change (not a 60 s wait for a listen() and forked
// processes dying on a stack trace), as CommonJS or ES module, at load or
// later, and LIEGE_WORKER_ID tells the app it
// runs as a liege worker.
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

function start(app: string, port: number): { p: ResultPromise; stderr: () => string } {
  const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', app)]);
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return { p, stderr: () => err };
}

describe('node:cluster apps', () => {
  it('the cluster boilerplate (CommonJS) fails to load at once, naming cluster.fork(), LIEGE_WORKER_ID and its file:line, without a stack trace', async () => {
    const { stderr } = start('cluster-primary.js', await freePort());
    const err = await until(() => (/master: ERROR the app \S+ failed to load/.test(stderr()) ? stderr() : undefined));
    expect(err).toMatch(/cluster\.fork\(\) in a liege worker: .*LIEGE_WORKER_ID is set \(at .*cluster-primary\.js:7\)/);
    expect(err).not.toMatch(/^\s+at /m);
    expect(err).not.toMatch(/SyntaxError|JSON/);
  }, 30_000);

  it('as an ES module: fails to load at once too, naming its file; the processes it forked are gone', async () => {
    const { p, stderr } = start('cluster-primary.mjs', await freePort());
    const err = await until(() => (/master: ERROR the app \S+cluster-primary\.mjs failed to load: cluster\.fork\(\) in a liege worker/.test(stderr()) ? stderr() : undefined));
    expect(err).not.toMatch(/^\s+at /m);
    expect(err).not.toMatch(/SyntaxError|JSON/);
    // only the master and its workers: what the app forked was killed
    await until(() => (childrenOf(p.pid!).every((w) => childrenOf(w).length === 0) ? true : undefined));
  }, 30_000);

  it('as an ES module that forks later (a named import): the fork throws LIEGE_ERR_APP_LOAD', async () => {
    const port = await freePort();
    const { p } = start('cluster-late.mjs', port);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await until(() => (/fork refused|forked/.test(out) ? true : undefined));
    expect(out).toMatch(/^fork refused LIEGE_ERR_APP_LOAD$/m);
    expect(out).not.toMatch(/^forked$/m);
    expect((await until(() => get(port)))!.body).toBe('late\n');
  }, 30_000);

  it('changed as the error says (the worker branch when LIEGE_WORKER_ID is set), it serves from both workers, each knowing its id (and its PM2 NODE_APP_INSTANCE)', async () => {
    const port = await freePort();
    start('cluster-aware.js', port);
    const seen = new Set<string>();
    await until(async () => {
      const r = await get(port);
      if (r) seen.add(r.body.trim());
      return seen.size === 2 ? true : undefined;
    });
    expect([...seen].sort()).toEqual(['worker 1 instance 0', 'worker 2 instance 1']);
  }, 30_000);
});
