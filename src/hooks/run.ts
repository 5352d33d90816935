// Running one phase of the plan: hook by hook, in order, logged with phase,
// action, outcome and duration. In a fatal phase the first failure skips
// the rest and throws a HookFailure; the caller ends the instance
// (DEPARTURES D6). Promise-aware: a hook may resolve later (js:, or exec in
// a running loop), and the next hook starts only once it did.
//
// Two entry points, one policy:
// * runStartupPhase — the startup walk (asap … post-app, worker and vassal
//   launcher phases): nothing else runs, so exec takes the fast blocking
//   vfork + waitpid path (bench/hooks.js).
// * runPhaseAsync — where an event loop is running (master-start, the
//   emperor's hooks, emperor-stop/-reload/-lost, later request hooks): exec
//   is awaited, so signals, timers and IPC keep flowing (DESIGN: loops
//   never block).
import { formatOrigin, LiegeError } from '../errors';
import { log } from '../log';
import type { HookContext, HookRun } from './actions/types';
import { ExitRequest } from './actions/types';
import { phaseByName } from '../phases';
import { showHook, type Hook, type HookPlan } from './spec';

export class HookFailure extends LiegeError {
  constructor(readonly hook: Hook, readonly phase: string, detail: string, then = DESTROY) {
    super('LIEGE_ERR_HOOK_FAILED', `FATAL hook failed in ${phase}, ${then}: ${detail}`, { origin: hook.origin, text: `${hook.option} = ${showHook(hook)}` });
  }
}

// what a fatal failure does, unless the caller's context says otherwise (uWSGI's words)
const DESTROY = 'destroying instance';

/** The outcome of a fatal failure in the phases of a reload (the new image's
 * startup phases, its master-start): the instance goes on. */
export const RELOAD_FAILS = 'the reload fails, the running generation keeps serving';

/** In a worker: the master judges (the instance ends, or a reload fails). */
export const WORKER_FAILS = 'the worker exits, the master decides';

/** Why a hook failed, from what it returned or threw (an exit request passes through). */
function failure(e: unknown): string {
  if (e instanceof ExitRequest) throw e;
  return (e as Error)?.message ?? String(e);
}

const outcome = (rc: number) => (rc === 0 ? undefined : `returned ${rc}`);

/** Runs one hook: undefined on success, else why it failed; a promise only
 * when the action's result is one. */
function runHook(h: Hook, ctx: HookContext, how: HookRun): string | undefined | Promise<string | undefined> {
  let rc: number | Promise<number>;
  try {
    rc = h.action.run(h.parsed, ctx, how);
  } catch (e) {
    return failure(e);
  }
  if (typeof rc === 'number') return outcome(rc);
  return rc.then(outcome, failure);
}

/** Awaits a hook's promise with the loop held alive: a pending promise
 * alone does not keep Node running, and what the hook waits on may be an
 * unref'd handle (the privileged helper's socket): Node would exit 0 with
 * the phase half done. */
async function alive<T>(p: Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 2 ** 30);
  try {
    return await p;
  } finally {
    clearInterval(hold);
  }
}

interface PhaseOptions {
  blocking: boolean;
  shortcutEnv?: Record<string, string>;
}

async function runPhaseWith(plan: HookPlan, phase: string, ctx: HookContext, opts: PhaseOptions): Promise<void> {
  const hooks = plan.get(phase) ?? [];
  if (!hooks.length) return;
  const fatal = phaseByName(phase)?.fatal ?? true;
  const l = log('hooks');
  const ran: Hook[] = [];
  for (const h of hooks) {
    const t0 = process.hrtime.bigint();
    // uWSGI gives UWSGI_VASSAL_* to the exec- shortcut commands only
    const how: HookRun = { phase, blocking: opts.blocking, env: h.family === 'exec' ? opts.shortcutEnv : undefined, origin: h.origin };
    const r = runHook(h, ctx, how);
    const failed = typeof r === 'object' ? await alive(r) : r;
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
    const then = ctx.fatalOutcome ?? DESTROY;
    l.error({ ...fields, outcome: 'failed', error: failed }, `FATAL hook failed, ${then}`);
    await rollBack(phase, ran);
    throw new HookFailure(h, phase, failed, then);
  }
}

/** A startup phase: every hook in order, exec on the fast blocking path;
 * rejects with HookFailure when a hook of a fatal phase fails. */
export function runStartupPhase(plan: HookPlan, phase: string, ctx: HookContext): Promise<void> {
  return runPhaseWith(plan, phase, ctx, { blocking: true });
}

/** A phase run by a running master or emperor: same order and fatal policy,
 * but an exec hook is awaited (its exit reported by a native waiting
 * thread), never waited for in the loop's thread. `shortcutEnv` is set in
 * the environment of the exec-<phase> shortcut commands only. */
export function runPhaseAsync(plan: HookPlan, phase: string, ctx: HookContext, shortcutEnv?: Record<string, string>): Promise<void> {
  return runPhaseWith(plan, phase, ctx, { blocking: false, shortcutEnv });
}

/** The rollbacks of the hooks that ran before a fatal failure, last first. */
export async function rollBack(phase: string, ran: readonly Hook[]): Promise<void> {
  for (const h of [...ran].reverse()) {
    if (!h.rollback) continue;
    let rc: number | string;
    try {
      const out = h.rollback();
      rc = typeof out === 'number' ? out : await alive(out);
    } catch (e) {
      rc = (e as Error).message ?? String(e);
    }
    const fields = { phase, hook: showHook(h), at: formatOrigin(h.origin) };
    if (rc === 0) log('hooks').info({ ...fields, outcome: 'ok' }, 'rollback ran');
    else log('hooks').error({ ...fields, outcome: 'failed', error: typeof rc === 'number' ? `returned ${rc}` : rc }, 'rollback failed');
  }
}
