// The emperor: keeps one vassal (a liege instance) running per config its
// monitors find. Each scan (every emperor-freq s) is reconciled against
// the running set: a new config spawns a vassal, a newer mtime reloads it,
// a config gone stops it. A vassal that dies on its own is respawned after
// a delay that grows by emperor-throttle each early death. SIGINT/SIGTERM/
// SIGQUIT stop every vassal (SIGKILL after reload-mercy) and exit 0;
// SIGHUP reloads every vassal.
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { EventQueue } from '../event-queue';
import type { HookContext } from '../hooks/actions/types';
import { runPhaseAsync } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { log } from '../log';
import { spawnAwait } from '../os/spawn';
import { sdNotify as sdNotifyRaw } from '../os/notify';
import { scanAll } from './monitors';
import { TO_VASSAL, type VassalJob } from '../ipc/vassal';
import { Vassal } from './vassal';

const sdNotify = (fields: Record<string, string | number>) => {
  const err = sdNotifyRaw(fields);
  if (err) log('emperor').warn({ error: err.message }, 'unable to notify systemd');
};

type EmperorEvent = { type: 'signal'; signal: NodeJS.Signals } | { type: 'scan' } | { type: 'exit'; vassal: Vassal; code: number | null } | { type: 'respawn'; vassal: Vassal };

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT'];
const LOYAL_MS = 30_000; // a vassal up this long has its throttle reset

export async function runEmperor(cfg: Config, plan: HookPlan, ctx: HookContext): Promise<number> {
  const l = log('emperor');
  const specs = cfg.list('emperor').map((s) => s.value);
  const vassals = new Map<string, Vassal>();
  const events = new EventQueue<EmperorEvent>();
  const onSignal = (signal: NodeJS.Signals) => events.push({ type: 'signal', signal });
  const asVassal = cfg.hookLines.filter((h) => h.phase === 'as-vassal');
  const job = (config: string): VassalJob => ({ config, startHook: cfg.str('vassals-start-hook'), liege: process.argv[1]!, hooks: asVassal, ctx });
  const onExit = (vassal: Vassal, code: number | null) => events.push({ type: 'exit', vassal, code });

  const spawn = async (v: Vassal) => {
    const pid = v.spawn(job(v.config), onExit);
    // as-emperor: non-fatal, awaited (the loop keeps running); only the
    // exec- shortcuts see the vassal's details
    await runPhaseAsync(plan, 'as-emperor', ctx, { UWSGI_VASSAL_CONFIG: v.config, UWSGI_VASSAL_PID: String(pid), UWSGI_VASSAL_UID: String(process.getuid!()), UWSGI_VASSAL_GID: String(process.getgid!()) });
  };

  const reconcile = async () => {
    const want = scanAll(specs);
    for (const [config, mtime] of want) {
      const v = vassals.get(config);
      if (!v) {
        const nv = new Vassal(config, mtime);
        vassals.set(config, nv);
        await spawn(nv);
      } else if (mtime > v.mtime && v.child && !v.stopping) {
        v.mtime = mtime;
        l.info({ vassal: v.name }, 'config changed, reloading vassal');
        v.send(TO_VASSAL.reload);
      }
    }
    for (const v of vassals.values()) {
      if (!want.has(v.config) && !v.stopping && v.child) {
        l.info({ vassal: v.name }, 'config gone, stopping vassal');
        v.stopping = true;
        v.send(TO_VASSAL.stop);
      }
    }
  };

  const removed = (v: Vassal) => {
    vassals.delete(v.config);
    const hook = cfg.str('vassals-stop-hook');
    if (hook) spawnAwait(hook, [hook, v.config]).catch((e: Error) => l.warn({ vassal: v.name, error: e.message }, 'vassals-stop-hook could not run'));
  };

  const vassalExited = (v: Vassal, code: number | null) => {
    if (v.stopping || !fs.existsSync(v.config)) return removed(v);
    const loyal = Date.now() - v.startedAt > LOYAL_MS;
    v.throttleMs = loyal ? 0 : Math.min(v.throttleMs + cfg.int('emperor-throttle'), cfg.int('emperor-max-throttle'));
    l.warn({ vassal: v.name, code, respawnInMs: v.throttleMs }, 'vassal died, respawning');
    setTimeout(() => events.push({ type: 'respawn', vassal: v }), v.throttleMs).unref();
  };

  const ragnarok = async () => {
    l.info({ vassals: vassals.size }, 'stopping every vassal');
    sdNotify({ STOPPING: 1 });
    const all = [...vassals.values()];
    for (const v of all) {
      v.stopping = true;
      v.send(TO_VASSAL.stop);
    }
    await Promise.all(all.map((v) => v.waitGone(cfg.int('reload-mercy') * 1000)));
    for (const s of SIGNALS) process.off(s, onSignal);
    clearInterval(ticker);
    return 0;
  };

  await runPhaseAsync(plan, 'emperor-start', ctx);
  for (const s of SIGNALS) process.on(s, onSignal);
  const ticker = setInterval(() => events.push({ type: 'scan' }), cfg.int('emperor-freq') * 1000);
  await reconcile();
  l.info({ monitors: specs, vassals: vassals.size }, 'the emperor is governing');
  sdNotify({ READY: 1, STATUS: `The Emperor is governing ${vassals.size} vassals` });
  for (;;) {
    const e = await events.next();
    if (e.type === 'scan') await reconcile();
    else if (e.type === 'exit') vassalExited(e.vassal, e.code);
    else if (e.type === 'respawn') {
      if (vassals.get(e.vassal.config) === e.vassal && !e.vassal.child) await spawn(e.vassal);
    }
    else if (e.signal === 'SIGHUP') for (const v of vassals.values()) v.send(TO_VASSAL.reload);
    else return ragnarok();
  }
}
