// The stats' harakiri_count (uWSGI's, per worker slot): how many times
// harakiri killed the slot's worker. Before, always 0.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Stats { workers: Array<{ id: number; pid: number; harakiri_count: number }> }

function stats(port: number): Promise<Stats | undefined> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    c.on('data', (d) => { out += d; });
    c.on('end', () => { try { resolve(JSON.parse(out) as Stats); } catch { resolve(undefined); } });
    c.on('error', () => resolve(undefined));
  });
}

describe('stats harakiri_count', () => {
  it('counts the harakiri kills of the slot that ran the stuck request, the other slot stays 0', async () => {
    const [port, statsPort] = [await freePort(), await freePort()];
    const p = startLiege(['--master', '--processes', '2', '--node-app', `${FIXTURES}/apps/stuck.js`, '--http-socket', `127.0.0.1:${port}`, '--harakiri', '1', '--stats', `127.0.0.1:${statsPort}`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const before = await until(() => stats(statsPort));
    expect(before.workers.map((w) => w.harakiri_count)).toEqual([0, 0]);
    const stuck = fetch(`http://127.0.0.1:${port}/spin`, { signal: AbortSignal.timeout(20_000) }).catch(() => undefined);
    const after = await until(() => stats(statsPort).then((s) => (s && s.workers.some((w) => w.harakiri_count > 0) ? s : undefined)), 20_000);
    await stuck;
    expect(after.workers.map((w) => w.harakiri_count).sort()).toEqual([0, 1]);
  }, 30_000);
});
