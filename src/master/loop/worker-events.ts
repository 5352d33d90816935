// What the workers report (workers.ts: WorkerEvent) and the master's tick:
// each moves the readiness, a reload under way and the recycling policies.
import { FAILED_APP_CODE, LiegeError } from '../../errors';
import { tellDaemonReady } from '../../ipc/daemon';
import { log } from '../../log';
import { shrinkHeapSoon } from '../../os/heap';
import { watchSilence } from '../silence';
import { creditStall } from '../stall';
import { judgeWorkerSignal, type WorkerSignalled } from '../worker-signals';
import type { Handlers } from './context';
import { ready, reloadFailing, statusChanged } from './readiness';
import { forgetReload, reloadDone } from './reload-state';
import { stop } from './stop';
import { applyVerdict } from './verdicts';
import { stopWalk, walkOn } from './walk';

/** Workers started between two low-memory GCs of the master. */
const SHRINK_EVERY = 50;

export const WORKER_HANDLERS: Handlers = {
  accepting: (m) => {
    // a master that respawns or recycles all day (max-requests) would
    // otherwise keep their garbage in a V8 old space that only grows
    // until its first major GC (+9 MiB in 500 recyclings, bench/README.md)
    if (++m.started % SHRINK_EVERY === 0) shrinkHeapSoon();
    // daemonize: the command that started us ends with 0 once a worker
    // serves (an app that does not load makes it end with our status)
    tellDaemonReady();
    if (!m.said.ready && m.workers.acceptingCount() === m.count) ready(m);
    statusChanged(m);
    walkOn(m);
    reloadDone(m);
    return undefined;
  },
  // need-app: an app that does not load while nothing serves (the first
  // start) ends the instance, as uWSGI; with workers serving (a reload or
  // a respawn into a broken app) they go on, the slot is retried
  'app-load-failed': async (m, e) => {
    // (a replacement, or a respawn since the request: it loaded the new code)
    const { id, pid, replacement, serial, error } = e as { id: number; pid: number; replacement: boolean; serial: number; error: string };
    const { walk } = m.reload;
    if (walk && (replacement || serial > walk.mark)) return stopWalk(m, id, error);
    if (!m.settings.needApp || m.reload.reloading || m.stopping || m.workers.acceptingCount() > 0) return undefined;
    log('master').error({ code: 'LIEGE_ERR_APP_LOAD', worker: id, pid }, `failed loading the app in worker ${id}: need-app, destroying the instance (exit ${FAILED_APP_CODE})`);
    await stop(m, false);
    return FAILED_APP_CODE;
  },
  'worker-exit': (m, e) => {
    statusChanged(m);
    const { failedReplacement } = e as { failedReplacement: boolean };
    if (failedReplacement) reloadFailing(m);
    // the new generation fails: a reload asked meanwhile (the fix) runs now
    if (failedReplacement && m.reload.pending) {
      forgetReload(m);
      m.events.push({ type: 'command', name: 'reload' });
    }
    walkOn(m);
    reloadDone(m);
    return undefined;
  },
  fatal: async (m, e) => {
    // a new generation's worker (it replaces a serving one) whose hook
    // fails: the reload failed, not the instance (it exits; its slot is
    // retried with the backoff, as when the app fails to load)
    const { id, detail, replacement } = e as { id: number; detail: string; replacement: boolean };
    if (m.reload.reloading && replacement) {
      log('master').error({ code: 'LIEGE_ERR_RELOAD', worker: id, error: detail }, 'FATAL hook failed in a worker of the new generation: the running generation keeps serving (fix the cause, then reload again)');
      return undefined;
    }
    log('master').error({ code: 'LIEGE_ERR_HOOK_FAILED', worker: id, error: detail }, 'FATAL hook failed in a worker, destroying instance');
    await stop(m, false);
    throw new LiegeError('LIEGE_ERR_HOOK_FAILED', 'a worker hook failed', { exitCode: 1 });
  },
  // a worker that reached max-requests says so at once: recycled now,
  // not at the next tick (a second of requests later)
  stats: (m, e) => {
    const { id, pid } = e as { id: number; pid: number };
    const p = m.workers.proc(id);
    if (p && p.pid === pid) applyVerdict(m, p, Date.now());
    return undefined;
  },
  // a worker signalled by someone else: the group's signal (ours too), or its own
  signalled: (m, e) => {
    judgeWorkerSignal(e as WorkerSignalled, (pid, sig) => !m.stopping && m.workers.passOn(pid, sig));
    return undefined;
  },
  tick: (m, e) => {
    const { workers } = m;
    const now = Date.now();
    const late = (e as { lateMs?: number }).lateMs ?? 0;
    if (late > 1000) log('master').warn({ late_ms: late }, 'the master did not run for a while (stopped or starved): the workers\' heartbeats are judged from now');
    creditStall(workers.all(), late, now);
    // (with harakiri a silent worker is killed instead: recycle.ts)
    if (m.settings.policy.harakiriMs === 0) watchSilence(workers.all(), now);
    workers.checkSpares(now, late);
    for (const p of workers.all()) applyVerdict(m, p, now);
    walkOn(m); // (each worker event moves it; this only makes sure it never waits on a missed one)
    return undefined;
  },
};
