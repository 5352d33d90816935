// The etcd monitor on its own, against a real 3-member etcd cluster: three
// monitors in this process stand for three emperors (their desired sets are
// what their emperors would run). Claims spread with none duplicated; puts
// and deletes reach the owner; a monitor that dies (lease abandoned) has its
// vassals claimed elsewhere within TTL + 1 s; a partitioned monitor empties
// its set before anyone else can claim; drain hands over one at a time.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdMonitor } from '../../src/emperor/monitors/etcd';
import type { DesiredSet } from '../../src/emperor/monitors/monitor';
import { EtcdCluster } from './etcd-cluster';
import { TcpProxy } from './tcp-proxy';
import { until } from './helpers';

const TTL = 2;
const cluster = new EtcdCluster();
const live: EtcdMonitor[] = [];
let n = 0;

interface Probe {
  m: EtcdMonitor;
  set: DesiredSet;
  history: { at: number; names: string[] }[];
}

function monitor(endpoints: string, prefix: string, accept = true): Probe {
  const m = new EtcdMonitor(`etcd://${endpoints}/${prefix}`, { ttl: TTL, capacity: 0, tags: [], id: `e${++n}`, auth: {} });
  const p: Probe = { m, set: new Map(), history: [] };
  live.push(m);
  void m.start((set) => {
    const before = p.set;
    p.set = set;
    p.history.push({ at: Date.now(), names: [...set.keys()] });
    // stand in for the emperor: a new vassal is soon accepting
    if (accept) for (const k of set.keys()) if (!before.has(k)) setTimeout(() => m.vassalState(k, 'accepting'), 50);
  });
  return p;
}

/** Abandon a monitor as if its process died: no revoke, no more keepalives. */
async function die(m: EtcdMonitor): Promise<void> {
  await m.lease.stop(false);
  (m as unknown as { mirror: { stop(): void } }).mirror.stop();
  (m as unknown as { stopped: boolean }).stopped = true;
  m.client.close();
}

const union = (ps: Probe[]) => ps.flatMap((p) => [...p.set.keys()]);

beforeAll(async () => { await cluster.start(); });
afterAll(async () => {
  for (const m of live) await m.stop().catch(() => {});
  await cluster.stop();
});

describe('etcd monitor', () => {
  it('spreads 30 vassals over 3 monitors, follows put/update/delete, fails over a dead one', async () => {
    const ps = [1, 2, 3].map(() => monitor(cluster.endpoints, 'spread'));
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < 30; i++) await cluster.ctl('put', `spread/vassals/v${String(i).padStart(2, '0')}`, `[uwsgi]\nattach-daemon = sleep ${1000 + i}\n`);
    await until(() => union(ps).length === 30, 15_000);
    const all = union(ps);
    expect(new Set(all).size).toBe(30);
    for (const p of ps) expect(p.set.size).toBe(10);

    // an update reaches the owner only, with a new version and the new text
    const owner = ps.find((p) => p.set.has('etcd:v07'))!;
    const v1 = owner.set.get('etcd:v07')!.version;
    await cluster.ctl('put', 'spread/vassals/v07', '[uwsgi]\nattach-daemon = sleep 7777\n');
    await until(() => owner.set.get('etcd:v07')?.version !== v1);
    expect(fs.readFileSync(owner.set.get('etcd:v07')!.config, 'utf8')).toContain('sleep 7777');
    expect(union(ps).filter((k) => k === 'etcd:v07')).toHaveLength(1);
    await cluster.ctl('del', 'spread/vassals/v07');
    await until(() => !owner.set.has('etcd:v07'));
    expect(await cluster.ctl('get', 'spread/owners/v07')).toBe('');

    // a dead monitor's vassals are claimed by the others within TTL + 1 s
    const dead = ps[0]!;
    const orphans = [...dead.set.keys()];
    await die(dead.m);
    const t0 = Date.now();
    await until(() => orphans.every((k) => ps[1]!.set.has(k) || ps[2]!.set.has(k)), 10_000);
    const took = Date.now() - t0;
    // TTL + 1 s is the target (bench/etcd-failover.js measures it); a shared test box gets slack
    expect(took).toBeLessThan((TTL + 1) * 1000 + 3000);
    expect(new Set(union(ps.slice(1))).size).toBe(29);
    expect(union(ps.slice(1))).toHaveLength(29);
  });

  it('a partitioned monitor empties its set before its vassals are claimed elsewhere, and rejoins', async () => {
    const proxies = await Promise.all(cluster.members.map(async (m) => { const p = new TcpProxy(m.client); await p.start(); return p; }));
    try {
      const cut = monitor(proxies.map((p) => `127.0.0.1:${p.port}`).join(','), 'part');
      const others = [monitor(cluster.endpoints, 'part'), monitor(cluster.endpoints, 'part')];
      await new Promise((r) => setTimeout(r, 2000));
      for (let i = 0; i < 9; i++) await cluster.ctl('put', `part/vassals/p${i}`, '[uwsgi]\n');
      await until(() => union([cut, ...others]).length === 9 && cut.set.size > 0, 15_000);
      const held = [...cut.set.keys()];
      await Promise.all(proxies.map((p) => p.block()));
      const t0 = Date.now();
      await until(() => cut.set.size === 0, 10_000);
      const fenced = Date.now();
      await until(() => held.every((k) => others.some((o) => o.set.has(k))), 10_000);
      const claimed = Math.min(...others.flatMap((o) => o.history.filter((h) => h.names.some((k) => held.includes(k))).map((h) => h.at)));
      expect(fenced).toBeLessThan(claimed);
      expect(claimed - t0).toBeLessThan((TTL + 1) * 1000 + 3000);
      // back on the network: it registers again (new lease) and takes new work
      await Promise.all(proxies.map((p) => p.heal()));
      await until(async () => (await cluster.ctl('get', '--prefix', '--keys-only', 'part/emperors/')).includes(cut.m.id), 15_000);
      for (let i = 9; i < 15; i++) await cluster.ctl('put', `part/vassals/p${i}`, '[uwsgi]\n');
      await until(() => union([cut, ...others]).length === 15 && cut.set.size > 0, 15_000);
      expect(new Set(union([cut, ...others])).size).toBe(15);
    } finally {
      for (const p of proxies) await p.stop();
    }
  });

  it('drain hands every vassal over, the new copy accepting before the old one goes', async () => {
    const ps = [monitor(cluster.endpoints, 'drain'), monitor(cluster.endpoints, 'drain')];
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < 6; i++) await cluster.ctl('put', `drain/vassals/d${i}`, '[uwsgi]\n');
    await until(() => union(ps).length === 6, 15_000);
    const [a, b] = ps as [Probe, Probe];
    const moving = [...a.set.keys()];
    expect(moving.length).toBeGreaterThan(0);
    // what `liege etcd drain` writes (SIGUSR2 calls the same drain())
    await cluster.ctl('put', `drain/drain/${a.m.id}`, '');
    await until(() => a.set.size === 0 && b.set.size === 6, 30_000);
    await until(async () => (await cluster.ctl('get', `drain/drain/${a.m.id}`)) === '', 10_000);
    // every moved vassal was in b's set before it left a's
    for (const k of moving) {
      const held = a.history.findIndex((h) => h.names.includes(k));
      const gone = a.history.slice(held).find((h) => !h.names.includes(k))!.at;
      const came = b.history.find((h) => h.names.includes(k))!.at;
      expect(came).toBeLessThanOrEqual(gone);
    }
  });
});
