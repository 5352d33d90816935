// One vassal as the emperor sees it: the row of the vassal table (uWSGI's
// struct uwsgi_instance: pid, born, last_mod, respawns, loyal, ready,
// accepting ...), its process and the command pipe on the vassal's fd 3.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { log } from '../log';
import { exited } from '../os/child-exit';
import { LIEGE_NODE_FLAGS } from '../os/node-flags';
import { EMPEROR_FD, EMPEROR_FD_ENV, VASSAL_ENV, type VassalJob } from '../ipc/vassal';
import type { DesiredVassal } from './monitors/monitor';
import type { VassalStatus } from './states';

/** How the emperor starts a vassal process. */
export interface SpawnPlan {
  argv: string[]; // after `node`: bin/liege and its arguments
  env: NodeJS.ProcessEnv;
  job?: VassalJob; // as-vassal hooks or vassals-start-hook to run first
  extraFds?: number[]; // on-demand: the listening socket at fd 4
}

const now = () => Math.floor(Date.now() / 1000);

export class Vassal {
  status: VassalStatus = 'waiting';
  child?: ChildProcess;
  pid = 0;
  born = 0; // s, last spawn
  firstRun = 0;
  lastRun = 0;
  respawns = 0;
  loyal = 0; // s, when it became loyal (0: not yet)
  ready = 0;
  accepting = 0;
  lastHeartbeat = 0;
  throttleMs = 0;
  respawnAt = 0; // ms, while throttled
  /** What the running process was started or last reloaded with. */
  running?: DesiredVassal;
  /** Restart once the stopping process is gone (owner change, config back). */
  restart = false;
  onDemand?: string; // the socket the emperor holds for it
  /** One more reload to send once the running one answers. */
  reloadAgain = false;
  /** Its last reload failed: the running generation serves. */
  reloadFailed = false;
  /** Still reloading when the emperor's reload timed out. */
  overdue = false;
  /** ready/accepting of the generation serving while it reloads. */
  before = { ready: 0, accepting: 0 };

  constructor(public desired: DesiredVassal, readonly monitor: string) {}

  get name(): string {
    return path.basename(this.desired.name);
  }

  /** Spawns the process; `onByte` gets what the vassal says, `onExit` its end. */
  spawn(plan: SpawnPlan, onByte: (v: Vassal, byte: number) => void, onExit: (v: Vassal, code: number | null, signal: NodeJS.Signals | null) => void): void {
    const owner = this.desired.owner;
    const env: NodeJS.ProcessEnv = { ...plan.env, [EMPEROR_FD_ENV]: String(EMPEROR_FD) };
    if (plan.job) env[VASSAL_ENV] = JSON.stringify(plan.job);
    const child = spawn(process.execPath, [...LIEGE_NODE_FLAGS, ...plan.argv], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe', ...(plan.extraFds ?? [])],
      env,
      cwd: this.desired.cwd,
      uid: owner?.uid,
      gid: owner?.gid,
    });
    this.child = child;
    this.running = this.desired;
    this.pid = child.pid ?? 0;
    if (this.firstRun) this.respawns++;
    this.born = now();
    this.firstRun ||= this.born;
    this.lastRun = this.born;
    this.ready = 0;
    this.accepting = 0;
    this.lastHeartbeat = 0;
    this.reloadAgain = false;
    this.reloadFailed = false;
    this.overdue = false;
    const pipe = child.stdio[EMPEROR_FD] as Duplex;
    pipe.on('error', () => { /* vassal gone: its exit event follows */ });
    pipe.on('data', (buf: Buffer) => { for (const b of buf) if (this.child === child) onByte(this, b); });
    child.on('error', (e) => log('emperor').error({ vassal: this.name, error: e.message }, 'unable to spawn vassal'));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.pid = 0;
      onExit(this, code, signal);
    });
  }

  /** Sends a command byte on the vassal's pipe. */
  send(byte: number): void {
    const pipe = this.child?.stdio[EMPEROR_FD] as Duplex | undefined;
    if (pipe && !pipe.destroyed) pipe.write(Buffer.from([byte]));
  }

  kill(signal: NodeJS.Signals): void {
    try { this.child?.kill(signal); } catch { /* gone */ }
  }

  /** Resolves when the process is gone; SIGKILL after `mercyMs`. */
  waitGone(mercyMs: number): Promise<void> {
    return exited(this.child, mercyMs, () => this.kill('SIGKILL'));
  }
}

/** uWSGI's emperor-stats row for one vassal. */
export function vassalStats(v: Vassal): Record<string, string | number> {
  return {
    id: v.name, pid: v.pid, born: v.born, last_mod: Math.floor(Number(v.desired.version) / 1000) || 0,
    last_heartbeat: v.lastHeartbeat, loyal: v.loyal, ready: v.ready ? 1 : 0, accepting: v.accepting ? 1 : 0,
    last_loyal: v.loyal, last_ready: v.ready, last_accepting: v.accepting, first_run: v.firstRun, last_run: v.lastRun,
    cursed: 0, zerg: 0, on_demand: v.onDemand ?? '', uid: v.desired.owner?.uid ?? process.getuid!(), gid: v.desired.owner?.gid ?? process.getgid!(),
    monitor: v.monitor, status: v.status, throttle_ms: v.throttleMs, respawns: v.respawns, reload_failed: v.reloadFailed ? 1 : 0,
  };
}
