// A vassal stored in etcd as `bundle:NAME` instead of INI text: the bundle
// installed on each emperor's host with `liege install` (issue: "the INI
// text, or a reference to a bundle"). The vassal runs the config that
// `liege install`/`liege set` generate, <state-dir>/bundles/NAME.ini, and is
// reloaded when that file changes: a local install or set is followed as
// under a dir:// emperor, a put in etcd as for any vassal.
import * as fs from 'node:fs';
import * as path from 'node:path';

const REF = /^bundle:([A-Za-z0-9][A-Za-z0-9._-]{0,63})\s*$/;

/** The bundle a vassal value refers to, or undefined for INI text. */
export function bundleRef(text: string): string | undefined {
  const m = REF.exec(text.trim());
  if (!m || m[1]!.includes('..')) return undefined;
  return m[1];
}

/** The generated vassal config of an installed bundle (bundle/layout.ts). */
export function bundleConfig(stateDir: string, name: string): string {
  return path.join(path.resolve(stateDir), 'bundles', `${name}.ini`);
}

/** Changes when the file is rewritten (install, set, revert); `missing` before it exists. */
export function fileStamp(file: string): string {
  try {
    return String(fs.statSync(file).mtimeMs);
  } catch {
    return 'missing';
  }
}
