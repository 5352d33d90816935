// A bundle's bookkeeping: the install history (oldest first, for revert and
// bundle-keep), a lock so that two installs/sets of one bundle never
// interleave, and the generated vassal config.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { log } from '../log';
import { readLink, writeAtomic } from './atomic';
import { configEnvNames, hasSockets, loadInstance, vassalIni } from './instance';
import type { BundlePaths } from './layout';
import { readSettings, type Settings } from './settings';

export function readHistory(p: BundlePaths): string[] {
  try {
    return (JSON.parse(fs.readFileSync(p.state, 'utf8')) as { history: string[] }).history;
  } catch {
    return [];
  }
}

export function writeHistory(p: BundlePaths, history: string[]): void {
  writeAtomic(p.state, JSON.stringify({ history }, null, 2) + '\n');
}

/** Runs `f` holding <bundle>/.lock (a stale lock of a dead pid is taken over). */
export async function withLock<T>(p: BundlePaths, f: () => Promise<T>): Promise<T> {
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o755 });
  const lock = path.join(p.dir, '.lock');
  for (let tries = 0; ; tries++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw new LiegeError('LIEGE_ERR_BUNDLE', `bundle ${p.name} is busy (another install/set holds ${lock})`, { text: lock });
      const holder = Number(fs.readFileSync(lock, 'utf8'));
      if (pidAlive(holder)) throw new LiegeError('LIEGE_ERR_BUNDLE', `bundle ${p.name} is busy: pid ${holder} holds ${lock}`, { text: lock });
      fs.rmSync(lock, { force: true });
    }
  }
  try {
    return await f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Rewrites <state>/bundles/<name>.ini for the current version with a fresh
 * readiness token (a newer mtime: the emperor reloads the vassal). */
export function writeVassal(p: BundlePaths, settings: Settings = readSettings(p.settings)): string {
  const version = readLink(p.current);
  if (!version) throw new LiegeError('LIEGE_ERR_BUNDLE', `bundle ${p.name} has no current version`, { text: p.current });
  const root = p.version(version);
  const token = `${version}:${crypto.randomBytes(8).toString('hex')}`;
  const phase = hasSockets(loadInstance(root, settings)) ? 'accepting1' : 'master-start';
  const before = fs.statSync(p.vassal, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  let staleEnv: string[] = [];
  try { staleEnv = configEnvNames(fs.readFileSync(p.vassal, 'utf8')); } catch { /* first write */ }
  writeAtomic(p.vassal, vassalIni({ staleEnv, name: p.name, version, root, data: p.data, settings, marker: { file: p.marker, token, phase }, pidfile: p.pidfile }));
  // the emperor reloads on a newer mtime: never the same millisecond twice
  if (fs.statSync(p.vassal).mtimeMs <= before) {
    const t = new Date(before + 10);
    fs.utimesSync(p.vassal, t, t);
  }
  return token;
}

/** Does an instance of the bundle run (its master's pidfile names a live pid)? */
export function instanceRuns(p: BundlePaths): boolean {
  try { return pidAlive(Number(fs.readFileSync(p.pidfile, 'utf8'))); } catch { return false; }
}

/** What to do when no instance of the bundle runs: an emperor must serve the bundles directory. */
export const noInstance = (p: BundlePaths) => `no instance of ${p.name} runs: is an emperor serving ${p.root}? Start one: \`liege --emperor ${p.root}\` (or install with --no-wait before it starts)`;

const HINT_AFTER_MS = 5000;

/** Waits until the instance wrote `token` to the marker; false on timeout.
 * A wait with no instance running after a few seconds says why it may be
 * waiting in vain (an install before the emperor was started). */
export async function waitAccepting(p: BundlePaths, token: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  let hint = Date.now() + HINT_AFTER_MS;
  while (Date.now() < end) {
    try {
      if (fs.readFileSync(p.marker, 'utf8').trim() === token) return true;
    } catch { /* not yet */ }
    if (Date.now() > hint) {
      hint = Infinity;
      if (!instanceRuns(p)) log('bundle').warn({ bundle: p.name }, `still waiting: ${noInstance(p)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
