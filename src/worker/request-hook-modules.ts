// Loading request hooks that are not in the app: `request-hooks = FILE.js`
// modules and registry entries of category Request, before the app loads.
// A module exports either a function `(liege) => …` (called with addHook and
// removeHook, awaited) or an object whose keys are request events:
//   module.exports = { 'pre-route': async (req, res) => { … } };
// A registry entry takes the export named by its `action`, else the export
// named after its event, else the module's default function.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Hook } from '../hooks/spec';
import type { ExtraHook } from '../hooks/registry/plan';
import { REQUEST_EVENTS, type RequestEvent } from '../phases';
import { isEsm } from './app';
import { addHook, removeHook, type HookFn } from './request-hooks';
import { importEsm } from '../os/import-esm';
import { nodeModule } from '../os/node-module';

type Mod = Record<string, unknown>;

async function importModule(file: string): Promise<{ mod: Mod; main: unknown }> {
  // require() for CommonJS: no ESM loader to set up (and none exists inside the bundled CLI)
  const ns = isEsm(file) ? ((await importEsm(pathToFileURL(path.resolve(file)).href)) as Mod) : { default: nodeModule().createRequire(file)(file) as unknown };
  // CommonJS: default = module.exports
  return { mod: { ...(ns.default as Mod | undefined), ...ns }, main: ns.default ?? ns };
}

async function loadModule(file: string): Promise<void> {
  const { mod, main } = await importModule(file);
  if (typeof main === 'function') {
    await (main as (api: unknown) => unknown)({ addHook, removeHook });
    return;
  }
  const events = REQUEST_EVENTS.filter((e) => typeof mod[e] === 'function');
  if (!events.length) throw new Error(`${file} exports neither a function (liege) => … nor functions named after request events (${REQUEST_EVENTS.join(', ')})`);
  for (const e of events) addHook(e, mod[e] as HookFn, `${file}#${e}`);
}

async function loadEntry(x: Extract<ExtraHook, { type: 'registry' }>): Promise<void> {
  const e = x.entry;
  const { mod, main } = await importModule(e.ref);
  const fn = e.action ? mod[e.action] : mod[e.event] ?? (typeof main === 'function' ? main : undefined);
  if (typeof fn !== 'function') throw new Error(`registry hook ${e.id}: ${e.ref} exports no function ${e.action ?? e.event}`);
  addHook(e.event as RequestEvent, fn as HookFn, `registry:${e.id}`);
}

/** Loads the request hooks of the plan's `request` key (config order). */
export async function loadRequestHookModules(hooks: readonly Hook[] | undefined): Promise<void> {
  for (const h of hooks ?? []) {
    const x = h.parsed as ExtraHook;
    if (x.type === 'request-module') await loadModule(x.file);
    else if (x.type === 'registry') await loadEntry(x);
  }
}
