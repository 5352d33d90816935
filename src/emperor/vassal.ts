// One vassal as the emperor sees it: its process (the launcher, then the
// vassal master in the same pid) and the command pipe on its fd 3.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { log } from '../log';
import { exited } from '../os/child-exit';
import { EMPEROR_FD_ENV, EMPEROR_FD, VASSAL_ENV, type VassalJob } from '../ipc/vassal';

const LAUNCHER = path.resolve(__dirname, '..', 'emperor', 'vassal-main.js');

/** The vassal's environment: UWSGI_VASSAL_X → UWSGI_X; no reload count. */
export function vassalEnv(job: VassalJob, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) {
    if (k === 'UWSGI_RELOADS' || k === 'NOTIFY_SOCKET' || k === 'UWSGI_JAIL_PID') continue;
    const m = /^UWSGI_VASSAL_(.+)$/.exec(k);
    env[m ? `UWSGI_${m[1]}` : k] = v;
  }
  return { ...env, [EMPEROR_FD_ENV]: String(EMPEROR_FD), [VASSAL_ENV]: JSON.stringify(job) };
}

export class Vassal {
  child?: ChildProcess;
  mtime: number;
  stopping = false;
  startedAt = 0;
  throttleMs = 0;

  constructor(readonly config: string, mtime: number) {
    this.mtime = mtime;
  }

  get name(): string {
    return path.basename(this.config);
  }

  spawn(job: VassalJob, onExit: (v: Vassal, code: number | null, signal: NodeJS.Signals | null) => void): number {
    this.startedAt = Date.now();
    this.stopping = false;
    const child = spawn(process.execPath, [LAUNCHER], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], env: vassalEnv(job) });
    this.child = child;
    (child.stdio[EMPEROR_FD] as Writable).on('error', () => { /* vassal gone */ });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      onExit(this, code, signal);
    });
    log('emperor').info({ vassal: this.name, pid: child.pid }, 'vassal spawned');
    return child.pid!;
  }

  /** Sends a command byte on the vassal's pipe (0 stop, 1 reload, 2 graceful stop). */
  send(byte: number): void {
    const pipe = this.child?.stdio[EMPEROR_FD] as Writable | undefined;
    pipe?.write(Buffer.from([byte]));
  }

  /** Resolves when the process is gone; SIGKILL after `mercyMs`. */
  waitGone(mercyMs: number): Promise<void> {
    const c = this.child;
    return exited(c, mercyMs, () => c!.kill('SIGKILL'));
  }
}
