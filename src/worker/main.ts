// A worker process: post-fork hooks, load the app on the inherited
// sockets, accepting hooks (accepting, -once, accepting1, accepting1-once),
// then serve. A fatal hook failure is reported to the master, which ends the
// instance (DEPARTURES D6). SIGTERM/SIGINT drain; SIGQUIT is immediate.
import { HookFailure, runPhase } from '../hooks/run';
import { extendPlan, REQUEST_KEY } from '../hooks/registry/plan';
import { planFromLines } from '../hooks/spec';
import { FIRST_SOCKET_FD, WORKER_ENV, type WorkerMessage, type WorkerSpec } from '../ipc/worker';
import { drainAndExit, loadApp } from './app';
import { provideLiegeModule } from './liege-module';
import { loadRequestHookModules } from './request-hook-modules';

const send = (m: WorkerMessage, then?: () => void) => (process.send ? process.send(m, undefined, {}, () => then?.()) : then?.());

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[WORKER_ENV]!) as WorkerSpec;
  delete process.env[WORKER_ENV];
  const plan = extendPlan(planFromLines(spec.hooks), spec.extraHooks ?? []);
  const phase = (name: string) => runPhase(plan, name, spec.ctx);
  try {
    phase('post-fork');
    provideLiegeModule([spec.app ?? '', ...(plan.get(REQUEST_KEY) ?? []).map((h) => h.args)]);
    await loadRequestHookModules(plan.get(REQUEST_KEY));
    const servers = await loadApp(spec.app, Array.from({ length: spec.sockets }, (_, i) => FIRST_SOCKET_FD + i));
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
    send({ type: 'fatal', detail: e instanceof HookFailure ? e.describe() : String((e as Error).stack ?? e) }, () => process.exit(1));
  }
}

void main();
