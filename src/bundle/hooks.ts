// Running a bundle hook (meta/hooks/<name>) confined like the app: with the
// instance's unshare/chroot/umask, as its uid/gid/add-gid (hook-exec.ts), in
// the bundle root, with
// LIEGE_BUNDLE_NAME/_VERSION/_DATA/_HOOK and the applied settings as
// LIEGE_CONFIG_*; stdin from /dev/null, output captured (and shown when the
// hook fails), killed after bundle-hook-timeout.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { lookupGroup, lookupUser } from '../os/privileges';
import { HOOK_EXEC_ENV, insideJail, type HookExecSpec } from './hook-exec';
import { envName, flatten, type Settings } from './settings';

export interface HookRun {
  bundle: string;
  version: string;
  root: string;
  data: string;
  config: Config; // the version's instance config: uid, gid
  settings: Settings;
  extraEnv?: Record<string, string>;
  timeoutMs: number;
}

export interface HookResult { code: number | null; signal: NodeJS.Signals | null; output: string }

/** The uid/gid the instance drops to (undefined: stays as the caller). */
export function instanceIds(cfg: Config): { uid?: number; gid?: number } {
  const u = cfg.str('uid');
  const g = cfg.str('gid');
  const user = u !== undefined ? lookupUser(u) : undefined;
  if (u !== undefined && !user) throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'unknown user', { origin: cfg.origin('uid'), text: u, expected: 'a user of /etc/passwd or a number' });
  let gid = g !== undefined ? lookupGroup(g) : undefined;
  if (g !== undefined && gid === undefined) throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'unknown group', { origin: cfg.origin('gid'), text: g, expected: 'a group of /etc/group or a number' });
  if (gid === undefined && user && user.gid >= 0) gid = user.gid;
  return { uid: user?.uid, gid };
}

export function hookPath(root: string, name: string): string | undefined {
  const f = path.join(root, 'meta', 'hooks', name);
  return fs.existsSync(f) ? f : undefined;
}

/** Runs hook `name` of the version at r.root; undefined when it has none. */
export function runBundleHook(name: string, r: HookRun): Promise<HookResult> | undefined {
  const file = hookPath(r.root, name);
  if (!file) return undefined;
  const liegeDir = path.dirname(process.argv[1] ?? 'liege'); // so the hook finds `liege ctl`
  const env: Record<string, string> = {
    PATH: `${liegeDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: r.data,
    LIEGE_BUNDLE_NAME: r.bundle,
    LIEGE_BUNDLE_VERSION: r.version,
    LIEGE_BUNDLE_DATA: r.data,
    LIEGE_BUNDLE_HOOK: name,
    ...Object.fromEntries(flatten(r.settings).map(([k, v]) => [envName(k), v])),
    ...r.extraEnv,
  };
  return new Promise((resolve) => {
    const child = spawnConfined(file, r, env);
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => chunks.push(b));
    child.stderr!.on('data', (b: Buffer) => chunks.push(b));
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, r.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: 127, signal: null, output: `unable to run ${file}: ${e.message}\n` }); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, output: Buffer.concat(chunks).toString() }); });
  });
}

const HOOK_EXEC = path.resolve(__dirname, '..', 'bundle', 'hook-exec.js');

/** As root: through hook-exec (jail, then the drop); else the hook itself. */
function spawnConfined(file: string, r: HookRun, env: Record<string, string>): ChildProcess {
  const opts = { cwd: r.root, stdio: ['ignore', 'pipe', 'pipe'] as StdioOptions, detached: true };
  if (process.getuid!() !== 0) return spawn(file, [], { ...opts, env });
  const cfg = r.config;
  const jail = cfg.str('chroot');
  if (insideJail(r.root, jail) === undefined) {
    throw new LiegeError('LIEGE_ERR_BUNDLE', `the bundle root ${r.root} is outside the instance's chroot ${jail}: its hooks cannot run confined`, { origin: cfg.origin('chroot'), text: jail, expected: 'a state-dir inside the chroot' });
  }
  const spec: HookExecSpec = {
    hook: file, root: r.root, unshare: cfg.str('unshare'), chroot: jail, umask: cfg.str('umask'),
    uid: cfg.setting('uid'), gid: cfg.setting('gid'), addGids: [...cfg.list('add-gid')], initgroups: !cfg.bool('no-initgroups'),
  };
  return spawn(process.execPath, [HOOK_EXEC], { ...opts, env: { ...env, [HOOK_EXEC_ENV]: JSON.stringify(spec) } });
}

/** "exited 3" / "killed by SIGKILL" */
export const describeResult = (r: HookResult) => (r.signal ? `killed by ${r.signal}` : `exited ${r.code}`);
