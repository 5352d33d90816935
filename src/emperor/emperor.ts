// The emperor: keeps one vassal (a liege instance) running per config its
// monitors want. Monitors push whole desired sets (monitors/monitor.ts);
// the reconcile loop diffs them against the vassal table and walks each
// vassal through the state table (states.ts): a new config is queued and
// spawned (at most emperor-spawn-concurrency starting at once), a new
// version reloads it, a config gone stops it, an early death respawns it
// after a growing delay, an invalid config waits for a fix. Signal
// listeners, child exits, pipe bytes and timers only push events; one loop
// drains them. SIGTERM/SIGINT/SIGQUIT stop every vassal gracefully (their
// emperor-stop hooks run, then vassals-stop-hook; SIGKILL after
// reload-mercy; a second SIGINT or a SIGQUIT meanwhile quits them) and exit
// 0; SIGHUP reloads every vassal (READY=1 to systemd once each one serves
// again or said its reload failed: reload-round.ts); SIGURG respawns
// throttled vassals now.
// Vassals obey only these (ipc/vassal.ts): the same signal to the
// whole group is answered here once, for every vassal.
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { EventQueue, isQuitSignal } from '../event-queue';
import type { HookContext } from '../hooks/actions/types';
import { runPhaseAsync } from '../hooks/run';
import type { HookPlan } from '../hooks/spec';
import { EXILE_CODE, FENCE_ENV, FROM_VASSAL, reportedSignal, TO_VASSAL } from '../ipc/vassal';
import { log } from '../log';
import { hearSignals, judgeReport } from '../os/heard-signals';
import { native } from '../os/native';
import { reloading, sdNotifyReported } from '../os/notify';
import { startWatchdog } from '../os/watchdog';
import { tellDaemonReady } from '../ipc/daemon';
import { shrinkHeapSoon } from '../os/heap';
import type { FileMonitorOptions } from './monitors/files';
import { createMonitor } from './monitors/index';
import type { DesiredSet, DesiredVassal, Monitor, VassalState } from './monitors/monitor';
import { bindOnDemand, onDemandAddr, onDemandEnv, onDemandExec, watchFirstConnection, type OnDemandSocket } from './on-demand';
import { EmperorReload, reloadNote, type ReloadRound } from './reload-round';
import { planner } from './spawn-plan';
import { throttleDelay, transition, type VassalEvent } from './states';
import { runStopHook } from './stop-hook';
import { serveStats } from './stats';
import { Vassal, vassalStats } from './vassal';

type EmperorEvent =
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'desired' }
  | { type: 'exit'; vassal: Vassal; code: number | null; signal: NodeJS.Signals | null }
  | { type: 'byte'; vassal: Vassal; byte: number }
  | { type: 'timer'; vassal: Vassal }
  | { type: 'demand'; vassal: Vassal }
  | { type: 'od-addr'; vassal: Vassal; addr?: string }
  | { type: 'tick' }
  | { type: 'beat' }
  | { type: 'watchdog' }
  | { type: 'reload-timeout'; round: ReloadRound };

const SIGNALS: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGURG'];
const SLOT_MS = 30_000; // a vassal not accepting after this no longer holds a spawn slot
const HOLD_MS = 250; // a fenced monitor's vassal waits this long when its claims are uncertain
const now = () => Math.floor(Date.now() / 1000);

const sdNotify = (fields: Record<string, string | number>) => sdNotifyReported(fields, (err) => {
  if (err) log('emperor').warn({ error: err.message }, 'unable to notify systemd (said again once it works)');
  else log('emperor').info('systemd notified again');
});

