// A worker the master SIGKILLs takes what its app spawned with it: a brutal
// reload (fifo R) leaves nothing of the old generation (children, `setsid`
// children, double-forked jobs that landed on the master), and a worker
// killed by harakiri or by an expired worker-reload-mercy leaves none of
// its children. Every process the app starts carries the worker's pid in
// its command line, so the test tells whose it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, cmdlineOf, freePort, get, killGroup, killMarked, processes, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const MARK = `liege-killed-tree-${process.pid}`;
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  killMarked(MARK);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const marked = () => processes().filter((x) => x.state !== 'Z').map((x) => ({ pid: x.pid, cmd: x.argv.join(' ') })).filter((x) => x.cmd.includes(MARK));
/** The marked processes a worker started: kind → count. */
const ofWorker = (worker: number) => marked().filter((x) => x.cmd.endsWith(`-${worker}`));
const loop = (name: string) => `sh -c 'while :; do sleep 1; done' ${MARK}-${name}-\${process.pid}`;

// a child, a setsid child (its own session), a double-forked job (lands on
// the master); SIGTERM ignored: only a SIGKILL ends the worker; /spin sticks
const APP = [
  "const { spawn } = require('child_process');",
  "process.on('SIGTERM', () => {});",
  `spawn('sh', ['-c', 'while :; do sleep 1; done', \`${MARK}-child-\${process.pid}\`], { stdio: 'ignore' });`,
  `spawn('setsid', ['sh', '-c', 'while :; do sleep 1; done', \`${MARK}-setsid-\${process.pid}\`], { stdio: 'ignore' });`,
  `spawn('sh', ['-c', \`(${loop('double')} &)\`], { stdio: 'ignore' });`,
  'module.exports = (req, res) => {',
  "  if (req.url === '/spin') for (;;) { /* stuck */ }",
  "  res.writeHead(200, { 'x-pid': String(process.pid) });",
  "  res.end('ok\\n');",
  '};',
  '',
].join('\n');

async function serve(name: string, extra: string[], source = APP) {
  const app = path.join(dir, `${name}.js`);
  fs.writeFileSync(app, source);
  const fifo = path.join(dir, `${name}.fifo`);
  const port = await freePort();
  const ini = writeIni(dir, ['master = true', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`, `master-fifo = ${fifo}`, ...extra], `${name}.ini`);
  const p = startLiege(['--ini', ini], { cwd: dir });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  await until(() => (fs.existsSync(fifo) ? true : undefined));
  return { p, fifo, port, log: () => err };
}

/** The master's workers once each has started its three processes. */
async function workersWithJobs(master: number, n: number): Promise<number[]> {
  return until(() => {
    const w = childrenOf(master).filter((c) => cmdlineOf(c).includes('worker/main'));
    return w.length === n && w.every((x) => ofWorker(x).length === 3) ? w : undefined;
  });
}

describe('a worker SIGKILLed by the master takes its descendants with it', () => {
  it('fifo R: nothing of the old generation is left; the new one starts its own', async () => {
    const { p, fifo, log } = await serve('brutal', ['processes = 2']);
    const old = await workersWithJobs(p.pid!, 2);
    fs.writeFileSync(fifo, 'R');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    await until(() => (old.every((w) => ofWorker(w).length === 0) ? true : undefined), 10_000).catch(() => {
      throw new Error(`left: ${JSON.stringify(old.flatMap(ofWorker))}`);
    });
    const now = await workersWithJobs(p.pid!, 2);
    expect(now.filter((w) => old.includes(w))).toEqual([]);
    expect(log()).toMatch(/brutal reload: killed what the old generation left behind/);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(marked()).toEqual([]);
  }, 90_000);

  it('harakiri: the stuck worker\'s children and setsid children go with it', async () => {
    const { p, fifo, port, log } = await serve('harakiri', ['processes = 1', 'harakiri = 1']);
    const [stuck] = await workersWithJobs(p.pid!, 1);
    void fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
    await until(() => (/harakiri: a request ran/.test(log()) ? true : undefined), 20_000);
    // its own tree (the double-forked job is the master's: killed at the stop)
    await until(() => (ofWorker(stuck!).filter((x) => !x.cmd.includes('-double-')).length === 0 ? true : undefined), 10_000).catch(() => {
      throw new Error(`left: ${JSON.stringify(ofWorker(stuck!))}`);
    });
    await workersWithJobs(p.pid!, 1);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(marked()).toEqual([]);
  }, 60_000);

  it('worker-reload-mercy: a worker that does not drain in time is SIGKILLed with its children', async () => {
    const { p, fifo, port, log } = await serve('mercy', ['processes = 1', 'worker-reload-mercy = 1']);
    const [stuck] = await workersWithJobs(p.pid!, 1);
    void fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    fs.writeFileSync(fifo, 'c'); // chain reload: the stuck worker drains, then its mercy expires
    await until(() => (/chain reload done/.test(log()) ? true : undefined), 30_000);
    await until(() => (ofWorker(stuck!).filter((x) => !x.cmd.includes('-double-')).length === 0 ? true : undefined), 10_000).catch(() => {
      throw new Error(`left: ${JSON.stringify(ofWorker(stuck!))}`);
    });
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(marked()).toEqual([]);
  }, 60_000);
});

// the same app, but one that drains on SIGTERM and exits on GET /exit
const ENDS = APP.replace("process.on('SIGTERM', () => {});", '').replace("  if (req.url === '/spin')", "  if (req.url === '/exit') setTimeout(() => process.exit(0), 10);\n  if (req.url === '/spin')");

describe('a worker that ends by itself takes its children with it', () => {
  // before: they landed on the master and ran until the stop, every reload
  // adding the old workers' children; a double-forked job is the master's
  const own = (w: number) => ofWorker(w).filter((x) => !x.cmd.includes('-double-'));
  it('drained by a graceful reload, or exiting on its own: its children and setsid children go; the new workers keep theirs', async () => {
    const { p, fifo, port, log } = await serve('ends', ['processes = 2'], ENDS);
    const old = await workersWithJobs(p.pid!, 2);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    await until(() => (old.every((w) => own(w).length === 0) ? true : undefined), 10_000).catch(() => {
      throw new Error(`left: ${JSON.stringify(old.flatMap(own))}`);
    });
    const now = await workersWithJobs(p.pid!, 2);
    const r = await fetch(`http://127.0.0.1:${port}/exit`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5000) });
    await r.text();
    const gone = Number(r.headers.get('x-pid'));
    expect(now).toContain(gone);
    await until(() => (own(gone).length === 0 ? true : undefined), 10_000).catch(() => {
      throw new Error(`left: ${JSON.stringify(own(gone))}`);
    });
    const other = now.find((w) => w !== gone)!;
    expect(own(other)).toHaveLength(2); // (a worker that lives keeps them)
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(marked()).toEqual([]);
  }, 90_000);
});
