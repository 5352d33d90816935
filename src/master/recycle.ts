// Recycling and deadlines as policies: given what the master knows about a
// worker (its busy slot, its last stats heartbeat, its RSS, its age), what
// to do with it.
// Pure: the master applies the verdicts (workers.replace = graceful, the same
// drain as a reload; workers.kill = SIGKILL, then respawn).
import { readBusy } from '../ipc/busy-slot';
import type { Proc } from './worker-process';

export interface RecyclePolicy {
  harakiriMs: number; // 0 = off
  maxRequests: number;
  maxRequestsDelta: number;
  reloadOnRssBytes: number;
  evilReloadOnRssBytes: number;
  maxLifetimeMs: number;
  maxLifetimeDeltaMs: number;
  minLifetimeMs: number;
  startTimeoutMs?: number; // a worker not accepting by then is given up (absent in a handover from an older image)
}

/** A promoted spare silent this long before it accepts is stuck (spares.ts). */
const PROMOTED_SILENT_MS = 5000;

export type Verdict = { id: number; pid: number; action: 'replace' | 'kill'; reason: string; request?: string };

/** The verdict for one worker now, or undefined to leave it. `rssNow`: its
 * RSS in bytes, read (from /proc) only under an RSS policy: the master asks
 * for every worker each second and at each of its stats messages, and an idle
 * master's garbage is what touches its young generation's pages;
 * `watched`: the worker sends heartbeats (not an adopted one without a channel). */
export function judge(p: Proc, rssNow: () => number, now: number, pol: RecyclePolicy, watched: boolean): Verdict | undefined {
  const v = (action: Verdict['action'], reason: string, request?: string): Verdict => ({ id: p.id, pid: p.pid, action, reason, request });
  // a load that never ends (a top-level await on a database that never
  // answers) would hold a reload forever and every reload merged into it
  if (p.status === 'starting' && pol.startTimeoutMs && now - p.spawnedAt > pol.startTimeoutMs) return v('kill', `did not accept ${Math.round(pol.startTimeoutMs / 1000)} s after it started (app-listen-timeout + 5 s): its start hangs`);
  // a promoted spare heartbeats until it accepts (its app is loaded): one
  // that went silent (frozen just before its promotion) holds the slot
  if (p.status === 'starting' && p.promoted && now - p.lastSeen > PROMOTED_SILENT_MS) return v('kill', `spare promoted to the slot is silent for ${Math.round((now - p.lastSeen) / 1000)} s (stopped, or its event loop blocked)`);
  // a worker whose channel closed while it lives on (the app called
  // process.disconnect()) sends no stats, heartbeat or `accepting` any
  // more: the master cannot watch it, so it is replaced (after its
  // min-worker-lifetime, so an app that always does it is no churn)
  const lost = p.channelLostAt !== undefined && now - p.channelLostAt > CHANNEL_GRACE_MS;
  if (lost) {
    if (p.status === 'starting') return v('kill', CHANNEL_LOST);
    if (p.status === 'accepting' && now - p.spawnedAt >= pol.minLifetimeMs) return v('replace', CHANNEL_LOST);
  }
  if (pol.harakiriMs > 0 && p.status !== 'starting') {
    // the shared slot is current even while the worker's loop is blocked;
    // the heartbeat's is up to a second old (adopted workers have only that)
    const busy = p.slot ? readBusy(p.slot) : p.stats.busy;
    if (busy && now - busy.since > pol.harakiriMs) return v('kill', `harakiri: a request ran ${Math.round((now - busy.since) / 1000)} s`, busy.request);
    // a heartbeat every second: none for the whole deadline = a blocked event loop
    if (watched && !lost && now - p.lastSeen > pol.harakiriMs + 1000) return v('kill', `harakiri: event loop blocked ${Math.round((now - p.lastSeen) / 1000)} s`, busy?.request);
  }
  const rss = pol.evilReloadOnRssBytes > 0 || pol.reloadOnRssBytes > 0 ? rssNow() : 0;
  if (pol.evilReloadOnRssBytes > 0 && rss > pol.evilReloadOnRssBytes) return v('kill', `evil-reload-on-rss: RSS ${mib(rss)} MiB`);
  if (p.status !== 'accepting') return undefined;
  // (uWSGI: min-worker-lifetime gates max-requests and reload-on-rss, not
  // max-worker-lifetime, which may be the shorter one)
  const life = pol.maxLifetimeMs > 0 ? pol.maxLifetimeMs + p.id * pol.maxLifetimeDeltaMs : 0;
  if (life > 0 && now - p.spawnedAt > life) return v('replace', `max-worker-lifetime: ${Math.round((now - p.spawnedAt) / 1000)} s`);
  if (now - p.spawnedAt < pol.minLifetimeMs) return undefined;
  const maxReq = pol.maxRequests > 0 ? pol.maxRequests + p.id * pol.maxRequestsDelta : 0;
  if (maxReq > 0 && p.stats.requests >= maxReq) return v('replace', `max-requests: ${p.stats.requests} requests`);
  if (pol.reloadOnRssBytes > 0 && rss > pol.reloadOnRssBytes) return v('replace', `reload-on-rss: RSS ${mib(rss)} MiB`);
  return undefined;
}

// its exit follows the close of its channel within this (a normal death)
const CHANNEL_GRACE_MS = 1000;
const CHANNEL_LOST = 'its channel to the master closed while it runs (the app called process.disconnect()?): the master cannot watch it';

function mib(b: number): number {
  return Math.round(b / 1048576);
}
