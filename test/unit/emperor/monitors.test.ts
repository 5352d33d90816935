// dir:// and glob:// monitors on a real directory: the whole desired set is
// pushed at start and again on file events (no waiting for the periodic scan).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMonitor } from '../../../src/emperor/monitors/index';
import type { DesiredSet } from '../../../src/emperor/monitors/monitor';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-mon-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const opts = { freqMs: 3_600_000, tyrant: true, nofollow: false };
const origin = { file: 'command line', line: 0 };

async function next(sets: DesiredSet[], n: number): Promise<DesiredSet> {
  for (let i = 0; i < 200 && sets.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(sets.length).toBe(n);
  return sets[n - 1]!;
}

describe('file monitors', () => {
  it('dir://: configs by extension, events push a new set, a touch changes the version', async () => {
    const d = path.join(dir, 'vassals');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'a.ini'), '[uwsgi]\n');
    fs.writeFileSync(path.join(d, 'notes.txt'), 'x');
    const sets: DesiredSet[] = [];
    const m = createMonitor(`dir://${d}`, opts, origin);
    await m.start((s) => sets.push(s));
    const first = await next(sets, 1);
    expect([...first.keys()]).toEqual([path.join(d, 'a.ini')]);
    expect(first.get(path.join(d, 'a.ini'))!.owner).toEqual({ uid: 0, gid: 0 });
    fs.writeFileSync(path.join(d, 'b.ini'), '[uwsgi]\n');
    expect([...(await next(sets, 2)).keys()].sort()).toEqual([path.join(d, 'a.ini'), path.join(d, 'b.ini')]);
    const future = new Date(Date.now() + 10_000);
    fs.utimesSync(path.join(d, 'a.ini'), future, future);
    const touched = await next(sets, 3);
    expect(touched.get(path.join(d, 'a.ini'))!.version).not.toBe(first.get(path.join(d, 'a.ini'))!.version);
    fs.rmSync(path.join(d, 'a.ini'));
    expect([...(await next(sets, 4)).keys()]).toEqual([path.join(d, 'b.ini')]);
    await m.stop();
  });

  it('a missing directory is watched until it appears', async () => {
    const d = path.join(dir, 'later');
    const sets: DesiredSet[] = [];
    const m = createMonitor(d, { ...opts, freqMs: 50 }, origin);
    await m.start((s) => sets.push(s));
    expect((await next(sets, 1)).size).toBe(0);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'x.ini'), '[uwsgi]\n');
    expect([...(await next(sets, 2)).keys()]).toEqual([path.join(d, 'x.ini')]);
    await m.stop();
  });

  it('glob://: the matching files, sorted; a bare pattern is a glob', async () => {
    for (const n of ['one', 'two']) {
      fs.mkdirSync(path.join(dir, 'g', n), { recursive: true });
      fs.writeFileSync(path.join(dir, 'g', n, 'app.ini'), '[uwsgi]\n');
    }
    const sets: DesiredSet[] = [];
    const m = createMonitor(path.join(dir, 'g', '*', 'app.ini'), opts, origin);
    expect(m.spec).toBe(`glob://${path.join(dir, 'g', '*', 'app.ini')}`);
    await m.start((s) => sets.push(s));
    expect([...(await next(sets, 1)).keys()]).toEqual(['one', 'two'].map((n) => path.join(dir, 'g', n, 'app.ini')));
    fs.rmSync(path.join(dir, 'g', 'one', 'app.ini'));
    expect([...(await next(sets, 2)).keys()]).toEqual([path.join(dir, 'g', 'two', 'app.ini')]);
    await m.stop();
  });

  it('an unknown scheme is a config error', () => {
    expect(() => createMonitor('zmq://x', opts, { file: 'e.ini', line: 3 })).toThrow(/unknown emperor monitor scheme/);
  });
});
