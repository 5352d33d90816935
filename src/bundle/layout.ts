// Where a bundle lives in the state directory (snapd's /var/snap layout):
//   <state>/bundles/<name>.ini          the vassal config the emperor runs (generated)
//   <state>/bundles/<name>/<version>/   an unpacked version (meta/liege.ini, meta/hooks/)
//   <state>/bundles/<name>/current      symlink to the serving version (switched by rename)
//   <state>/bundles/<name>/data/        LIEGE_BUNDLE_DATA, kept across versions
//   <state>/bundles/<name>/settings.json the applied settings (`liege set`)
//   <state>/bundles/<name>/state.json   install history (for revert and bundle-keep)
//   <state>/bundles/<name>/run/         readiness marker written by the instance
import * as path from 'node:path';
import { LiegeError } from '../errors';

/** The hooks a bundle may ship in meta/hooks/, and when each runs. */
export const BUNDLE_HOOKS: ReadonlyArray<{ name: string; when: string }> = [
  { name: 'install', when: 'first install, in the new version, before it is switched to current' },
  { name: 'pre-refresh', when: 'install of another version: in the old (current) version, before anything changes' },
  { name: 'post-refresh', when: 'install of another version: in the new version, before it is switched to current' },
  { name: 'configure', when: 'after install/post-refresh, and on `liege set`/`unset` with the proposed settings (`liege ctl get`); non-zero refuses' },
  { name: 'remove', when: '`liege remove`, in the current version, before the vassal is stopped and the files removed' },
];

/** Entries of a bundle's directory that are not versions. */
export const RESERVED = ['current', 'data', 'run', 'settings.json', 'state.json'];

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

export function checkName(name: string, what = 'bundle name'): string {
  if (!NAME.test(name) || name.includes('..')) {
    throw new LiegeError('LIEGE_ERR_USAGE', `bad ${what}`, { text: name, expected: 'letters, digits, . _ - (at most 64, not starting with . or -)' });
  }
  return name;
}

export class BundlePaths {
  readonly root: string; // <state>/bundles
  readonly dir: string;
  constructor(stateDir: string, readonly name: string) {
    this.root = path.join(path.resolve(stateDir), 'bundles');
    this.dir = path.join(this.root, checkName(name));
  }
  version(v: string): string {
    if (RESERVED.includes(v)) throw new LiegeError('LIEGE_ERR_BUNDLE', 'a version cannot be named like a bundle directory entry', { text: v, expected: `a version other than ${RESERVED.join(', ')}` });
    return path.join(this.dir, checkName(v, 'version'));
  }
  get current(): string { return path.join(this.dir, 'current'); }
  get data(): string { return path.join(this.dir, 'data'); }
  get run(): string { return path.join(this.dir, 'run'); }
  get settings(): string { return path.join(this.dir, 'settings.json'); }
  get state(): string { return path.join(this.dir, 'state.json'); }
  get vassal(): string { return path.join(this.root, `${this.name}.ini`); }
  get marker(): string { return path.join(this.run, 'accepting'); }
  get pidfile(): string { return path.join(this.run, 'master.pid'); }
}
