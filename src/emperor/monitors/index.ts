// A monitor for each `emperor =` value, chosen by its scheme.
import type { Config } from '../../config/config';
import { LiegeError, type Origin } from '../../errors';
import { DirMonitor } from './dir';
import type { FileMonitorOptions } from './files';
import { GlobMonitor } from './glob';
import { etcdMonitor } from './etcd';
import type { Monitor } from './monitor';

/** dir://DIR, glob://PATTERN, or bare: a pattern when it has * ? [, else a directory. */
export function createMonitor(spec: string, opts: FileMonitorOptions, origin: Origin, cfg: Config): Monitor {
  if (spec.startsWith('etcd://')) return etcdMonitor(spec, cfg, origin);
  if (spec.startsWith('dir://')) return new DirMonitor(spec.slice(6), opts);
  if (spec.startsWith('glob://')) return new GlobMonitor(spec.slice(7), opts);
  if (/^[a-z][a-z0-9+]*:\/\//.test(spec)) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'unknown emperor monitor scheme', { origin, text: spec, expected: 'dir://DIR, glob://PATTERN, etcd://HOST:PORT[,HOST:PORT…]/PREFIX, a directory or a glob pattern' });
  }
  if (/[*?[]/.test(spec)) return new GlobMonitor(spec, opts);
  return new DirMonitor(spec, opts);
}
