// js: a JavaScript module as a hook. `js:./setup.js` awaits the module's
// default export (module.exports for CommonJS), `js:./setup.mjs#prepare`
// its export `prepare`. The function gets a context object and may be
// async; it fails the hook when it throws, rejects, returns false or a
// non-zero number — with the phase's fatal policy, like any other action.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from '../../log';
import { defineAction, type HookContext, type HookRun, type ParseSite } from './types';
import { importEsm } from '../../os/import-esm';

interface JsHook {
  file: string; // absolute
  name?: string; // the export; default export when absent
  text: string; // as written
}

/** What the hook function receives. */
export interface JsHookContext {
  phase: string;
  pid: number;
  uid: number;
  gid: number;
  cwd: string;
  config?: string; // absolute path of the main config file
  hook: { text: string; file: string; line: number };
  env: Record<string, string>; // the extra variables of this phase (UWSGI_VASSAL_* for as-emperor)
  log(message: string): void;
}

const MODULE = /\.(c|m)?js$/;
const IDENT = /^[A-Za-z_$][\w$]*$/;

function parse(args: string, site: ParseSite): JsHook {
  const text = args.trim();
  if (!text) throw 'a module path, optionally #exportName (js:./setup.js#prepare)';
  const hash = text.lastIndexOf('#');
  const file = hash < 0 ? text : text.slice(0, hash);
  const name = hash < 0 ? undefined : text.slice(hash + 1);
  if (!MODULE.test(file)) throw 'a module path ending in .js, .cjs or .mjs';
  if (name !== undefined && !IDENT.test(name)) throw 'an export name after # (a JavaScript identifier)';
  const abs = path.resolve(site.baseDir, file);
  if (site.atLoad) {
    let isFile = false;
    try {
      isFile = fs.statSync(abs).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw `an existing module file (${abs} is not one)`;
  }
  return { file: abs, name, text };
}

/** CommonJS through require (synchronous, cached); ESM through import(). */
async function load(file: string): Promise<Record<string, unknown>> {
  if (!file.endsWith('.mjs')) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require(file) as unknown;
      const named = (typeof m === 'object' || typeof m === 'function') && m !== null ? { ...(m as object) } : {};
      return { ...named, default: m };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
    }
  }
  return importEsm(pathToFileURL(file).href);
}

function pick(mod: Record<string, unknown>, name: string | undefined): unknown {
  if (name !== undefined) return mod[name];
  const d = mod.default;
  // a compiled `export default` inside CommonJS: exports.default
  if (typeof d === 'object' && d !== null && typeof (d as { default?: unknown }).default === 'function') return (d as { default: unknown }).default;
  return d;
}

async function run(p: JsHook, ctx: HookContext, how: HookRun): Promise<number> {
  const fn = pick(await load(p.file), p.name);
  if (typeof fn !== 'function') throw new Error(`${p.file} has no function ${p.name ? `export \`${p.name}\`` : 'as its default export'}`);
  const context: JsHookContext = {
    phase: how.phase,
    pid: process.pid,
    uid: process.getuid!(),
    gid: process.getgid!(),
    cwd: process.cwd(),
    config: ctx.configFile,
    hook: { text: `js:${p.text}`, file: how.origin.file, line: how.origin.line },
    env: how.env ?? {},
    log: (message: string) => log('hooks').info({ phase: how.phase, hook: `js:${p.text}` }, message),
  };
  const result: unknown = await (fn as (c: JsHookContext) => unknown)(context);
  if (result === false) throw new Error('returned false');
  if (typeof result === 'number') return result;
  return 0;
}

export const jsActions = [
  defineAction({
    name: 'js',
    parse,
    run,
    doc: 'load a JavaScript module (CommonJS or ESM) and await its default export, or `#name`; fails when it throws, rejects, returns false or a non-zero number. Relative paths resolve from the config file\'s directory',
    example: 'hook-as-user = js:./setup.js#prepare',
  }),
];
