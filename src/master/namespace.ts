// The parent side of `namespace` (uWSGI lib/linux_ns.c
// linux_namespace_start): clone a child in new uts/pid/ipc/mount(/net)
// namespaces through the single-threaded liege-ns helper, make / private,
// run post-jail here (UWSGI_JAIL_PID set) while the child starts, wait.
// The child exiting 1 ends the parent with 1; exiting 0 with exit-on-reload
// ends it with 0; anything else respawns the child (as uWSGI does).
import { spawn } from 'node:child_process';
import type { Config } from '../config/config';
import { tellDaemonReady } from '../ipc/daemon';
import { log } from '../log';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS } from '../os/jail';
import { MS_PRIVATE, MS_REC } from '../os/mount-flags';
import { native, NS_HELPER } from '../os/native';
import { exitStatus } from '../os/signals';

/** Runs the jailed child until it should not be respawned; its exit status. */
export async function runNamespaceParent(cfg: Config, postJail: () => Promise<void>): Promise<number> {
  const flags = CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | (cfg.bool('namespace-net') ? CLONE_NEWNET : 0);
  const l = log('master');
  for (;;) {
    l.info({ rootfs: cfg.str('namespace') }, 'jailing liege in a namespace');
    const child = spawn(NS_HELPER, ['clone', String(flags), '3', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, LIEGE_NS_CHILD: '1' },
    });
    const exited = new Promise<number>((resolve) => child.on('exit', (code, sig) => resolve(exitStatus(code, sig))));
    const pid = await new Promise<string>((resolve) => {
      let buf = '';
      child.stdio[3]!.on('data', (d: Buffer) => { buf += d.toString(); });
      child.stdio[3]!.on('close', () => resolve(buf.trim()));
    });
    native.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
    process.env.UWSGI_JAIL_PID = pid;
    await postJail();
    // (daemonize: the jailed master serves in the child, which the pipe
    // does not reach; started is as far as the command waits)
    tellDaemonReady();
    l.info({ pid }, 'waiting for the jailed master to exit');
    const status = await exited;
    if (status === 1) return 1;
    if (status === 0 && cfg.bool('exit-on-reload')) return 0;
    l.warn({ pid, status }, 'jailed master ended, respawning');
  }
}
