// What a bundle directory must hold, checked the same way by `liege pack`
// (before anything is written) and `liege install` (after unpacking):
// package.json with a name and a version, meta/liege.ini that loads, and
// meta/hooks/<name> executables with known names.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { BUNDLE_HOOKS, checkName, RESERVED } from './layout';
import { loadInstance } from './instance';

export interface Manifest {
  name: string;
  version: string;
  hooks: string[]; // names of the hooks present
}

const fail = (message: string, text: string, expected: string) => new LiegeError('LIEGE_ERR_BUNDLE', message, { text, expected });

/** Validate a bundle tree rooted at `dir`; throws a LiegeError naming the file. */
export function readManifest(dir: string): Manifest {
  const pkgFile = path.join(dir, 'package.json');
  let pkg: { name?: unknown; version?: unknown };
  try {
    pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as typeof pkg;
  } catch (e) {
    throw fail(`unable to read ${pkgFile}: ${(e as Error).message}`, pkgFile, 'a package.json with "name" and "version"');
  }
  if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string') throw fail(`${pkgFile} lacks "name" or "version"`, pkgFile, 'string "name" and "version" fields');
  const name = checkName(pkg.name.replace(/^@[^/]+\//, ''));
  const version = checkName(pkg.version, 'version');
  if (RESERVED.includes(version)) throw fail(`${pkgFile}: the version "${version}" is a reserved name`, pkgFile, `a version other than ${RESERVED.join(', ')}`);
  const ini = path.join(dir, 'meta', 'liege.ini');
  if (!fs.existsSync(ini)) throw fail(`the bundle has no meta/liege.ini`, ini, 'meta/liege.ini: the instance config');
  loadInstance(dir, {}); // throws the config error with file:line
  return { name, version, hooks: readHooks(dir) };
}

function readHooks(dir: string): string[] {
  const hooksDir = path.join(dir, 'meta', 'hooks');
  if (!fs.existsSync(hooksDir)) return [];
  const known = BUNDLE_HOOKS.map((h) => h.name);
  const out: string[] = [];
  for (const n of fs.readdirSync(hooksDir).sort()) {
    const f = path.join(hooksDir, n);
    if (!known.includes(n)) throw fail(`unknown bundle hook meta/hooks/${n}`, f, `one of ${known.join(', ')}`);
    const st = fs.lstatSync(f);
    if (!st.isFile()) throw fail(`bundle hook meta/hooks/${n} is not a regular file`, f, 'an executable file');
    if ((st.mode & 0o111) === 0) throw fail(`bundle hook meta/hooks/${n} is not executable`, f, 'chmod +x');
    out.push(n);
  }
  return out;
}
