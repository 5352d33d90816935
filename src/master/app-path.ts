// The node-app path, checked at load (before any hook runs) rather than
// found missing by every worker, and resolved like require() does (a file,
// a name without extension, a directory with package.json or index.js).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { FAILED_APP_CODE, LiegeError } from '../errors';
import { log } from '../log';
import { logicalCwd } from '../os/cwd';
import { nodeModule } from '../os/node-module';

/** Absolute path of the app module, from `base` (the workers' cwd), in
 * the directories as named: a symlinked release directory (`current` →
 * releases/r1) stays the link, so each worker that starts later (a chain
 * reload, a respawn) loads where it points then, as a re-exec does. */
export function resolveApp(app: string, base: string): string {
  const named = path.resolve(base, app);
  // createRequire: bin/liege runs the bundle with a bare require (no .resolve)
  const real = nodeModule().createRequire(path.join(base, 'noop.js')).resolve(named);
  if (isFile(named)) return named;
  // `app` without its extension, or a directory (index.js, package.json
  // main): what require found, under the directory as named
  const dir = isDirectory(named) ? named : path.dirname(named);
  const rel = path.relative(fs.realpathSync(dir), real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return real; // found outside it
  return path.join(dir, rel);
}

function isFile(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The workers' working directory as named, once `chdir` was applied:
 * the app's base and each worker's cwd at its start (an absolute `chdir`
 * as written, not where it pointed when the master entered it). */
export function appBase(cfg: Config): string {
  const dir = cfg.str('chdir');
  if (dir && path.isAbsolute(dir)) return dir;
  return logicalCwd();
}

/** Throws LIEGE_ERR_BAD_VALUE (file:line) when node-app names no module. */
export function checkNodeApp(cfg: Config): void {
  const s = cfg.setting('node-app');
  if (!s) return checkNoApp(cfg);
  // inside a jail the path is resolved by the jailed master, later
  if ((['chroot', 'namespace', 'pivot-root'] as const).some((o) => cfg.has(o))) return;
  // (before `chdir` is applied)
  const base = cfg.str('chdir') ? path.resolve(cfg.str('chdir')!) : logicalCwd();
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
