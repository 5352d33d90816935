// The node-app path, checked at load (before any hook runs) rather than
// found missing by every worker, and resolved like require() does (a file,
// a name without extension, a directory with package.json or index.js).
import * as path from 'node:path';
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { nodeModule } from '../os/node-module';

/** Absolute path of the app module, from `base` (the workers' cwd). */
export function resolveApp(app: string, base: string): string {
  // createRequire: bin/liege runs the bundle with a bare require (no .resolve)
  return nodeModule().createRequire(path.join(base, 'noop.js')).resolve(path.resolve(base, app));
}

/** Throws LIEGE_ERR_BAD_VALUE (file:line) when node-app names no module. */
export function checkNodeApp(cfg: Config): void {
  const s = cfg.setting('node-app');
  // inside a jail the path is resolved by the jailed master, later
  if (!s || (['chroot', 'namespace', 'pivot-root'] as const).some((o) => cfg.has(o))) return;
  const base = cfg.str('chdir') ? path.resolve(cfg.str('chdir')!) : process.cwd();
  try {
    resolveApp(s.value, base);
  } catch {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', `node-app not found: ${path.resolve(base, s.value)}`, { origin: s.origin, text: s.value, expected: 'a JavaScript module (file, or directory with package.json/index.js)' });
  }
}
