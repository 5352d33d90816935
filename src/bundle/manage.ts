// revert, remove, set/unset/get of an installed bundle.
import * as fs from 'node:fs';
import { LiegeError } from '../errors';
import { log } from '../log';
import { readLink, switchLink } from './atomic';
import { configure } from './configure';
import { describeResult, runBundleHook } from './hooks';
import { hookRun, type BundleOpts } from './install';
import { BundlePaths } from './layout';
import { getPath, readSettings, withPath, writeSettings, type Settings } from './settings';
import { readHistory, waitAccepting, withLock, writeVassal } from './state';

function installed(opts: BundleOpts, name: string): BundlePaths {
  const p = new BundlePaths(opts.stateDir, name);
  if (!readLink(p.current)) throw new LiegeError('LIEGE_ERR_BUNDLE', `no bundle ${name} is installed in ${p.root}`, { text: name, expected: 'a name given to `liege install`' });
  return p;
}

/** current → the version installed before it; back again if it does not accept. */
export async function revert(name: string, opts: BundleOpts): Promise<{ from: string; to: string }> {
  const p = installed(opts, name);
  return withLock(p, async () => {
    const from = readLink(p.current)!;
    const history = readHistory(p);
    const to = history.slice(0, Math.max(0, history.indexOf(from))).reverse().find((v) => fs.existsSync(p.version(v)));
    if (!to) throw new LiegeError('LIEGE_ERR_BUNDLE', `${name} has no older version to revert to`, { text: name, expected: `a kept version (bundle-keep) older than ${from}` });
    switchLink(p.current, to);
    const token = writeVassal(p);
    if (opts.startTimeoutS > 0 && !(await waitAccepting(p, token, opts.startTimeoutS * 1000))) {
      switchLink(p.current, from);
      writeVassal(p);
      throw new LiegeError('LIEGE_ERR_NOT_ACCEPTING', `${name} ${to} did not reach accepting within ${opts.startTimeoutS} s; back on ${from}`);
    }
    return { from, to };
  });
}

/** The remove hook, then the vassal config goes (the emperor stops it), then the files. */
export async function remove(name: string, opts: BundleOpts): Promise<void> {
  const p = installed(opts, name);
  await withLock(p, async () => {
    const version = readLink(p.current)!;
    const res = await runBundleHook('remove', { ...hookRun(p, version, opts), settings: readSettings(p.settings) });
    if (res && res.code !== 0) log('bundle').warn({ bundle: name, version, result: describeResult(res), output: res.output.trimEnd() }, 'the remove hook failed; removing anyway');
    fs.rmSync(p.vassal, { force: true });
    await waitMasterGone(p.pidfile, 30_000);
    fs.rmSync(p.current, { force: true });
  });
  fs.rmSync(p.dir, { recursive: true, force: true });
}

async function waitMasterGone(pidfile: string, ms: number): Promise<void> {
  let pid = NaN;
  try { pid = Number(fs.readFileSync(pidfile, 'utf8').trim()); } catch { return; }
  const end = Date.now() + ms;
  while (Number.isInteger(pid) && Date.now() < end) {
    try { process.kill(pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Proposed changes through the configure hook; applied atomically on exit 0. */
export async function changeSettings(name: string, changes: Array<[string[], unknown]>, opts: BundleOpts): Promise<Settings> {
  const p = installed(opts, name);
  return withLock(p, async () => {
    const current = readSettings(p.settings);
    let proposed = current;
    for (const [k, v] of changes) proposed = withPath(proposed, k, v);
    const applied = await configure(hookRun(p, readLink(p.current)!, opts), current, proposed);
    writeSettings(p.settings, applied);
    writeVassal(p, applied); // the emperor reloads the vassal gracefully
    return applied;
  });
}

export function getSetting(name: string, key: string[] | undefined, opts: BundleOpts): unknown {
  const s = readSettings(installed(opts, name).settings);
  return key ? getPath(s, key) : s;
}
