// Which emperor should run an unowned vassal: the least loaded live emperor
// that has every tag the vassal requires and room under its capacity; ties
// go to the highest rendezvous hash of (vassal, emperor), so every emperor
// that sees the same etcd state computes the same assignment and only the
// chosen one claims. Unowned vassals are placed in name order, each
// placement counting toward the next (30 new vassals on 3 emperors: 10 each).
import { createHash } from 'node:crypto';

export interface EmperorInfo {
  capacity: number; // 0: no limit
  tags: string[];
  draining?: boolean; // handing its vassals over: takes no new ones
}

export interface PlacementInput {
  /** vassal name → tags it requires */
  vassals: ReadonlyMap<string, readonly string[]>;
  /** vassal name → owning emperor id */
  owners: ReadonlyMap<string, string>;
  /** live emperor id → what it registered */
  emperors: ReadonlyMap<string, EmperorInfo>;
}

export function rendezvous(vassal: string, emperor: string): string {
  return createHash('sha1').update(`${vassal}\0${emperor}`).digest('hex');
}

/** Vassals owned per live emperor. */
export function loads(input: PlacementInput): Map<string, number> {
  const load = new Map<string, number>();
  for (const id of input.emperors.keys()) load.set(id, 0);
  for (const [name, id] of input.owners) if (input.vassals.has(name) && load.has(id)) load.set(id, load.get(id)! + 1);
  return load;
}

export function eligible(info: EmperorInfo, tags: readonly string[], load: number): boolean {
  if (info.draining) return false;
  if (info.capacity > 0 && load >= info.capacity) return false;
  return tags.every((t) => info.tags.includes(t));
}

/** The best emperor for one vassal among `candidates`, or undefined. */
export function choose(vassal: string, tags: readonly string[], emperors: ReadonlyMap<string, EmperorInfo>, load: ReadonlyMap<string, number>, exclude?: string): string | undefined {
  let best: string | undefined;
  let bestLoad = Infinity;
  let bestHash = '';
  for (const [id, info] of emperors) {
    if (id === exclude) continue;
    const l = load.get(id) ?? 0;
    if (!eligible(info, tags, l)) continue;
    const h = rendezvous(vassal, id);
    if (l < bestLoad || (l === bestLoad && h > bestHash)) {
      best = id;
      bestLoad = l;
      bestHash = h;
    }
  }
  return best;
}

/** Every unowned vassal → the emperor that should claim it (absent: nobody fits). */
export function place(input: PlacementInput): Map<string, string> {
  const load = loads(input);
  const out = new Map<string, string>();
  const unowned = [...input.vassals.keys()].filter((n) => !input.owners.has(n)).sort();
  for (const name of unowned) {
    const id = choose(name, input.vassals.get(name)!, input.emperors, load);
    if (id === undefined) continue;
    out.set(name, id);
    load.set(id, load.get(id)! + 1);
  }
  return out;
}
