import { describe, expect, it } from 'vitest';
import { choose, loads, place, type EmperorInfo } from '../../../src/emperor/monitors/etcd-placement';
import { parseEtcdSpec } from '../../../src/emperor/monitors/etcd-connect';
import { nameIn, requiredTags, splitTags } from '../../../src/emperor/monitors/etcd-keys';
import { PrefixMirror, prefixEnd } from '../../../src/emperor/monitors/etcd-mirror';
import { LiegeError } from '../../../src/errors';

const em = (capacity = 0, tags: string[] = [], draining = false): EmperorInfo => ({ capacity, tags, draining });
const names = (k: number) => new Map(Array.from({ length: k }, (_, i) => [`v${String(i).padStart(2, '0')}`, [] as string[]]));

describe('etcd placement (least loaded, rendezvous ties)', () => {
  it('spreads new vassals evenly and deterministically', () => {
    const emperors = new Map([['a', em()], ['b', em()], ['c', em()]]);
    const plan = place({ vassals: names(30), owners: new Map(), emperors });
    const count = (id: string) => [...plan.values()].filter((x) => x === id).length;
    expect([count('a'), count('b'), count('c')]).toEqual([10, 10, 10]);
    // the same view in another map order gives the same plan
    const again = place({ vassals: names(30), owners: new Map(), emperors: new Map([['c', em()], ['a', em()], ['b', em()]]) });
    expect([...again].sort()).toEqual([...plan].sort());
  });

  it('fills the least loaded first and respects capacity, tags and draining', () => {
    const owners = new Map([['v00', 'a'], ['v01', 'a'], ['v02', 'a']]);
    const plan = place({ vassals: names(5), owners, emperors: new Map([['a', em()], ['b', em()]]) });
    expect(plan.get('v03')).toBe('b');
    expect(plan.get('v04')).toBe('b');
    const capped = place({ vassals: names(5), owners: new Map(), emperors: new Map([['a', em(1)], ['b', em(2)]]) });
    expect(capped.size).toBe(3);
    const tagged = new Map([['x', ['ssd']], ['y', []]]);
    const t = place({ vassals: tagged, owners: new Map(), emperors: new Map([['a', em(0, ['ssd'])], ['b', em(0, [], false)]]) });
    expect(t.get('x')).toBe('a');
    expect(place({ vassals: new Map([['x', ['gpu']]]), owners: new Map(), emperors: new Map([['a', em()]]) }).size).toBe(0);
    expect(place({ vassals: names(2), owners: new Map(), emperors: new Map([['a', em(0, [], true)]]) }).size).toBe(0);
  });

  it('counts loads only for live emperors and existing vassals', () => {
    const l = loads({ vassals: names(2), owners: new Map([['v00', 'a'], ['gone', 'a'], ['v01', 'dead']]), emperors: new Map([['a', em()]]) });
    expect([...l]).toEqual([['a', 1]]);
    expect(choose('v', [], new Map([['a', em()], ['b', em()]]), new Map([['a', 0], ['b', 0]]), 'a')).toBe('b');
  });
});

describe('etcd specs and keys', () => {
  it('parses etcd:// specs and rejects bad ones with the spec as typed', () => {
    expect(parseEtcdSpec('etcd://h1:2379,10.0.0.2:2379/liege/prod')).toEqual({ hosts: ['h1:2379', '10.0.0.2:2379'], prefix: 'liege/prod' });
    expect(parseEtcdSpec('/etc/vassals')).toBeUndefined();
    for (const bad of ['etcd://h1/liege', 'etcd://h1:2379', 'etcd://h1:2379/', 'etcd://h1:2379/a/../b', 'etcd:///x']) {
      expect(() => parseEtcdSpec(bad)).toThrow(LiegeError);
    }
  });

  it('reads names, tags and the required tags of a vassal', () => {
    expect(nameIn('vassals', 'vassals/app-1')).toBe('app-1');
    expect(nameIn('vassals', 'vassals/a/b')).toBeUndefined();
    expect(nameIn('owners', 'vassals/x')).toBeUndefined();
    expect(splitTags(['ssd, eu', 'gpu'])).toEqual(['ssd', 'eu', 'gpu']);
    expect(requiredTags('[uwsgi]\nemperor-etcd-require-tags = ssd,eu\n[other]\nemperor-etcd-require-tags = x\n')).toEqual(['ssd', 'eu']);
  });

  it('computes a prefix range end', () => {
    expect(prefixEnd(Buffer.from('a/')).toString()).toBe('a0');
    expect([...prefixEnd(Buffer.from([0x61, 0xff]))]).toEqual([0x62]);
  });
});

describe('etcd mirror', () => {
  const kv = (key: string, value: string, mod: number) => ({ key: Buffer.from(key), value: Buffer.from(value), mod_revision: String(mod), create_revision: '1', version: '1', lease: '0' });
  it('applies each event once, even when a resumed watch replays it', () => {
    const m = new PrefixMirror(undefined as never, 'p/', () => {});
    const header = { cluster_id: '', member_id: '', revision: '0', raft_term: '' };
    expect(m.apply({ header, events: [{ type: 'Put', kv: kv('p/vassals/a', 'x', 5), prev_kv: undefined as never }] })).toEqual(['vassals/a']);
    expect(m.rev).toBe(5);
    // replayed after a reconnect: skipped
    expect(m.apply({ header, events: [{ type: 'Put', kv: kv('p/vassals/a', 'x', 5), prev_kv: undefined as never }, { type: 'Delete', kv: kv('p/vassals/a', '', 6), prev_kv: undefined as never }] })).toEqual(['vassals/a']);
    expect(m.kv.has('vassals/a')).toBe(false);
    expect(m.rev).toBe(6);
  });
});
