// attach-daemon / attach-control-daemon: commands run by `/bin/sh -c` beside
// the master in their own session (setsid), stdin from /dev/null; respawned
// when they die (at most once a second); a control daemon's death stops the
// instance with the daemon's status (tini's rule: 128+N when signal N killed
// it). Stopped with SIGTERM to the group, SIGKILL after 3 s; what a daemon
// started is stopped with it, even when the master dies: its group by the
// watcher below, a `setsid` grandchild (which lands on the master, a
// subreaper) by the master's stop or, if the master dies, its guard (os/guard.ts).
// A daemon is the master's own child ($PPID is the master, as in uWSGI);
// with log-master its output goes through the master too (log-relay.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Config } from '../config/config';
import { log } from '../log';
import { exited, groupExited } from '../os/child-exit';
import { NS_HELPER } from '../os/native';
import { logMasterOn, OutputRelay } from './log-relay';
import { PtyDaemons } from './pty-daemons';
import { signalNumbers } from '../os/signals';
import { heardRecently, OWN_COPY_WAIT_MS, STOP_SIGNALS } from '../os/heard-signals';

interface Daemon {
  cmd: string;
  control: boolean;
  child?: ChildProcess;
  startedAt: number;
}

export class Daemons {
  private readonly list: Daemon[];
  private stopping = false;
  private readonly ptys: PtyDaemons;
  // what a stop or a reload waits for the daemons: as uWSGI's, reload-mercy
  // when it is set (and not 0), else 3 s
  private readonly mercyMs: number;

  constructor(cfg: Config, private readonly onControlDeath: (status: number) => void) {
    const mercy = cfg.int('reload-mercy');
    this.mercyMs = cfg.has('reload-mercy') && mercy > 0 ? mercy * 1000 : 3000;
    this.list = [
      ...cfg.list('attach-daemon').map((s) => ({ cmd: s.value, control: false, startedAt: 0 })),
      ...cfg.list('attach-control-daemon').map((s) => ({ cmd: s.value, control: true, startedAt: 0 })),
    ];
    this.ptys = new PtyDaemons(cfg);
  }

  startAll(): void {
    for (const d of this.list) this.spawn(d);
    this.ptys.startAll();
  }

  private spawn(d: Daemon): void {
    d.startedAt = Date.now();
    // liege-ns watch: a watcher stops the daemon's whole process group when
    // fd 3 (our end: a pipe) closes, even if the master is SIGKILLed,
    // SIGKILLing what is left after the mercy (in seconds)
    const out = logMasterOn() ? 'pipe' : 'inherit';
    const mercy = String(Math.ceil(this.mercyMs / 1000));
    const child = spawn(NS_HELPER, ['watch', '3', mercy, '--', '/bin/sh', '-c', d.cmd], { detached: true, stdio: ['ignore', out, out, 'pipe'] });
    d.child = child;
    if (child.pid !== undefined && child.stdout) new OutputRelay({ id: 0, pid: child.pid, daemon: d.cmd }, child.stdout, child.stderr);
    log('master').info({ daemon: d.cmd, pid: child.pid, control: d.control }, 'daemon started');
    child.on('exit', (code, signal) => {
      d.child = undefined;
      child.stdio[3]?.destroy(); // the watcher cleans up what the daemon left
      if (this.stopping) return;
      const decide = () => {
        if (this.stopping) return;
        log('master').info({ daemon: d.cmd, code, signal }, 'daemon exited');
        if (d.control && signal) return this.onControlDeath(128 + (signalNumbers()[signal] ?? 0));
        if (d.control) return this.onControlDeath(code ?? 1);
        // at most one start a second
        const wait = Math.max(0, 1000 - (Date.now() - d.startedAt));
        setTimeout(() => {
          if (!this.stopping) this.spawn(d);
        }, wait);
      };
      // systemd's KillMode=control-group signals every process of the unit,
      // daemons in their own sessions too: one that ended on it is not
      // respawned (nor a control daemon's end the instance's status) when
      // the master, which got the same signal, stops meanwhile (a vassal:
      // once its emperor says so); judged after one poll phase, so that the
      // master's own copy, taken in the same loop turn after this exit, is
      // heard first
      setImmediate(() => {
        if (heardRecently(STOP_SIGNALS)) setTimeout(decide, OWN_COPY_WAIT_MS);
        else decide();
      });
    });
  }

  /** From now on a daemon's end is its stop's (the instance stops). */
  holdRespawns(): void {
    this.stopping = true;
    this.ptys.holdRespawns();
  }

  /** SIGTERM every daemon's process group; SIGKILL after the mercy. */
  async stopAll(): Promise<void> {
    const mercyMs = this.mercyMs;
    this.stopping = true;
    await Promise.all([this.ptys.stopAll(mercyMs), ...this.list.map(({ child }) => {
      const group = (sig: NodeJS.Signals) => { try { process.kill(-child!.pid!, sig); } catch { /* gone */ } };
      // the whole group, not only the daemon's own process: a `sh -c`
      // wrapper dies at once, and what it runs must be let finish its
      // cleanup before the master kills every descendant left
      const deadline = Date.now() + mercyMs;
      const gone = exited(child, mercyMs, () => group('SIGKILL')).then(() => child && groupExited(child.pid!, deadline, () => group('SIGKILL')));
      if (child) {
        group('SIGTERM');
        group('SIGCONT'); // a stopped daemon handles its SIGTERM only once continued (as systemd)
      }
      return gone;
    })]);
  }
}
