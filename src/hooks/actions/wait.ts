// wait_for_fs/file/dir/socket: poll every second up to the configured
// timeout (wait-for-fs-timeout, wait-for-socket-timeout; default 60 s). At
// startup the thread sleeps; in a running loop the wait is awaited.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { sleepMs } from '../../os/sleep';
import { defineAction, needArg, type HookContext, type HookRun } from './types';

const pause = (deadline: number) => Math.min(1000, Math.max(0, deadline - Date.now()));

function waitFor(timeoutS: number, test: () => boolean): number {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    if (test()) return 0;
    if (Date.now() >= deadline) return 1;
    sleepMs(pause(deadline));
  }
}

async function waitForAsync(timeoutS: number, test: () => boolean | Promise<boolean>): Promise<number> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    if (await test()) return 0;
    if (Date.now() >= deadline) return 1;
    await new Promise((r) => setTimeout(r, pause(deadline)));
  }
}

const poll = (how: HookRun, timeoutS: number, test: () => boolean) => (how.blocking ? waitFor(timeoutS, test) : waitForAsync(timeoutS, test));

const kind = (p: string, want: 'any' | 'file' | 'dir') => () => {
  try {
    const st = fs.statSync(p);
    return want === 'any' || (want === 'file' ? st.isFile() : st.isDirectory());
  } catch {
    return false;
  }
};

// One connect attempt in a short-lived node child: Node has no blocking
// connect, and the hook runner is synchronous.
// (SIGUSR1 ignored: src/os/inspector-signal.ts)
const CONNECT = `process.on('SIGUSR1',()=>{});const a=process.argv[1];const m=/^(.*):(\\d+)$/.exec(a);const s=require('net').connect(m&&!a.includes('/')?{host:m[1]||'127.0.0.1',port:+m[2]}:{path:a});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),900);`;

function canConnect(addr: string): boolean {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  return spawnSync(process.execPath, ['-e', CONNECT, addr], { stdio: 'ignore' }).status === 0;
}

/** One connect attempt from this process (a running loop can wait for it). */
function connects(addr: string): Promise<boolean> {
  const m = /^(.*):(\d+)$/.exec(addr);
  const opts = m && !addr.includes('/') ? { host: m[1] || '127.0.0.1', port: Number(m[2]) } : { path: addr };
  return new Promise((resolve) => {
    const s = net.connect(opts);
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(900, () => done(false));
  });
}

export const waitActions = [
  defineAction({ name: 'wait_for_fs', parse: (a) => needArg(a, 'a path'), run: (p, c: HookContext, how) => poll(how, c.waitFsTimeout, kind(p, 'any')), doc: 'wait until the path exists', example: 'hook-pre-jail = wait_for_fs:/mnt/data' }),
  defineAction({ name: 'wait_for_file', parse: (a) => needArg(a, 'a path'), run: (p, c: HookContext, how) => poll(how, c.waitFsTimeout, kind(p, 'file')), doc: 'wait until the path is a regular file', example: 'hook-pre-app = wait_for_file:/run/secrets/token' }),
  defineAction({ name: 'wait_for_dir', parse: (a) => needArg(a, 'a path'), run: (p, c: HookContext, how) => poll(how, c.waitFsTimeout, kind(p, 'dir')), doc: 'wait until the path is a directory', example: 'hook-pre-jail = wait_for_dir:/mnt/data/app' }),
  defineAction({
    name: 'wait_for_socket',
    parse: (a) => { if (!/^(.*:\d+|.*\/.*)$/.test(a)) throw 'HOST:PORT or a unix socket path'; return a; },
    run: (p: string, c: HookContext, how) => (how.blocking ? waitFor(c.waitSocketTimeout, () => canConnect(p)) : waitForAsync(c.waitSocketTimeout, () => connects(p))),
    doc: 'wait until a TCP or unix socket accepts connections', example: 'hook-pre-app = wait_for_socket:127.0.0.1:5432',
  }),
];
