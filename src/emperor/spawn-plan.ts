// How a vassal is started: `node bin/liege [--inherit …] [--include …]
// [--set k=v …] --ini CONFIG [--inherit …] [--include …]` (uWSGI's vassal
// argv, emperor.c), its environment (UWSGI_VASSAL_X → UWSGI_X, LIEGE_VASSAL_X
// → LIEGE_X, no reload count, no systemd socket), and the prelude job when
// the emperor has as-vassal hooks or a vassals-start-hook.
import type { Config } from '../config/config';
import type { OptionName } from '../config/options';
import type { HookContext } from '../hooks/actions/types';
import type { SpawnPlan } from './vassal';

// (systemd's variables are the emperor's: a vassal is not the unit's main process)
const DROPPED = new Set(['UWSGI_RELOADS', 'NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID', 'UWSGI_JAIL_PID', 'LIEGE_SOCKET_FDS', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']);

/** The environment every vassal starts with. */
export function vassalEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (DROPPED.has(k)) continue;
    const m = /^(UWSGI|LIEGE)_VASSAL_(.+)$/.exec(k);
    out[m ? `${m[1]}_${m[2]}` : k] = v;
  }
  return out;
}

/** Builds the per-vassal plan from the emperor's config (computed once). */
export function planner(cfg: Config, ctx: HookContext, liege: string): (config: string) => SpawnPlan {
  const vals = (name: OptionName) => cfg.list(name).map((s) => s.value);
  const flag = (opt: string, files: string[]) => files.flatMap((f) => [opt, f]);
  const before = [...flag('--inherit', vals('vassals-inherit-before')), ...flag('--include', vals('vassals-include-before')), ...flag('--set', vals('vassal-set'))];
  const after = [...flag('--inherit', vals('vassals-inherit')), ...flag('--include', vals('vassals-include'))];
  const hooks = cfg.hookLines.filter((h) => h.phase === 'as-vassal');
  const startHook = cfg.str('vassals-start-hook');
  const env = vassalEnv(process.env);
  return (config) => ({
    argv: [liege, ...before, '--ini', config, ...after],
    env,
    job: hooks.length || startHook ? { config, startHook, hooks, ctx } : undefined,
  });
}
