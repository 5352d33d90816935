// The entry point: argv → command → exit status. Only this file exits.
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { loadConfig } from '../config/load';
import { resolveConfig } from '../config/resolve';
import { LiegeError } from '../errors';
import type { HookContext } from '../hooks/actions/types';
import { buildPlan, type HookPlan } from '../hooks/spec';
import { setLogFormat } from '../log';
import { runInstance } from '../master/lifecycle';

// the commands other than `run` are loaded on demand (start cost, see lifecycle.ts)
/* eslint-disable @typescript-eslint/no-require-imports */
const help = () => require('./help') as typeof import('./help');
const hooksCommand = (argv: string[]) => (require('./hooks-command') as typeof import('./hooks-command')).hooksCommand(argv);

const VERSION = '0.1.0';

export interface LoadedConfig {
  config: Config;
  plan: HookPlan;
}

/** Load, resolve and validate the config and its hooks (nothing runs). */
export function loadAll(argv: string[], reloads: number): LoadedConfig {
  const loaded = loadConfig({ argv, env: process.env, start: { cwd: process.cwd(), binary: process.argv[1] ?? 'liege', startMs: Date.now() }, reloads });
  const config = resolveConfig(loaded);
  const plan = buildPlan(config);
  checkSomethingToRun(config);
  return { config, plan };
}

// uWSGI's "The -s/--socket option is missing", checked at load so that no
// hook runs for an instance that cannot start.
function checkSomethingToRun(cfg: Config): void {
  const ends = ['no-server', 'help', 'version', 'print-config'].some((o) => cfg.bool(o));
  const keeps = ['socket', 'http-socket', 'attach-daemon', 'attach-control-daemon', 'emperor'].some((o) => cfg.has(o));
  if (!ends && !keeps) {
    throw new LiegeError('LIEGE_ERR_NO_SERVER', 'nothing to run: no socket, no attached daemon, no emperor and no no-server', { expected: 'socket/http-socket = HOST:PORT, attach-daemon, emperor, or no-server = true' });
  }
}

/** Settings the hook actions consult. */
export function hookContext(cfg: Config): HookContext {
  const binsh = cfg.list('binsh').map((s) => s.value).find((p) => {
    try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; }
  });
  return { binsh: binsh ?? '/bin/sh', waitFsTimeout: cfg.int('wait-for-fs-timeout', 60), waitSocketTimeout: cfg.int('wait-for-socket-timeout', 60) };
}

async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'hooks') return hooksCommand(argv.slice(1));
  const nsChild = process.env.LIEGE_NS_CHILD === '1';
  delete process.env.LIEGE_NS_CHILD;
  const reloads = parseInt(process.env.UWSGI_RELOADS ?? '0', 10) || 0;
  if (argv.length === 0) {
    process.stderr.write(help().helpText());
    return 1;
  }
  const { config, plan } = loadAll(argv, reloads);
  if (config.bool('help')) return print(help().helpText());
  if (config.bool('version')) return print(`liege ${VERSION}\n`);
  if (config.bool('print-config')) return print(config.settings.map((s) => `${s.key} = ${s.value}    # ${s.origin.file}${s.origin.line ? ':' + s.origin.line : ''}`).join('\n') + '\n');
  setLogFormat(config.str('log-format') === 'json' ? 'json' : 'text');
  // a reload re-reads the config; an invalid one must not replace a running generation
  const validateReload = () => void loadAll(argv, reloads + 1);
  return runInstance(config, plan, hookContext(config), { reloads, nsChild, startCwd: process.cwd(), validateReload });
}

let printed = false;

function print(s: string): number {
  printed = true;
  process.stdout.write(s);
  return 0;
}

export function main(argv: string[]): void {
  run(argv).then(
    (code) => exit(code),
    (e: unknown) => {
      if (e instanceof LiegeError) {
        process.stderr.write(`liege: ${e.describe()}\n`);
        exit(e.exitCode);
      } else {
        process.stderr.write(`liege: internal error: ${(e as Error).stack ?? String(e)}\n`);
        exit(70);
      }
    },
  );
}

// stdout may be a pipe: let what print() wrote drain before exiting (and do
// not create process.stdout when nothing was printed: it costs a few ms).
function exit(code: number): void {
  process.exitCode = code;
  if (!printed || process.stdout.writableLength === 0) process.exit(code);
  process.stdout.once('drain', () => process.exit(code));
}
