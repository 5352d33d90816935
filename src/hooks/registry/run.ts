// Running registry hooks and hook-dir executables. A script runs without a
// shell: PATH plus its `action` words; a module (Phase/Vassal) runs in a
// child `node` that loads it and awaits the export (`action`, else the
// default export), so a slow or crashing module cannot take the master
// down. A `check` runs first: non-zero skips the hook (logged, not a
// failure). Each gets LIEGE_HOOK_EVENT, LIEGE_HOOK_STAGE, LIEGE_HOOK_ID.
import * as path from 'node:path';
import { log } from '../../log';
import { spawnAwait } from '../../os/spawn';
import { waitFor } from '../actions/exec';
import { defineAction, type ActionDef, type HookRun } from '../actions/types';
import type { RegistryEntry } from './entry';
import type { ExtraHook } from './plan';
import { withHookOutput } from '../output';

/** Runs an escalated hook through the privileged helper (set by privsep.ts). */
let escalator: ((e: RegistryEntry, role: 'check' | 'hook' | 'rollback') => number | Promise<number>) | undefined;

export function setEscalator(f: typeof escalator): void {
  escalator = f;
}

// argv[1] file, argv[2] export name ('' = the module itself or its default);
// SIGUSR1 ignored first (src/os/inspector-signal.ts)
const MODULE_RUNNER = `process.on('SIGUSR1', () => {});
const [file, name] = process.argv.slice(1);
Promise.resolve().then(() => {
  const m = require(file);
  const f = name ? m[name] : typeof m === 'function' ? m : m.default;
  if (typeof f !== 'function') throw new Error(file + ' exports no function ' + (name || '(module.exports or default)'));
  return f({ event: process.env.LIEGE_HOOK_EVENT, stage: process.env.LIEGE_HOOK_STAGE, id: process.env.LIEGE_HOOK_ID });
}).then((r) => process.exit(r === false || (typeof r === 'number' && r !== 0) ? 1 : 0), (e) => { process.stderr.write(String(e && e.stack || e) + '\\n'); process.exit(1); });`;

const status = ([code, signal]: [number, number]) => (signal ? 128 + signal : code);

/** Its status; where a loop runs (how.blocking false) awaited, never waited
 * for in the loop's thread. `env` is added to this process's environment. */
function spawnStatus(file: string, argv: string[], env: Record<string, string> = {}, how?: HookRun): number | Promise<number> {
  return withHookOutput((out) => {
    if (how && !how.blocking) return spawnAwait(file, argv, { ...process.env, ...env }, out).then(status);
    Object.assign(process.env, env);
    try {
      return waitFor(file, argv, null, how?.phase ?? '', out);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  });
}

/** Runs one role of an entry here (no escalation): returns its status. */
export function runEntryHere(e: RegistryEntry, role: 'check' | 'hook' | 'rollback', how?: HookRun): number | Promise<number> {
  const env = { LIEGE_HOOK_EVENT: e.event, LIEGE_HOOK_STAGE: e.stage, LIEGE_HOOK_ID: e.id };
  const ref = role === 'hook' ? undefined : role === 'check' ? e.check : e.rollback;
  if (e.kind === 'module') return spawnStatus(process.execPath, [process.execPath, '-e', MODULE_RUNNER, e.ref, ref ?? e.action ?? ''], env, how);
  const file = ref ? path.resolve(path.dirname(e.ref), ref) : e.ref;
  return spawnStatus(file, [file, ...(e.action ?? '').split(/\s+/).filter(Boolean)], env, how);
}

function runEntry(e: RegistryEntry, role: 'check' | 'hook' | 'rollback', how?: HookRun): number | Promise<number> {
  if (e.escalateprivs && escalator) return escalator(e, role);
  return runEntryHere(e, role, how);
}

function runWithCheck(x: ExtraHook, _ctx: unknown, how: HookRun): number | Promise<number> {
  const e = (x as Extract<ExtraHook, { type: 'registry' }>).entry;
  if (!e.check) return runEntry(e, 'hook', how);
  const afterCheck = (rc: number) => {
    if (rc === 0) return runEntry(e, 'hook', how);
    log('hooks').info({ phase: e.event, id: e.id, check: e.check, status: rc }, 'check returned non-zero, registry hook skipped');
    return 0;
  };
  const rc = runEntry(e, 'check', how);
  return typeof rc === 'number' ? afterCheck(rc) : rc.then(afterCheck);
}

/** The rollback of an entry, run when a later hook of its phase fails fatally. */
export function rollbackOf(e: RegistryEntry): (() => number | Promise<number>) | undefined {
  return e.rollback ? () => runEntry(e, 'rollback') : undefined;
}

const notParsed = (): never => {
  throw 'registry hooks come from the hook registry, not from hook lines';
};

export const scriptAction: ActionDef = defineAction<ExtraHook>({ name: 'script', parse: notParsed, run: runWithCheck, doc: 'a registry script hook', example: 'liege hooks add script /usr/local/bin/warm-cache' });
export const moduleAction: ActionDef = defineAction<ExtraHook>({ name: 'module', parse: notParsed, run: runWithCheck, doc: 'a registry module hook', example: 'liege hooks add module /opt/hooks/notify.js' });
export const dirAction: ActionDef = defineAction<ExtraHook>({
  name: 'hook-dir',
  parse: notParsed,
  run: (x, _ctx, how) => spawnStatus((x as { file: string }).file, [(x as { file: string }).file], {}, how),
  doc: 'an executable of a hook directory',
  example: 'hook-dir = /etc/liege/hooks.d',
});
// request hooks are loaded by the workers (worker/request-hooks.ts), never run as a phase
export const requestModuleAction: ActionDef = defineAction<ExtraHook>({ name: 'request-module', parse: notParsed, run: () => 0, doc: 'a module of request hooks', example: 'request-hooks = hooks/auth.js' });
