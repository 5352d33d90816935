// A worker process: post-fork hooks, load the app on the inherited
// sockets, accepting hooks (accepting, -once, accepting1, accepting1-once),
// then serve. A fatal hook failure is reported to the master, which ends the
// instance (DEPARTURES D6); an app that throws at load is an app error
// (LIEGE_ERR_APP_LOAD), reported and respawned with backoff. SIGTERM/SIGINT
// drain (drain.ts); SIGQUIT is immediate. Every second the worker sends the
// master its stats (requests, the oldest request in flight: harakiri).
import { HookFailure, runPhase } from '../hooks/run';
import { extendPlan, REQUEST_KEY } from '../hooks/registry/plan';
import { planFromLines } from '../hooks/spec';
import { FIRST_SOCKET_FD, WORKER_ENV, type WorkerMessage, type WorkerSpec, type WorkerStats } from '../ipc/worker';
import { native } from '../os/native';
import { loadApp } from './app';
import { Drain } from './drain';
import type * as http from 'node:http';
import { provideLiegeModule } from './liege-module';
import { loadRequestHookModules } from './request-hook-modules';

const send = (m: WorkerMessage, then?: () => void) => {
  if (!process.connected || !process.send) return then?.();
  try {
    process.send(m, undefined, {}, () => then?.());
  } catch {
    then?.();
  }
};

const stats: WorkerStats = { requests: 0, exceptions: 0, avgRtMs: 0, busy: null };
const inFlight = new Map<http.IncomingMessage, number>();

function countRequests(servers: import('node:net').Server[], spec: WorkerSpec, drain: Drain): void {
  for (const s of servers) {
    s.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const t0 = Date.now();
      inFlight.set(req, t0);
      stats.requests++;
      if (spec.maxRequests && stats.requests === spec.maxRequests) sendStats(drain);
      res.once('close', () => {
        inFlight.delete(req);
        stats.avgRtMs += (Date.now() - t0 - stats.avgRtMs) / Math.min(stats.requests, 100);
      });
    });
  }
}

function sendStats(drain: Drain): void {
  let oldest: [http.IncomingMessage, number] | undefined;
  for (const e of inFlight) if (!oldest || e[1] < oldest[1]) oldest = e;
  stats.busy = oldest ? { since: oldest[1], request: `${oldest[0].method} ${oldest[0].url}` } : null;
  send({ type: 'stats', stats: { ...stats, rss: process.memoryUsage.rss(), draining: drain.isDraining } });
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[WORKER_ENV]!) as WorkerSpec;
  delete process.env[WORKER_ENV];
  // die with the master even when this event loop is stuck (a native thread)
  if (!native.watchParent(spec.deathGraceMs, spec.masterPid)) process.exit(1);
  // the app's children must not keep the listening sockets (or our channel)
  for (let fd = 3; fd < FIRST_SOCKET_FD + spec.sockets; fd++) native.setCloexec(fd, true);
  const plan = extendPlan(planFromLines(spec.hooks), spec.extraHooks ?? []);
  const phase = (name: string) => runPhase(plan, name, spec.ctx);
  const drain = new Drain();
  const stop = (reason: string) => drain.start(reason, spec.mercyMs);
  try {
    phase('post-fork');
    provideLiegeModule([spec.app ?? '', ...(plan.get(REQUEST_KEY) ?? []).map((h) => h.args)]);
    await loadRequestHookModules(plan.get(REQUEST_KEY));
  } catch (e) {
    return fatal(e);
  }
  drain.interceptApp();
  process.on('uncaughtException', (e) => {
    stats.exceptions++;
    process.stderr.write(`liege[${process.pid}] worker: ERROR uncaught exception in the app: ${e.stack ?? e}\n`);
    send({ type: 'app-error', when: 'serving', message: String(e.message ?? e), stack: e.stack }, () => process.exit(1));
    setTimeout(() => process.exit(1), 1000).unref();
  });
  let servers: import('node:net').Server[];
  try {
    servers = await loadApp(spec.app, Array.from({ length: spec.sockets }, (_, i) => FIRST_SOCKET_FD + i));
  } catch (e) {
    const err = e as Error;
    send({ type: 'app-error', when: 'load', message: String(err.message ?? err), stack: err.stack, file: spec.app }, () => process.exit(1));
    setTimeout(() => process.exit(1), 1000).unref();
    return;
  }
  drain.track(servers);
  countRequests(servers, spec, drain);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) drain.onSignal(sig, () => stop(sig));
  process.on('SIGQUIT', () => process.exit(0));
  // the channel closes when the master dies; a master that re-execs keeps it
  process.on('disconnect', () => { if (process.ppid !== spec.masterPid) stop('the master is gone'); });
  try {
    phase('accepting');
    if (spec.once) phase('accepting-once');
    if (spec.id === 1) phase('accepting1');
    if (spec.id === 1 && spec.once) phase('accepting1-once');
  } catch (e) {
    return fatal(e);
  }
  send({ type: 'accepting' });
  setInterval(() => sendStats(drain), 1000).unref();
}

function fatal(e: unknown): void {
  send({ type: 'fatal', detail: e instanceof HookFailure ? e.describe() : String((e as Error).stack ?? e) }, () => process.exit(1));
}

void main();
