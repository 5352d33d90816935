// Running one phase of the plan: hook by hook, logged with phase, action,
// outcome and duration. In a fatal phase the first failure skips the rest
// and throws a HookFailure; the caller ends the instance (DEPARTURES D6).
import { formatOrigin, LiegeError } from '../errors';
import { log } from '../log';
import type { HookContext } from './actions/types';
import { ExitRequest } from './actions/types';
import { phaseByName } from '../phases';
import { showHook, type Hook, type HookPlan } from './spec';

export class HookFailure extends LiegeError {
  constructor(readonly hook: Hook, readonly phase: string, detail: string) {
    super('LIEGE_ERR_HOOK_FAILED', `FATAL hook failed in ${phase}, destroying instance: ${detail}`, { origin: hook.origin, text: `${hook.option} = ${showHook(hook)}` });
  }
}

/** Runs one hook; returns undefined on success, else why it failed. */
function runHook(h: Hook, ctx: HookContext): string | undefined {
  try {
    const rc = h.action.run(h.parsed, ctx);
    return rc === 0 ? undefined : `returned ${rc}`;
  } catch (e) {
    if (e instanceof ExitRequest) throw e;
    return (e as Error).message ?? String(e);
  }
}

/** Runs every hook of `phase` in order; throws HookFailure when fatal.
 * `shortcutEnv` is set in the environment of the exec-<phase> shortcut
 * commands only (uWSGI gives UWSGI_VASSAL_* to exec-as-emperor alone). */
export function runPhase(plan: HookPlan, phase: string, ctx: HookContext, shortcutEnv?: Record<string, string>): void {
  const hooks = plan.get(phase) ?? [];
  if (!hooks.length) return;
  const fatal = phaseByName(phase)?.fatal ?? true;
  const l = log('hooks');
  const ran: Hook[] = [];
  for (const h of hooks) {
    const t0 = process.hrtime.bigint();
    const env = h.family === 'exec' ? shortcutEnv : undefined;
    if (env) Object.assign(process.env, env);
    let failed: string | undefined;
    try {
      failed = runHook(h, ctx);
    } finally {
      if (env) for (const k of Object.keys(env)) delete process.env[k];
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const fields = { phase, action: h.action.name, hook: showHook(h), at: formatOrigin(h.origin), ms: Math.round(ms * 100) / 100 };
    if (!failed) {
      l.info({ ...fields, outcome: 'ok' }, 'hook ran');
      ran.push(h);
      continue;
    }
    if (!fatal) {
      l.warn({ ...fields, outcome: 'failed', error: failed }, 'hook failed (non-fatal phase)');
      continue;
    }
    l.error({ ...fields, outcome: 'failed', error: failed }, 'FATAL hook failed, destroying instance');
    rollBack(phase, ran);
    throw new HookFailure(h, phase, failed);
  }
}

/** The rollbacks of the hooks that ran before a fatal failure, last first. */
export function rollBack(phase: string, ran: readonly Hook[]): void {
  for (const h of [...ran].reverse()) {
    if (!h.rollback) continue;
    let rc: number | string;
    try {
      rc = h.rollback();
    } catch (e) {
      rc = (e as Error).message ?? String(e);
    }
    const fields = { phase, hook: showHook(h), at: formatOrigin(h.origin) };
    if (rc === 0) log('hooks').info({ ...fields, outcome: 'ok' }, 'rollback ran');
    else log('hooks').error({ ...fields, outcome: 'failed', error: typeof rc === 'number' ? `returned ${rc}` : rc }, 'rollback failed');
  }
}