export async function runEmperor(cfg: Config, plan: HookPlan, ctx: HookContext): Promise<number> {
  const l = log('emperor');
  const events = new EventQueue<EmperorEvent>();
  const push = events.push;
  const onSignal = (signal: NodeJS.Signals) => push({ type: 'signal', signal });
  const tyrant = cfg.bool('emperor-tyrant');
  const opts: FileMonitorOptions = { freqMs: cfg.int('emperor-freq') * 1000, tyrant, nofollow: cfg.bool('emperor-tyrant-nofollow') };
  const monitors = cfg.list('emperor').map((s) => createMonitor(s.value, opts, s.origin, cfg));
  const sets = new Map<Monitor, DesiredSet>();
  const vassals = new Map<string, Vassal>();
  const queue: Vassal[] = [];
  const timers = new Map<Vassal, NodeJS.Timeout>();
  const earlyDeaths = new Map<string, number>();
  const planFor = planner(cfg, ctx, process.argv[1]!);
  const concurrency = cfg.int('emperor-spawn-concurrency');
  const mercyMs = cfg.int('reload-mercy') * 1000;
  const loyalAfter = cfg.int('emperor-loyal-after');
  const requiredBeat = cfg.int('emperor-required-heartbeat');
  const monitorOf = new Map<string, Monitor>();
  const onDemand = new Map<Vassal, { socket: OnDemandSocket; cancel: () => void }>();
  const odExt = cfg.str('emperor-on-demand-extension');
  const odDir = cfg.str('emperor-on-demand-directory');
  const odExec = cfg.str('emperor-on-demand-exec');
  /** An on-demand vassal waits for its first connection with the socket bound here. */
  const holdOnDemand = (v: Vassal): boolean => {
    const addr = onDemandAddr(v.desired.config, odExt, odDir);
    if (!addr && odExec) {
      // the command's answer comes back as an event; the vassal waits meanwhile
      v.status = 'on-demand';
      const warn = (why: string) => l.warn({ vassal: v.name, command: odExec, error: why }, 'emperor-on-demand-exec failed, spawning the vassal now');
      void onDemandExec(odExec, v.desired.config, warn).then((a) => push({ type: 'od-addr', vassal: v, addr: a }));
      return true;
    }
    if (!addr) return false;
    return bindHeld(v, addr);
  };
  /** The command named the socket (or none: an ordinary vassal). */
  const onDemandAddress = (v: Vassal, addr: string | undefined) => {
    if (vassals.get(v.desired.name) !== v || v.status !== 'on-demand' || onDemand.has(v)) return;
    if (addr && bindHeld(v, addr)) return;
    v.status = 'waiting';
    queue.push(v);
    pump();
  };
  const bindHeld = (v: Vassal, addr: string): boolean => {
    try {
      const socket = bindOnDemand(addr);
      v.status = 'on-demand';
      v.onDemand = addr;
      onDemand.set(v, { socket, cancel: watchFirstConnection(socket, () => push({ type: 'demand', vassal: v })) });
      l.info({ vassal: v.name, socket: addr }, 'on-demand vassal waits for its first connection');
      return true;
    } catch (e) {
      l.error({ vassal: v.name, socket: addr, error: (e as Error).message }, 'unable to bind the on-demand socket, spawning the vassal now');
      return false;
    }
  };
  const tell = (v: Vassal, state: VassalState) => monitorOf.get(v.desired.name)?.vassalState?.(v.desired.name, state);

  const held = new WeakSet<Vassal>();
  let asEmperor: Promise<void> = Promise.resolve();
  const spawnNow = (v: Vassal) => {
    const monitor = monitorOf.get(v.desired.name);
    // fencing: never start a copy that another emperor may be claiming (a
    // frozen emperor wakes up to its vassals' exits before it sees its lease is gone)
    if (monitor?.mayRun && !monitor.mayRun()) {
      if (!held.has(v)) l.info({ vassal: v.name }, 'etcd lease not certain, holding the spawn');
      held.add(v);
      v.status = 'throttled';
      clearTimeout(timers.get(v));
      timers.set(v, setTimeout(() => push({ type: 'timer', vassal: v }), HOLD_MS));
      return;
    }
    held.delete(v);
    const owner = v.desired.owner;
    if (tyrant && (!owner || owner.uid === 0 || owner.gid === 0)) {
      l.error({ vassal: v.name, config: v.desired.config }, 'emperor-tyrant: refusing a config owned by root (chown it to the user the vassal runs as)');
      v.status = 'exiled';
      return;
    }
    const spawnPlan = planFor(v.desired.config);
    spawnPlan.env = { ...spawnPlan.env };
    delete spawnPlan.env[FENCE_ENV]; // an emperor that is itself a vassal passes none on
    if (monitor?.fenceMs) spawnPlan.env[FENCE_ENV] = String(monitor.fenceMs);
    const od = onDemand.get(v);
    if (od) {
      Object.assign(spawnPlan.env, onDemandEnv(od.socket));
      spawnPlan.extraFds = [od.socket.fd];
    }
    v.spawn(spawnPlan, (vassal, byte) => push({ type: 'byte', vassal, byte }), (vassal, code, signal) => push({ type: 'exit', vassal, code, signal }));
    l.info({ vassal: v.name, pid: v.pid, uid: owner?.uid, respawns: v.respawns }, 'vassal spawned');
    tell(v, 'spawned');
    // as-emperor: non-fatal; only the exec- shortcuts see the vassal's details.
    // Awaited in spawn order on a chain of its own: the loop never waits.
    const vars = { UWSGI_VASSAL_CONFIG: v.desired.config, UWSGI_VASSAL_PID: String(v.pid), UWSGI_VASSAL_UID: String(owner?.uid ?? process.getuid!()), UWSGI_VASSAL_GID: String(owner?.gid ?? process.getgid!()) };
    asEmperor = asEmperor.then(() => runPhaseAsync(plan, 'as-emperor', ctx, vars)).catch((e: unknown) => l.error({ vassal: v.name, error: String((e as Error)?.message ?? e) }, 'as-emperor hooks failed'));
  };

  const stopHook = (v: Vassal) => runStopHook(cfg.str('vassals-stop-hook'), v);

  const remove = (v: Vassal) => {
    vassals.delete(v.desired.name);
    const od = onDemand.get(v);
    if (od) {
      od.cancel();
      native.closeFd(od.socket.fd);
      onDemand.delete(v);
    }
    clearTimeout(timers.get(v));
    timers.delete(v);
    earlyDeaths.delete(v.desired.name);
    l.info({ vassal: v.name }, 'vassal removed');
    tell(v, 'stopped');
    void stopHook(v);
  };

  const respawnLater = (v: Vassal) => {
    const loyal = v.loyal > 0 || now() - v.born >= loyalAfter;
    const n = loyal ? 1 : (earlyDeaths.get(v.desired.name) ?? 0) + 1;
    earlyDeaths.set(v.desired.name, n);
    v.throttleMs = throttleDelay(n, cfg.int('emperor-throttle'), cfg.int('emperor-max-throttle'));
    v.respawnAt = Date.now() + v.throttleMs;
    if (n === 2) l.warn({ vassal: v.name }, 'vassal keeps dying early, throttling its respawn (touch its config or SIGURG the emperor to respawn it now)');
    clearTimeout(timers.get(v));
    timers.set(v, setTimeout(() => push({ type: 'timer', vassal: v }), v.throttleMs));
  };

  // a reloading vassal is silent until its new generation beats again, and
  // neither ready nor accepting until it says so (uWSGI's emperor_respawn);
  // a failed reload gives the running generation's back
  const reloadVassal = (v: Vassal) => {
    v.lastHeartbeat = 0;
    v.before = { ready: v.ready, accepting: v.accepting };
    v.ready = 0;
    v.accepting = 0;
    v.overdue = false;
    v.send(TO_VASSAL.reload);
  };

  const apply = (v: Vassal, event: VassalEvent) => {
    const [next, act] = transition(v.status, event);
    if (next === 'removed') return remove(v);
    v.status = next;
    switch (act) {
      case 'spawn': return spawnNow(v);
      case 'queue':
        clearTimeout(timers.get(v));
        if (!queue.includes(v)) queue.push(v);
        return pump();
      case 'reload':
        if (event === 'changed') l.info({ vassal: v.name }, 'config changed, reloading vassal');
        v.running = v.desired;
        return reloadVassal(v);
      case 'reload-again':
        if (event === 'changed') l.info({ vassal: v.name }, 'config changed while the vassal reloads: it reloads once more after');
        v.reloadAgain = true;
        return undefined;
      case 'stop-restart':
      case 'stop':
        l.info({ vassal: v.name, reason: event }, 'stopping vassal');
        v.restart = act === 'stop-restart';
        v.send(TO_VASSAL.stop);
        clearTimeout(timers.get(v));
        timers.set(v, setTimeout(() => v.kill('SIGKILL'), mercyMs));
        return undefined;
      case 'restart-after-stop':
        v.restart = true;
        return undefined;
      case 'no-restart':
        v.restart = false;
        return undefined;
      case 'kill': return v.kill('SIGKILL');
      case 'respawn-later': return respawnLater(v);
      default: return undefined;
    }
  };

  // (one reloaded before it ever accepted still starts: it keeps its slot)
  const starts = (v: Vassal) => v.status === 'starting' || (v.status === 'reloading' && !v.before.accepting);
  const startingNow = () => [...vassals.values()].filter((v) => starts(v) && Date.now() - v.born * 1000 < SLOT_MS).length;
  function pump(): void {
    let free = concurrency - startingNow();
    while (free > 0 && queue.length) {
      const v = queue.shift()!;
      if (vassals.get(v.desired.name) !== v || v.status !== 'waiting') continue;
      apply(v, 'slot');
      free--;
    }
  }

  const owns = (a: DesiredVassal, b: DesiredVassal) => a.owner?.uid === b.owner?.uid && a.owner?.gid === b.owner?.gid;
  const reconcile = () => {
    const want = new Map<string, DesiredVassal>();
    monitorOf.clear();
    for (const m of monitors) {
      for (const [name, d] of sets.get(m) ?? []) {
        if (want.has(name)) continue; // the first monitor wins a name
        want.set(name, d);
        monitorOf.set(name, m);
      }
    }
    for (const [name, d] of want) {
      const v = vassals.get(name);
      if (!v) {
        const nv = new Vassal(d, monitorOf.get(name)!.spec);
        vassals.set(name, nv);
        if (!holdOnDemand(nv)) queue.push(nv);
        continue;
      }
      if (v.status === 'stopping' && !v.restart) apply(v, 'wanted');
      if (d.version === v.desired.version && owns(d, v.desired)) continue;
      const ownerChanged = tyrant && !owns(d, v.desired);
      v.desired = d;
      apply(v, ownerChanged && (v.status === 'running' || v.status === 'reloading' || v.status === 'starting') ? 'owner-changed' : 'changed');
    }
    for (const v of [...vassals.values()]) if (!want.has(v.desired.name)) apply(v, 'gone');
    pump();
    status();
  };

  const statusText = (died: string[] = []) => {
    const all = [...vassals.values()];
    const governing = `The Emperor is governing ${all.filter((v) => v.child).length} vassals`;
    const progress = reload.progress();
    if (progress) return governing + progress;
    return governing + reloadNote(all.filter((v) => v.reloadFailed).map((v) => v.name), all.filter((v) => v.overdue && v.status === 'reloading').map((v) => v.name), died);
  };
  let shown = '';
  const notify = (fields: Record<string, string | number>) => {
    if (typeof fields.STATUS === 'string') shown = fields.STATUS;
    sdNotify(fields);
  };
  const status = () => {
    if (reload.ending()) return; // (READY=1 says it)
    const text = statusText();
    if (text !== shown) notify({ STATUS: text });
  };
  // the emperor's own reload (SIGHUP): READY=1 once every vassal answered
  const reload = new EmperorReload({
    live: () => [...vassals.values()].filter((v) => v.child && (v.status === 'starting' || v.status === 'running' || v.status === 'reloading')),
    stopped: (v) => vassals.get(v.desired.name) !== v || v.status === 'stopping',
    reload: (v) => apply(v, 'reload'),
    timeout: (round, ms) => setTimeout(() => push({ type: 'reload-timeout', round }), ms),
    statusText, status, notify, reloading,
  }, cfg.int('emperor-reload-timeout'), l);

  const onByte = (v: Vassal, byte: number) => {
    if (byte === FROM_VASSAL.heartbeat) v.lastHeartbeat = now();
    else if (byte === FROM_VASSAL.ready) v.ready = now();
    else if (byte === FROM_VASSAL.loyal) v.loyal = now();
    else if (reportedSignal(byte)) judgeVassalSignal(v, reportedSignal(byte)!);
    else if (byte === FROM_VASSAL.accepting) {
      const was = v.status;
      v.accepting = now();
      v.ready ||= v.accepting;
      v.reloadFailed = false;
      v.overdue = false;
      apply(v, 'ready');
      if (was === 'reloading') reload.answered(v, 'reloaded');
      tell(v, 'accepting');
      pump();
      status();
    } else if (byte === FROM_VASSAL.reloadFailed) {
      const was = v.status;
      v.reloadFailed = true;
      v.overdue = false;
      apply(v, 'reload-failed');
      if (was === 'reloading') {
        v.ready = v.before.ready;
        v.accepting = v.before.accepting;
        reload.answered(v, 'failed');
      } else l.warn({ vassal: v.name, pid: v.pid }, 'vassal reload failed: its running generation keeps serving (its log says why)');
      status();
    }
  };

  // a vassal got one of our signals from someone else: the group's (ours
  // too, answered for every vassal) or its own, passed on as ours
  const judgeVassalSignal = (v: Vassal, signal: NodeJS.Signals) => {
    const pid = v.pid;
    judgeReport(signal, Date.now(), () => {
      if (vassals.get(v.desired.name) !== v || v.pid !== pid || !pid || stopping) return;
      v.kill(signal);
      l.info({ vassal: v.name, pid, signal }, `vassal got ${signal} not from the emperor: passed on (a signal to that vassal alone)`);
    });
  };

  const fencedOut = (v: Vassal) => {
    const m = monitors.find((x) => x.spec === v.monitor);
    return m?.fenceMs !== undefined && m.mayRun?.() === false;
  };
  const onExit = (v: Vassal, code: number | null, signal: NodeJS.Signals | null) => {
    clearTimeout(timers.get(v));
    timers.delete(v);
    if (code === EXILE_CODE) {
      l.error({ vassal: v.name, config: v.desired.config }, 'vassal config is invalid (its error is logged above), not respawned until the config changes');
      tell(v, 'failed');
      apply(v, 'exile');
    } else if (v.status === 'stopping') {
      apply(v, v.restart ? 'stopped-restart' : 'exit');
    } else {
      // a thawed emperor's vassals fenced themselves: no spawn until its claims are certain
      const why = fencedOut(v) ? 'vassal ended while this emperor\'s claims were uncertain (it fenced itself), respawned only if still owned' : 'vassal died, respawning';
      l.warn({ vassal: v.name, code, signal }, why);
      tell(v, 'failed');
      apply(v, 'exit');
    }
    pump();
    status();
  };

  const tick = () => {
    for (const v of vassals.values()) {
      if (!v.child) continue;
      if (!v.loyal && (v.status === 'running' || v.status === 'reloading') && now() - v.born >= loyalAfter) {
        v.loyal = now();
        earlyDeaths.delete(v.desired.name);
      }
      if (v.lastHeartbeat && now() - v.lastHeartbeat > requiredBeat) {
        l.warn({ vassal: v.name, silentS: now() - v.lastHeartbeat }, 'vassal stopped sending heartbeats, killing it (it is respawned)');
        v.lastHeartbeat = 0;
        apply(v, 'silent');
      }
    }
    pump();
  };

  // fenced vassals hear from their emperor while its claims are certain
  // (also while one is stopped, so that the emperor's reload-mercy holds)
  const beat = () => {
    for (const m of monitors) {
      if (!m.fenceMs || !m.mayRun?.()) continue;
      for (const v of vassals.values()) if (v.child && v.monitor === m.spec) v.send(TO_VASSAL.heartbeat);
    }
  };

  let stopping = false;
  const ragnarok = async () => {
    stopping = true;
    l.info({ vassals: vassals.size }, 'stopping every vassal');
    // Ctrl-C twice or a SIGQUIT: each vassal's stop made immediate (its
    // master's quit: the workers still draining are killed)
    const unwatch = events.once(isQuitSignal, () => {
      l.info('stop asked again: immediate, SIGQUIT to every vassal');
      for (const v of vassals.values()) v.kill('SIGQUIT');
    });
    reload.abandon();
    sdNotify({ STOPPING: 1 });
    for (const t of timers.values()) clearTimeout(t);
    const all = [...vassals.values()];
    for (const v of all) {
      v.status = 'stopping';
      v.send(TO_VASSAL.stop);
    }
    await Promise.all(all.map((v) => v.waitGone(mercyMs)));
    unwatch();
    // after the vassals are gone: an etcd monitor's stop releases its claims to other emperors
    await Promise.all(monitors.map((m) => m.stop().catch(() => undefined)));
    await Promise.all(all.map((v) => stopHook(v)));
    for (const od of onDemand.values()) {
      od.cancel();
      native.closeFd(od.socket.fd);
    }
    for (const s of SIGNALS) process.off(s, onSignal);
    clearInterval(ticker);
    clearInterval(beater);
    clearInterval(watchdog);
    stats?.close();
    l.info('the emperor is buried');
    return 0;
  };

  await runPhaseAsync(plan, 'emperor-start', ctx);
  const pidfile = cfg.str('emperor-pidfile');
  if (pidfile) fs.writeFileSync(pidfile, `${process.pid}\n`);
  hearSignals(SIGNALS); // (a vassal's report of a signal we got too: the group's)
  for (const s of SIGNALS) process.on(s, onSignal);
  const snapshot = () => ({
    version: 'liege', pid: process.pid, uid: process.getuid!(), gid: process.getgid!(), cwd: process.cwd(),
    emperor: monitors.map((m) => m.spec), emperor_tyrant: tyrant ? 1 : 0, throttle_level: 0, reloading: reload.round ? 1 : 0,
    vassals: [...vassals.values()].map((v) => ({ ...vassalStats(v), ...monitorOf.get(v.desired.name)?.vassalInfo?.(v.desired.name) })),
    monitors: monitors.flatMap((m) => (m.stats ? [{ spec: m.spec, ...m.stats() }] : [])),
    blacklist: [...vassals.values()].filter((v) => v.status === 'throttled').map((v) => ({ id: v.name, throttle_level: Math.round(v.throttleMs / 1000), attempt: earlyDeaths.get(v.desired.name) ?? 0, respawn_at: Math.floor(v.respawnAt / 1000) })),
  });
  const stats = cfg.str('emperor-stats') ? serveStats(cfg.str('emperor-stats')!, snapshot) : undefined;
  const ticker = setInterval(() => push({ type: 'tick' }), 1000);
  ticker.unref();
  // a few heartbeats per fence window (etcd: TTL/2), at most one a second
  const fences = monitors.flatMap((m) => (m.fenceMs ? [m.fenceMs] : []));
  const beater = setInterval(() => push({ type: 'beat' }), Math.max(100, Math.min(1000, Math.floor(Math.min(60_000, ...fences) / 5))));
  beater.unref();
  if (!fences.length) clearInterval(beater);
  // systemd's WatchdogSec=: pinged from the loop (a wedged emperor is restarted)
  const watchdog = startWatchdog(() => push({ type: 'watchdog' }), (m) => l.warn(m));
  watchdog?.unref();
  for (const m of monitors) {
    await m.start((set) => {
      sets.set(m, set);
      push({ type: 'desired' });
    });
  }
  l.info({ monitors: monitors.map((m) => m.spec).join(' ') }, 'the emperor is governing');
  sdNotify({ READY: 1 });
  tellDaemonReady();
  shrinkHeapSoon(true);
  for (;;) {
    const e = await events.next();
    if (e.type === 'desired') reconcile();
    else if (e.type === 'byte') onByte(e.vassal, e.byte);
    else if (e.type === 'exit') onExit(e.vassal, e.code, e.signal);
    else if (e.type === 'timer') { if (vassals.get(e.vassal.desired.name) === e.vassal) apply(e.vassal, 'timer'); }
    else if (e.type === 'od-addr') onDemandAddress(e.vassal, e.addr);
    else if (e.type === 'demand') { if (vassals.get(e.vassal.desired.name) === e.vassal) apply(e.vassal, 'slot'); }
    else if (e.type === 'tick') tick();
    else if (e.type === 'beat') beat();
    else if (e.type === 'watchdog') sdNotify({ WATCHDOG: 1 });
    else if (e.type === 'reload-timeout') reload.timedOut(e.round);
    else if (e.signal === 'SIGHUP') reload.start();
    else if (e.signal === 'SIGURG') for (const v of [...vassals.values()]) apply(v, 'force');
    else return ragnarok();
    reload.settle();
  }
}
