// Hooks packaged like apps (p2): a tar with bin/launch (one script) or
// bin/launch/ (several), deployed under STATE/hooks/EVENT/NAME/VERSION with
// a `current` symlink switched atomically (symlink + rename), and linked into
// the hook dir as DIR/EVENT/NAME_SCRIPT → …/NAME/current/bin/launch[/SCRIPT],
// so a new version replaces the old one for the next run in one rename.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { phaseByName } from '../phases';

export interface Deployed {
  event: string;
  name: string;
  version: string;
  links: string[];
}

const bad = (message: string, text?: string) => new LiegeError('LIEGE_ERR_HOOK_BUNDLE', message, { text, expected: 'a .tar/.tar.gz/.tgz with bin/launch or bin/launch/*, and package.json {name, version} or a NAME-VERSION.tar.gz file name' });
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function stateDir(explicit?: string): string {
  return path.resolve(explicit || process.env.LIEGE_STATE_DIR || '/var/lib/liege');
}

function checkEvent(event: string): void {
  if (!phaseByName(event)) throw new LiegeError('LIEGE_ERR_USAGE', `unknown phase \`${event}\``, { expected: 'a phase of docs/hooks.md (as-user, pre-app ...)', exitCode: 100 });
}

/** name and version: package.json in the tar, else NAME-VERSION.tar.gz. */
function identify(root: string, bundle: string): { name: string; version: string } {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    if (typeof pkg.name === 'string' && typeof pkg.version === 'string') return { name: pkg.name.replace(/^@[^/]+\//, ''), version: pkg.version };
  } catch { /* no package.json */ }
  const m = /^(.+?)-(\d[\w.+-]*?)(\.tar\.gz|\.tgz|\.tar)$/.exec(path.basename(bundle));
  if (m) return { name: m[1]!, version: m[2]! };
  throw bad('unable to tell the hook bundle\'s name and version', bundle);
}

/** The launch scripts of an unpacked bundle: script name → path inside it. */
function launchScripts(root: string): Map<string, string> {
  const launch = path.join(root, 'bin', 'launch');
  const st = fs.lstatSync(launch, { throwIfNoEntry: false });
  const out = new Map<string, string>();
  if (st?.isFile()) out.set('launch', 'bin/launch');
  else if (st?.isDirectory()) for (const n of fs.readdirSync(launch).sort()) if (!n.startsWith('.') && fs.lstatSync(path.join(launch, n)).isFile()) out.set(n, `bin/launch/${n}`);
  for (const rel of out.values()) fs.chmodSync(path.join(root, rel), fs.statSync(path.join(root, rel)).mode | 0o755);
  return out;
}

function switchLink(link: string, target: string): void {
  const tmp = `${link}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
}

/** Deploys BUNDLE for EVENT; returns what is now current. */
export function enableBundle(bundle: string, event: string, hookDir: string, state: string): Deployed {
  checkEvent(event);
  if (!fs.existsSync(bundle)) throw bad(`unable to read ${bundle}: no such file`, bundle);
  const base = path.join(state, 'hooks', event);
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  const tmp = fs.mkdtempSync(path.join(base, '.unpack-'));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tar = require('tar') as typeof import('tar');
    try {
      tar.x({ file: bundle, cwd: tmp, sync: true, strict: true, preservePaths: false, preserveOwner: false });
    } catch (e) {
      throw bad(`unable to unpack ${bundle}: ${(e as Error).message}`, bundle);
    }
    const { name, version } = identify(tmp, bundle);
    if (!NAME.test(name) || !NAME.test(version)) throw bad(`bad hook name or version \`${name}\` \`${version}\``, bundle);
    const scripts = launchScripts(tmp);
    if (!scripts.size) throw bad(`${bundle} has no bin/launch script nor bin/launch/ directory`, bundle);
    const home = path.join(base, name);
    fs.mkdirSync(home, { recursive: true, mode: 0o755 });
    const dest = path.join(home, version);
    if (fs.existsSync(dest)) fs.renameSync(dest, fs.mkdtempSync(path.join(home, '.old-')) + '/v');
    fs.renameSync(tmp, dest);
    switchLink(path.join(home, 'current'), version);
    const dir = path.join(hookDir, event);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const links = [...scripts].map(([script, rel]) => {
      const link = path.join(dir, `${name}_${script}`);
      switchLink(link, path.join(home, 'current', rel));
      return link;
    });
    // scripts the previous version had and this one has not
    for (const l of ownLinks(dir, home)) if (!links.includes(l)) fs.rmSync(l, { force: true });
    for (const n of fs.readdirSync(home)) if (n.startsWith('.old-')) fs.rmSync(path.join(home, n), { recursive: true, force: true });
    return { event, name, version, links };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The links of DIR/EVENT/ that point into a deployed hook's home. */
function ownLinks(dir: string, home: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((n) => path.join(dir, n)).filter((l) => {
    try {
      return fs.readlinkSync(l).startsWith(home + path.sep);
    } catch {
      return false;
    }
  });
}

/** Removes a deployed hook: its links, then its versions. */
export function disableBundle(name: string, event: string, hookDir: string, state: string): string[] {
  checkEvent(event);
  const home = path.join(state, 'hooks', event, name);
  if (!NAME.test(name) || !fs.existsSync(home)) throw new LiegeError('LIEGE_ERR_HOOK_BUNDLE', `no hook \`${name}\` is deployed for ${event}`, { text: `${name} ${event}`, expected: 'a NAME EVENT of `liege hooks list --hook-dir DIR`' });
  const links = ownLinks(path.join(hookDir, event), home);
  for (const l of links) fs.rmSync(l, { force: true });
  fs.rmSync(home, { recursive: true, force: true });
  return links;
}

/** Every deployed hook of the state dir, with its links in the hook dir. */
export function listBundles(hookDir: string | undefined, state: string): Deployed[] {
  const root = path.join(state, 'hooks');
  const out: Deployed[] = [];
  for (const event of fs.existsSync(root) ? fs.readdirSync(root).sort() : []) {
    for (const name of fs.readdirSync(path.join(root, event)).filter((n) => !n.startsWith('.')).sort()) {
      const home = path.join(root, event, name);
      let version = '?';
      try {
        version = fs.readlinkSync(path.join(home, 'current'));
      } catch { /* half-deployed */ }
      out.push({ event, name, version, links: hookDir ? ownLinks(path.join(hookDir, event), home) : [] });
    }
  }
  return out;
}
