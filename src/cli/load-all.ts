// Loading a whole config (sources, expansion, validation, hook plan) the
// way every command does: nothing runs here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { loadConfig } from '../config/load';
import { checkLoggerNames } from '../config/logger-spec';
import { resolveConfig } from '../config/resolve';
import { formatOrigin, LiegeError } from '../errors';
import { log } from '../log';
import type { HookContext } from '../hooks/actions/types';
import { extendPlan, loadExtras } from '../hooks/registry/plan';
import { buildPlan, type HookPlan } from '../hooks/spec';
import { checkNodeApp } from '../master/app-path';
import { checkIdentity } from '../master/as-root';
import { checkSocketsOnce } from '../master/sockets';

export interface LoadedConfig {
  config: Config;
  plan: HookPlan;
}

/** Load, resolve and validate the config and its hooks (nothing runs). */
export function loadAll(argv: string[], reloads: number): LoadedConfig {
  const loaded = loadConfig({ argv, env: process.env, start: { cwd: process.cwd(), binary: process.argv[1] ?? 'liege', startMs: Date.now() }, reloads });
  const config = resolveConfig(loaded);
  const plan = extendPlan(buildPlan(config), loadExtras(config)); // + hook registry, hook dirs, request hooks
  checkIdentity(config);
  checkSomethingToRun(config);
  checkSomeWorkers(config);
  checkLoggerNames(config);
  checkSocketsOnce(config);
  checkNodeApp(config);
  return { config, plan };
}

// uWSGI's "The -s/--socket option is missing", checked at load so that no
// hook runs for an instance that cannot start.
function checkSomethingToRun(cfg: Config): void {
  const ends = (['no-server', 'help', 'version', 'print-config'] as const).some((o) => cfg.bool(o));
  const keeps = (['socket', 'http-socket', 'https-socket', 'attach-daemon', 'attach-control-daemon', 'attach-daemon-pty', 'emperor'] as const).some((o) => cfg.has(o)) || process.env.LISTEN_FDS !== undefined;
  const app = cfg.setting('node-app');
  // an app that listens on its own port (as under PM2) still needs liege's
  // socket on that port: liege binds it, the app's listen() takes it over
  if (!keeps && app && !cfg.bool('no-server')) {
    throw new LiegeError('LIEGE_ERR_NO_SERVER', 'node-app without a socket: liege binds the sockets its workers serve', { origin: app.origin, text: app.value, expected: 'http-socket = HOST:PORT (the port the app listens on, if it listens itself: its listen() takes it over), or socket = HOST:PORT behind nginx\'s uwsgi_pass' });
  }
  if (!ends && !keeps) {
    throw new LiegeError('LIEGE_ERR_NO_SERVER', 'nothing to run: no socket, no attached daemon, no emperor and no no-server', { expected: 'socket/http-socket = HOST:PORT, attach-daemon, emperor, or no-server = true' });
  }
  if (app && cfg.bool('no-server')) log('config').warn({ option: 'node-app', at: formatOrigin(app.origin) }, 'node-app is not served under no-server (it runs the hooks only): give it an http-socket or socket to serve it');
}

// uWSGI's "Operational MODE: no-workers": the sockets are bound and nobody
// accepts, so clients wait in the backlog; said, not found by them
function checkSomeWorkers(cfg: Config): void {
  const sockets = (['socket', 'http-socket', 'https-socket'] as const).some((o) => cfg.has(o));
  if (sockets && cfg.int('processes') === 0 && !cfg.has('emperor') && !cfg.bool('no-server')) {
    const o = cfg.origin('processes')!;
    log('config').warn({ at: o.arg ? `${o.file}: ${o.arg}` : formatOrigin(o) }, 'processes = 0: no worker accepts on the sockets, their clients wait in the backlog (uWSGI\'s no-workers mode)');
  }
}

/** The main config file, absolute: the file the first setting read from
 * a file came from; undefined for a start from the command line only. */
function mainConfigFile(cfg: Config): string | undefined {
  const first = cfg.settings.find((s) => s.origin.line > 0);
  return first ? path.resolve(first.origin.file) : undefined;
}

/** Settings the hook actions consult. */
export function hookContext(cfg: Config): HookContext {
  const binsh = cfg.list('binsh').map((s) => s.value).find((p) => {
    try { fs.accessSync(p, fs.constants.X_OK); return true; } catch { return false; }
  });
  return {
    binsh: binsh ?? '/bin/sh',
    waitFsTimeout: cfg.int('wait-for-fs-timeout'),
    waitSocketTimeout: cfg.int('wait-for-socket-timeout'),
    startCwd: process.cwd(),
    configFile: mainConfigFile(cfg),
  };
}

