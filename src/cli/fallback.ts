// fallback-config (uWSGI core/config.c uwsgi_fallback_config, an atexit
// handler): an instance that ends with status 1 — a fatal hook, a socket it
// cannot bind, an app that does not load, `exit:1` — re-executes itself in
// place (same pid) as `liege FALLBACK`, after its as-user-atexit hooks ran.
// Unlike uWSGI it never loops: a config that already ended with 1 in this
// chain of fallbacks (LIEGE_FALLBACK_CHAIN) is not started again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config/config';
import { keepEmperorForExec } from '../ipc/vassal';
import { log } from '../log';
import { native } from '../os/native';
import { keepNotifyAcrossExec } from '../os/notify';

export const FALLBACK_CHAIN_ENV = 'LIEGE_FALLBACK_CHAIN';

/** The configs that ended with 1 in this chain, the current one included. */
export function failedChain(env: NodeJS.ProcessEnv, current: string | undefined): string[] {
  const chain = (env[FALLBACK_CHAIN_ENV] ?? '').split('\n').filter(Boolean);
  return current && !chain.includes(current) ? [...chain, current] : chain;
}

/** `file.ini` or `file.ini:section` → the file that must exist. */
const fileOf = (spec: string) => (fs.existsSync(spec) ? spec : spec.replace(/:[^/:]*$/, ''));

/** Re-execs with the fallback config when status is 1 and one is set (does
 * not return then); otherwise, or when it cannot, returns status. */
export function fallback(cfg: Config, status: number, current: string | undefined, startCwd: string): number {
  const spec = cfg.str('fallback-config');
  if (status !== 1 || !spec) return status;
  const l = log('master');
  const target = path.resolve(startCwd, spec);
  const chain = failedChain(process.env, current);
  if (chain.includes(target)) {
    l.error({ fallback: target, failed: chain }, 'not falling back: that config already ended with status 1 in this chain');
    return status;
  }
  if (!fs.existsSync(fileOf(target))) {
    l.error({ fallback: target }, 'not falling back: the fallback config does not exist');
    return status;
  }
  l.error(`!!! ${process.argv[1]} (pid: ${process.pid}) exited with status ${status} !!!`);
  l.error(`!!! Fallback config to ${target} !!!`);
  process.env[FALLBACK_CHAIN_ENV] = chain.join('\n');
  delete process.env.UWSGI_RELOADS; // a fresh start, not a reload
  // a vassal keeps its emperor: the pipe survives the exec
  keepEmperorForExec(native.setCloexec);
  keepNotifyAcrossExec(); // systemd still waits for this pid's READY=1
  try { process.chdir(startCwd); } catch { /* chrooted: stay */ }
  try {
    return native.execv(process.execPath, [process.execPath, ...process.execArgv, process.argv[1]!, target]);
  } catch (e) {
    l.error({ fallback: target, error: (e as Error).message }, 'unable to re-exec with the fallback config');
    return status;
  }
}
