// Registry hooks, hook-dir executables and request-hook modules joined to
// the config's plan. In one phase: registry `pre` hooks (by weight), the
// config's own hooks, the hook-dir executables (by name), registry `post`
// hooks (by weight). Request hooks (registry category Request and
// `request-hooks = FILE`) are kept under the plan key `request` for the
// workers. Every joined hook is plain data (ExtraHook) so that the master
// can hand the worker phases' ones to the workers as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../config/config';
import { configError, type Origin } from '../../errors';
import { PHASES } from '../../phases';
import { listHookDirs } from '../dirs';
import { checkTrusted, escalated, reconnectPrivsep } from '../privsep';
import type { Hook, HookPlan } from '../spec';
import { byWeight, type RegistryEntry } from './entry';
import { dirAction, moduleAction, requestModuleAction, rollbackOf, scriptAction } from './run';
import { hooksDbPath, loadRegistry } from './store';

export type ExtraHook =
  | { type: 'registry'; entry: RegistryEntry }
  | { type: 'dir'; phase: string; file: string }
  | { type: 'request-module'; file: string; origin: Origin };

/** The plan key of request hooks (not a phase: workers load them as modules). */
export const REQUEST_KEY = 'request';

/** Loads the registry and lists the hook dirs of a config (at start, at every reload). */
export function loadExtras(cfg: Config): ExtraHook[] {
  const db = hooksDbPath(cfg.str('hooks-db'));
  const entries = loadRegistry(db);
  if (escalated(entries).length) {
    checkTrusted(db); // refuse to start, saying why
    reconnectPrivsep(); // after a reload: the helper forked at the first start
  }
  const out: ExtraHook[] = entries.map((entry) => ({ type: 'registry', entry }));
  for (const h of listHookDirs(cfg.list('hook-dir').map((s) => s.value))) out.push({ type: 'dir', ...h });
  for (const s of cfg.list('request-hooks')) {
    const file = path.resolve(s.value);
    if (!fs.existsSync(file)) throw configError('LIEGE_ERR_BAD_VALUE', 'no such request hook module', s.origin, `request-hooks = ${s.value}`, 'the path of a .js/.mjs/.cjs module');
    out.push({ type: 'request-module', file, origin: s.origin });
  }
  return out;
}

function toHook(x: ExtraHook): Hook {
  if (x.type === 'dir') return { option: 'hook-dir', phase: x.phase, family: 'hook', action: dirAction, parsed: x, args: x.file, private: false, origin: { file: x.file, line: 0 } };
  if (x.type === 'request-module') return { option: 'request-hooks', phase: REQUEST_KEY, family: 'hook', action: requestModuleAction, parsed: x, args: x.file, private: false, origin: x.origin };
  const e = x.entry;
  const action = e.category === 'Request' ? requestModuleAction : e.kind === 'script' ? scriptAction : moduleAction;
  const hook: Hook = { option: 'hooks-db', phase: e.category === 'Request' ? REQUEST_KEY : e.event, family: 'hook', action, parsed: x, args: `${e.ref}${e.action ? ` ${e.action}` : ''}`, private: false, origin: { file: `registry ${e.id}`, line: 0 } };
  const rollback = rollbackOf(e);
  return rollback ? { ...hook, rollback } : hook;
}

/** The config's plan with the extra hooks in their places. */
export function extendPlan(plan: HookPlan, extras: readonly ExtraHook[]): HookPlan {
  if (!extras.length) return plan;
  const out = new Map<string, readonly Hook[]>();
  const reg = (phase: string, stage: string) =>
    extras.flatMap((x) => (x.type === 'registry' && x.entry.event === phase && x.entry.stage === stage && x.entry.category !== 'Request' ? [x] : []))
      .sort((a, b) => byWeight(a.entry, b.entry))
      .map(toHook);
  for (const p of PHASES) {
    const dirs = extras.filter((x) => x.type === 'dir' && x.phase === p.name).map(toHook);
    out.set(p.name, [...reg(p.name, 'pre'), ...(plan.get(p.name) ?? []), ...dirs, ...reg(p.name, 'post')]);
  }
  const request = extras.filter((x) => x.type === 'request-module' || (x.type === 'registry' && x.entry.category === 'Request'));
  out.set(REQUEST_KEY, request.map(toHook));
  return out;
}

/** The extra hooks of some phases (and the request hooks), for a worker's spec. */
export function extrasOf(plan: HookPlan, phases: readonly string[]): ExtraHook[] {
  return [...phases, REQUEST_KEY].flatMap((p) => (plan.get(p) ?? []).filter((h) => ['hooks-db', 'hook-dir', 'request-hooks'].includes(h.option)).map((h) => h.parsed as ExtraHook));
}
