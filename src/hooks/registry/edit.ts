// Adding and deleting registry hooks (the only writers of the file).
// Weights: a hook added without one gets 100 if it is the first of its
// event, else 100 above the highest weight of that event (100, 200, 300;
// after an explicit 455, 555). Adding a hook that is already registered
// (same id) replaces it and keeps its weight unless a new one is given.
import { byWeight, canonical, entryId, type Descriptor, type Kind, type RegistryEntry } from './entry';
import { updateRegistry } from './store';

export interface Added {
  entry: RegistryEntry;
  replaced: boolean;
}

export function addHooks(file: string, kind: Kind, ref: string, descs: readonly Descriptor[]): Added[] {
  return updateRegistry(file, (entries) => {
    const out = [...entries];
    const added: Added[] = [];
    for (const d of descs) {
      const category = d.category!;
      const id = entryId(kind, ref, d);
      const old = out.findIndex((e) => e.id === id);
      const same = out.filter((e, i) => i !== old && e.category === category && e.event === d.event);
      const weight = d.weight ?? (old >= 0 ? out[old]!.weight : same.length ? Math.max(...same.map((e) => e.weight)) + 100 : 100);
      const entry = canonical({ id, kind, ref, ...d, category, weight });
      if (old >= 0) out[old] = entry;
      else out.push(entry);
      added.push({ entry, replaced: old >= 0 });
    }
    return { entries: out, result: added };
  });
}

/** Which entries a `delete` means: by id, or by kind + ref and any descriptor given. */
export interface DeleteFilter {
  id?: string;
  kind?: Kind;
  ref?: string;
  match?: Partial<Descriptor>;
}

export function matches(e: RegistryEntry, f: DeleteFilter): boolean {
  if (f.id !== undefined) return e.id === f.id;
  if (e.kind !== f.kind || e.ref !== f.ref) return false;
  return Object.entries(f.match ?? {}).every(([k, v]) => v === undefined || e[k as keyof RegistryEntry] === v);
}

/** Removes the matching entries; returns them (none: nothing is written). */
export function deleteHooks(file: string, f: DeleteFilter): RegistryEntry[] {
  return updateRegistry(file, (entries) => {
    const gone = entries.filter((e) => matches(e, f));
    return { entries: gone.length ? entries.filter((e) => !matches(e, f)) : undefined, result: gone };
  });
}

/** Entries grouped by category and event, each group in run order. */
export function grouped(entries: readonly RegistryEntry[]): Map<string, Map<string, RegistryEntry[]>> {
  const out = new Map<string, Map<string, RegistryEntry[]>>();
  const sorted = [...entries].sort((a, b) => a.category.localeCompare(b.category) || a.event.localeCompare(b.event) || (a.stage === b.stage ? 0 : a.stage === 'pre' ? -1 : 1) || byWeight(a, b));
  for (const e of sorted) {
    const byEvent = out.get(e.category) ?? new Map<string, RegistryEntry[]>();
    out.set(e.category, byEvent);
    byEvent.set(e.event, [...(byEvent.get(e.event) ?? []), e]);
  }
  return out;
}
