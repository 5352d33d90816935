// `liege install BUNDLE`: unpack into <state>/bundles/<name>/<version>, run
// the install hook (first install) or pre-refresh (old) and post-refresh
// (new), then configure (new), switch `current` with one rename and wait
// until the new version accepts. Any failure leaves the previous version
// current (and serving): hooks fail before the switch; a version that does
// not accept within bundle-start-timeout is switched back.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { log } from '../log';
import { readLink, switchLink } from './atomic';
import { configure } from './configure';
import { describeResult, instanceIds, runBundleHook, type HookRun } from './hooks';
import { loadInstance } from './instance';
import { BundlePaths, RESERVED } from './layout';
import { readManifest } from './manifest';
import { readSettings, writeSettings } from './settings';
import { instanceRuns, noInstance, pidAlive, readHistory, waitAccepting, withLock, writeHistory, writeVassal } from './state';
import { unpack } from './unpack';

export interface BundleOpts {
  stateDir: string;
  startTimeoutS: number; // 0: do not wait for accepting
  keep: number;
  hookTimeoutS: number;
}

export interface Installed { name: string; version: string; previous?: string }

const l = () => log('bundle');

/** The context a hook of one version runs in. */
export function hookRun(p: BundlePaths, version: string, opts: BundleOpts): Omit<HookRun, 'settings'> {
  const root = p.version(version);
  return { bundle: p.name, version, root, data: p.data, config: loadInstance(root, readSettings(p.settings)), timeoutMs: opts.hookTimeoutS * 1000 };
}

async function hookOrThrow(name: string, r: Omit<HookRun, 'settings'>, p: BundlePaths): Promise<void> {
  const res = await runBundleHook(name, { ...r, settings: readSettings(p.settings) });
  if (!res) return;
  l().info({ bundle: p.name, version: r.version, hook: name, result: describeResult(res) }, 'bundle hook ran');
  if (res.code !== 0) throw new LiegeError('LIEGE_ERR_BUNDLE_HOOK', `the ${name} hook of ${p.name} ${r.version} failed (${describeResult(res)})${res.output ? `:\n${res.output.trimEnd()}` : ''}`);
}

export async function install(archive: string, name: string | undefined, opts: BundleOpts): Promise<Installed> {
  const bundles = path.join(path.resolve(opts.stateDir), 'bundles');
  try {
    fs.mkdirSync(bundles, { recursive: true, mode: 0o755 });
    fs.accessSync(bundles, fs.constants.W_OK);
  } catch (e) {
    // the default /var/lib/liege, for a user other than root: was an internal error with a stack's first line
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new LiegeError('LIEGE_ERR_BUNDLE', `unable to write the state directory ${bundles}: ${code}`, { text: opts.stateDir, expected: 'a state directory this user may write: run as root, or --state-dir DIR (LIEGE_STATE_DIR)', cause: e });
  }
  cleanIncoming(bundles);
  const incoming = path.join(bundles, `.incoming-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
  try {
    unpack(archive, incoming);
    const m = readManifest(incoming);
    const p = new BundlePaths(opts.stateDir, name ?? m.name);
    return await withLock(p, () => installUnpacked(p, m.version, incoming, opts));
  } finally {
    fs.rmSync(incoming, { recursive: true, force: true });
  }
}

async function installUnpacked(p: BundlePaths, version: string, incoming: string, opts: BundleOpts): Promise<Installed> {
  const old = readLink(p.current);
  if (old === version) throw new LiegeError('LIEGE_ERR_BUNDLE', `${p.name} ${version} is already the current version`, { text: version, expected: 'a bundle with another version in package.json' });
  const root = p.version(version);
  fs.rmSync(root, { recursive: true, force: true }); // a kept or half-installed copy of the same version
  fs.renameSync(incoming, root);
  const fresh = !fs.existsSync(p.data);
  try {
    const r = hookRun(p, version, opts);
    prepareDirs(p, instanceIds(r.config));
    if (!old) await hookOrThrow('install', r, p);
    if (old) await hookOrThrow('pre-refresh', hookRun(p, old, opts), p);
    if (old) await hookOrThrow('post-refresh', r, p);
    const current = readSettings(p.settings);
    const applied = await configure(r, current, current);
    if (JSON.stringify(applied) !== JSON.stringify(current)) writeSettings(p.settings, applied);
    // in the history before the switch: a kill -9 from here on leaves a revertable state
    writeHistory(p, [...readHistory(p).filter((v) => v !== version), version]);
    switchLink(p.current, version);
    const token = writeVassal(p);
    l().info({ bundle: p.name, version, previous: old }, 'switched current, waiting for the new version to accept');
    if (opts.startTimeoutS > 0 && !(await waitAccepting(p, token, opts.startTimeoutS * 1000))) {
      const why = instanceRuns(p) ? '' : `: ${noInstance(p)}`;
      await rollBack(p, old, opts);
      throw new LiegeError('LIEGE_ERR_NOT_ACCEPTING', `${p.name} ${version} did not reach accepting within ${opts.startTimeoutS} s; ${old ? `rolled back to ${old}` : 'removed'}${why}`);
    }
  } catch (e) {
    if (readLink(p.current) === version) await rollBack(p, old, opts);
    writeHistory(p, readHistory(p).filter((v) => v !== version));
    fs.rmSync(root, { recursive: true, force: true });
    if (!old && fresh) fs.rmSync(p.dir, { recursive: true, force: true });
    throw e;
  }
  prune(p, opts.keep);
  return { name: p.name, version, previous: old };
}

/** Removes what an install killed mid-way left (.incoming-<dead pid>-*). */
function cleanIncoming(bundles: string): void {
  for (const n of fs.readdirSync(bundles)) {
    const m = /^\.incoming-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(bundles, n), { recursive: true, force: true });
  }
}

/** current → `old` (or no current and no vassal when there is none). */
async function rollBack(p: BundlePaths, old: string | undefined, opts: BundleOpts): Promise<void> {
  if (!old) {
    fs.rmSync(p.vassal, { force: true });
    fs.rmSync(p.current, { force: true });
    return;
  }
  switchLink(p.current, old);
  const token = writeVassal(p);
  l().warn({ bundle: p.name, version: old }, 'rolled back');
  if (opts.startTimeoutS > 0 && !(await waitAccepting(p, token, opts.startTimeoutS * 1000))) {
    l().error({ bundle: p.name, version: old }, 'the previous version did not reach accepting either');
  }
}

/** Data and run dirs belong to the instance's user (the hooks and the app write there). */
function prepareDirs(p: BundlePaths, ids: { uid?: number; gid?: number }): void {
  for (const d of [p.data, p.run]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o750 });
    if (ids.uid !== undefined) fs.chownSync(d, ids.uid, ids.gid ?? -1);
  }
}

/** Keeps the current version and the `keep` most recent others; removes strays. */
function prune(p: BundlePaths, keep: number): void {
  const current = readLink(p.current);
  const others = readHistory(p).filter((v) => v !== current);
  // and versions a killed install left behind (in no history)
  const strays = fs.readdirSync(p.dir).filter((n) => !n.startsWith('.') && !RESERVED.includes(n) && n !== current && !readHistory(p).includes(n));
  const drop = [...others.slice(0, Math.max(0, others.length - keep)), ...strays];
  for (const v of drop) fs.rmSync(p.version(v), { recursive: true, force: true });
  writeHistory(p, readHistory(p).filter((v) => !drop.includes(v)));
}
