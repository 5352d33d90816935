// The node-app path, checked at load (before any hook runs) rather than
// found missing by every worker, and resolved like require() does (a file,
// a name without extension, a directory with package.json or index.js).
import * as path from 'node:path';
import type { Config } from '../config/config';
import { FAILED_APP_CODE, LiegeError } from '../errors';
import { log } from '../log';
import { nodeModule } from '../os/node-module';

/** Absolute path of the app module, from `base` (the workers' cwd). */
export function resolveApp(app: string, base: string): string {
  // createRequire: bin/liege runs the bundle with a bare require (no .resolve)
  return nodeModule().createRequire(path.join(base, 'noop.js')).resolve(path.resolve(base, app));
}

/** Throws LIEGE_ERR_BAD_VALUE (file:line) when node-app names no module. */
export function checkNodeApp(cfg: Config): void {
  const s = cfg.setting('node-app');
  if (!s) return checkNoApp(cfg);
  // inside a jail the path is resolved by the jailed master, later
  if ((['chroot', 'namespace', 'pivot-root'] as const).some((o) => cfg.has(o))) return;
  const base = cfg.str('chdir') ? path.resolve(cfg.str('chdir')!) : process.cwd();
  try {
    resolveApp(s.value, base);
  } catch {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', `node-app not found: ${path.resolve(base, s.value)}`, { origin: s.origin, text: s.value, expected: 'a JavaScript module (file, or directory with package.json/index.js)' });
  }
}

// Sockets and no node-app (a config migrated from uWSGI whose `module` or
// `wsgi-file` liege ignored): the workers can only answer 503, said at load
// rather than found by the first client; need-app refuses, as uWSGI's
// "no app loaded. GAME OVER" (status 22)
function checkNoApp(cfg: Config): void {
  if (!(['socket', 'http-socket', 'https-socket'] as const).some((o) => cfg.has(o)) || cfg.bool('no-server')) return;
  if (cfg.bool('need-app')) {
    throw new LiegeError('LIEGE_ERR_APP_LOAD', `no app to load: need-app and no node-app (exit ${FAILED_APP_CODE})`, { origin: cfg.origin('need-app'), expected: 'node-app = FILE.js', exitCode: FAILED_APP_CODE });
  }
  log('config').warn('no node-app: the workers answer every request with 503 "no node-app configured" (expected node-app = FILE.js)');
}
