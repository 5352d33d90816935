// The recycling policy's verdicts (recycle.ts: harakiri, max-requests,
// reload-on-rss, lifetimes) applied to the workers: a kill now, or a
// graceful replacement.
import { log } from '../../log';
import { judge, type Verdict } from '../recycle';
import { rssOf, type Proc } from '../worker-process';
import type { Master } from './context';

/** The policy's verdict on `p` now, applied. */
export function applyVerdict(m: Master, p: Proc, now: number): void {
  const v = verdict(m, p, now);
  if (!v) return;
  if (v.action === 'kill') killNow(m, p, v);
  else if (recyclable(m, p) && m.workers.replace(v.id, v.reason, true)) log('master').info({ worker: v.id, pid: v.pid }, `recycling: ${v.reason}`);
}

/** Only the harakiri verdicts (while a stop waits for the workers). */
export function harakiri(m: Master, now: number): void {
  for (const p of m.workers.all()) {
    const v = verdict(m, p, now);
    if (v && v.action === 'kill' && v.reason.startsWith('harakiri')) killNow(m, p, v);
  }
}

function verdict(m: Master, p: Proc, now: number): Verdict | undefined {
  return judge(p, () => rssOf(p), now, m.settings.policy, !!(p.child || p.channel));
}

function killNow(m: Master, p: Proc, v: Verdict): void {
  // a harakiri says its request, requests and rss only with harakiri-verbose
  const verbose = m.settings.harakiriVerbose || !v.reason.startsWith('harakiri');
  const fields = verbose ? { worker: v.id, pid: v.pid, request: v.request, requests: p.stats.requests, rss: rssOf(p) } : { worker: v.id, pid: v.pid };
  log('master').warn(fields, `${v.reason}: SIGKILL`);
  m.workers.kill(p, v.reason);
}

/** While a reload runs, only a worker it will not replace is recycled:
 * one started since a workers or chain reload was asked (a long chain
 * keeps max-requests and reload-on-rss for the workers it started). */
function recyclable(m: Master, p: Proc): boolean {
  const { reloading, walk } = m.reload;
  if (!reloading) return true;
  return walk !== undefined && (p.serial ?? 0) > walk.mark;
}
