// A worker process: post-fork hooks, load the app on the inherited
// sockets, accepting hooks (accepting, -once, accepting1, accepting1-once),
// then serve. A fatal hook failure is reported to the master, which ends the
// instance (DEPARTURES D6); an app that fails to load is the app's error
// (LIEGE_ERR_APP_LOAD), logged, and the worker exits 1 to be respawned.
// SIGTERM/SIGINT drain; SIGQUIT is immediate.
import { LiegeError } from '../errors';
import { HookFailure, runPhase } from '../hooks/run';
import { extendPlan, REQUEST_KEY } from '../hooks/registry/plan';
import { planFromLines } from '../hooks/spec';
import { WORKER_ENV, type WorkerMessage, type WorkerSpec } from '../ipc/worker';
import { log, setLogFormat, setWorkerLogFields } from '../log';
import { drainAndExit } from './drain';
import { provideLiegeModule } from './liege-module';
import { RequestObserver } from './observe';
import { loadRequestHookModules } from './request-hook-modules';
import { attachRequestHooks } from './request-hooks';
import { serveApp } from './serve';

const send = (m: WorkerMessage, then?: () => void) => (process.send ? process.send(m, undefined, {}, () => then?.()) : then?.());

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[WORKER_ENV]!) as WorkerSpec;
  delete process.env[WORKER_ENV];
  setLogFormat(spec.logFormat ?? 'text');
  setWorkerLogFields(spec.id);
  if (spec.procname) process.title = spec.procname.replace(/%w/g, String(spec.id));
  const plan = extendPlan(planFromLines(spec.hooks), spec.extraHooks ?? []);
  const phase = (name: string) => runPhase(plan, name, spec.ctx);
  const observer = new RequestObserver(spec, send);
  try {
    phase('post-fork');
    provideLiegeModule([spec.app ?? '', ...(plan.get(REQUEST_KEY) ?? []).map((h) => h.args)]);
    await loadRequestHookModules(plan.get(REQUEST_KEY));
    const observe = (server: import('node:http').Server) => {
      attachRequestHooks(server);
      observer.observe(server);
    };
    const { servers } = await serveApp(spec, observe, observer.appError);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => drainAndExit(servers, 5000));
    process.on('SIGQUIT', () => process.exit(0));
    // the master is gone (even SIGKILLed): no orphan keeps serving
    process.on('disconnect', () => drainAndExit(servers, 5000));
    phase('accepting');
    if (spec.once) phase('accepting-once');
    if (spec.id === 1) phase('accepting1');
    if (spec.id === 1 && spec.once) phase('accepting1-once');
    send({ type: 'accepting' });
  } catch (e) {
    if (e instanceof LiegeError && (e.code === 'LIEGE_ERR_APP_LOAD' || e.code === 'LIEGE_ERR_APP_LISTEN')) {
      log('worker').error({ code: e.code, worker: spec.id, app: spec.app }, e.message);
      process.exit(1);
    }
    send({ type: 'fatal', detail: e instanceof HookFailure ? e.describe() : String((e as Error).stack ?? e) }, () => process.exit(1));
  }
}

void main();
