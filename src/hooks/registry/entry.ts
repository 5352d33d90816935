// One hook of the registry (the hook DB): what it is (a script or a module),
// where it runs (category, event, stage, weight) and its companions (check,
// rollback), plus the checks every descriptor goes through — on `add`, and
// again on every load, so a hand-edited file cannot smuggle a bad entry in.
import { phaseByName, PHASES, REQUEST_EVENTS, VASSAL_PHASES } from '../../phases';

export const CATEGORIES = ['Phase', 'Vassal', 'Request'] as const;
export type Category = (typeof CATEGORIES)[number];
export type Kind = 'script' | 'module';

/** What a hook says about itself (flags, `--describe`, `describe()`). */
export interface Descriptor {
  category?: Category;
  event: string;
  stage: 'pre' | 'post';
  weight?: number;
  check?: string;
  rollback?: string;
  escalateprivs?: boolean;
  action?: string;
}

export interface RegistryEntry extends Descriptor {
  id: string; // stable: derived from kind, ref, category, event, stage, action
  kind: Kind;
  ref: string; // absolute path of the script or module
  category: Category;
  weight: number;
}

/** Events of each category, in the order they happen. */
export function eventsOf(c: Category): readonly string[] {
  if (c === 'Request') return REQUEST_EVENTS;
  if (c === 'Vassal') return VASSAL_PHASES;
  return PHASES.filter((p) => p.implemented && !VASSAL_PHASES.includes(p.name)).map((p) => p.name);
}

/** The category an event belongs to (events are unique across categories). */
export function categoryOf(event: string): Category | undefined {
  return CATEGORIES.find((c) => eventsOf(c).includes(event));
}

const FIELDS = ['category', 'event', 'stage', 'weight', 'check', 'rollback', 'escalateprivs', 'action'];

/** Checks one descriptor object; throws a string saying what is wrong. */
export function checkDescriptor(raw: unknown, kind: Kind): Descriptor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw 'a descriptor object {category, event, stage, weight ...}';
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw `unknown descriptor \`${unknown[0]}\` (known: ${FIELDS.join(', ')})`;
  const str = (k: string): string | undefined => {
    if (o[k] === undefined || o[k] === null) return undefined;
    if (typeof o[k] !== 'string' || o[k] === '') throw `\`${k}\` must be a non-empty string`;
    return o[k] as string;
  };
  const event = str('event');
  if (!event) throw '`event`: a phase or request event name';
  let category = str('category') as Category | undefined;
  if (category !== undefined && !CATEGORIES.includes(category)) throw `unknown category \`${category}\` (expected ${CATEGORIES.join(', ')})`;
  category ??= categoryOf(event);
  if (!category || !eventsOf(category).includes(event)) {
    const c = category ?? 'Phase';
    throw `unknown ${c} event \`${event}\` (expected one of: ${eventsOf(c).join(', ')})`;
  }
  const stage = str('stage') ?? 'pre';
  if (stage !== 'pre' && stage !== 'post') throw `\`stage\` must be pre or post, not \`${stage}\``;
  let weight: number | undefined;
  if (o.weight !== undefined && o.weight !== null) {
    weight = typeof o.weight === 'string' && /^-?\d+$/.test(o.weight) ? Number(o.weight) : (o.weight as number);
    if (!Number.isInteger(weight)) throw `\`weight\` must be an integer, not \`${String(o.weight)}\``;
  }
  const esc = o.escalateprivs;
  if (esc !== undefined && typeof esc !== 'boolean') throw '`escalateprivs` must be true or false';
  if (category === 'Request' && kind === 'script') throw 'Request hooks run inside the workers: register a module, not a script';
  if (esc && /worker/.test(phaseByName(event)?.process ?? '')) throw `escalateprivs hooks run in the master: not in the worker phase \`${event}\``;
  if (category === 'Request' && (esc || o.rollback !== undefined || o.check !== undefined)) throw 'Request hooks take no check, rollback or escalateprivs';
  const d: Descriptor = { category, event, stage, weight, check: str('check'), rollback: str('rollback'), escalateprivs: esc === true ? true : undefined, action: str('action') };
  for (const k of Object.keys(d) as Array<keyof Descriptor>) if (d[k] === undefined) delete d[k];
  return d;
}

/** Stable id: the same hook with the same descriptors always gets the same id. */
export function entryId(kind: Kind, ref: string, d: Descriptor): string {
  const key = [kind, ref, d.category, d.event, d.stage, d.action ?? ''].join('\0');
  // required here: loading node:crypto (OpenSSL) costs every process ~2 MiB
  // of RSS, and most never compute an id (bench/README.md)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(key).digest('hex').slice(0, 10);
}

/** The entry with its fields in one fixed order (how the file shows them). */
export function canonical(e: RegistryEntry): RegistryEntry {
  const out = { id: e.id, kind: e.kind, ref: e.ref, category: e.category, event: e.event, stage: e.stage, weight: e.weight, action: e.action, check: e.check, rollback: e.rollback, escalateprivs: e.escalateprivs };
  for (const k of Object.keys(out) as Array<keyof RegistryEntry>) if (out[k] === undefined) delete out[k];
  return out;
}

/** Run order inside one event and stage. */
export function byWeight(a: RegistryEntry, b: RegistryEntry): number {
  return a.weight - b.weight || a.id.localeCompare(b.id);
}
