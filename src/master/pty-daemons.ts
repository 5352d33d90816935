// attach-daemon-pty: daemons under a pseudo-terminal (node-pty), respawned
// like attach-daemon. Each one serves a unix socket
// <attach-dir>/<name>.<pid>.sock (mode 0600, owned by the instance's user:
// the master has dropped privileges by now) that `liege attach` connects a
// terminal to; several viewers at once, each gets the recent output first.
// Every output line is also logged. Name: `@NAME cmd`, else the bundle name
// (LIEGE_BUNDLE_NAME), else the command's first word.
// The daemon leads its own session (the pty's); when the master dies the pty
// closes and the kernel hangs the session up (SIGHUP).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { IPty } from 'node-pty';
import type { Config } from '../config/config';
import { log } from '../log';
import { heardRecently, OWN_COPY_WAIT_MS, STOP_SIGNALS } from '../os/heard-signals';
import { ATTACH_FRAME, SCROLLBACK_BYTES } from '../ipc/attach';

interface PtyDaemon {
  name: string;
  cmd: string;
  term?: IPty;
  server?: net.Server;
  sock?: string;
  viewers: Set<net.Socket>;
  scrollback: Buffer[];
  partial: string;
  startedAt: number;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const nodePty = () => require('node-pty') as typeof import('node-pty');

export function parsePtyDaemon(value: string): { name: string; cmd: string } {
  const m = /^@([A-Za-z0-9._-]+)\s+(.*)$/.exec(value.trim());
  if (m) return { name: m[1]!, cmd: m[2]! };
  const first = value.trim().split(/\s+/)[0] ?? 'daemon';
  return { name: process.env.LIEGE_BUNDLE_NAME ?? path.basename(first), cmd: value };
}

export class PtyDaemons {
  private readonly list: PtyDaemon[];
  private readonly dir: string;
  private stopping = false;

  constructor(cfg: Config) {
    this.list = cfg.list('attach-daemon-pty').map((s) => ({ ...parsePtyDaemon(s.value), viewers: new Set(), scrollback: [], partial: '', startedAt: 0 }));
    this.dir = cfg.str('attach-dir');
  }

  startAll(): void {
    if (!this.list.length) return;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      log('master').error({ dir: this.dir, error: (e as Error).message }, 'unable to create the attach-dir: pty daemons run without an attach socket');
    }
    for (const d of this.list) this.spawn(d);
  }

  private spawn(d: PtyDaemon): void {
    d.startedAt = Date.now();
    const term = nodePty().spawn('/bin/sh', ['-c', d.cmd], { name: 'xterm-256color', cols: 80, rows: 24, cwd: process.cwd(), env: process.env as Record<string, string> });
    d.term = term;
    d.scrollback = [];
    log('master').info({ daemon: d.name, cmd: d.cmd, pid: term.pid }, 'pty daemon started');
    term.onData((s) => this.output(d, s));
    term.onExit(({ exitCode, signal }) => this.exited(d, exitCode, signal));
    this.listen(d, term.pid);
  }

  private output(d: PtyDaemon, s: string): void {
    const b = Buffer.from(s);
    d.scrollback.push(b);
    let size = d.scrollback.reduce((n, x) => n + x.length, 0);
    while (size > SCROLLBACK_BYTES && d.scrollback.length > 1) size -= d.scrollback.shift()!.length;
    for (const v of d.viewers) v.write(b);
    const lines = (d.partial + s).split('\n');
    d.partial = lines.pop() ?? '';
    if (d.partial.length > 4096) lines.push(d.partial.slice(0, 4096)), (d.partial = '');
    // eslint-disable-next-line no-control-regex
    for (const line of lines) log('daemon').info({ daemon: d.name, pid: d.term?.pid }, line.replace(/\x1b\[[0-9;?]*[A-Za-z]|\r/g, ''));
  }

  private listen(d: PtyDaemon, pid: number): void {
    const sock = path.join(this.dir, `${d.name}.${pid}.sock`);
    const server = net.createServer((c) => this.viewer(d, c));
    server.on('error', (e) => log('master').error({ daemon: d.name, socket: sock, error: e.message }, 'attach socket failed'));
    fs.rmSync(sock, { force: true });
    server.listen(sock, () => { try { fs.chmodSync(sock, 0o600); } catch { /* gone */ } });
    d.server = server;
    d.sock = sock;
  }

  /** One viewer: recent output first; framed input and resize from it. */
  private viewer(d: PtyDaemon, c: net.Socket): void {
    d.viewers.add(c);
    for (const b of d.scrollback) c.write(b);
    let buf = Buffer.alloc(0);
    c.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const len = buf.readUInt32BE(1);
        if (buf.length < 5 + len) break;
        const type = buf[0];
        const payload = buf.subarray(5, 5 + len);
        buf = buf.subarray(5 + len);
        if (type === ATTACH_FRAME.input) d.term?.write(payload.toString());
        if (type === ATTACH_FRAME.resize) this.resize(d, payload);
      }
    });
    c.on('close', () => d.viewers.delete(c));
    c.on('error', () => d.viewers.delete(c));
  }

  private resize(d: PtyDaemon, payload: Buffer): void {
    try {
      const { cols, rows } = JSON.parse(payload.toString()) as { cols: number; rows: number };
      if (cols > 0 && rows > 0 && cols < 1000 && rows < 1000) d.term?.resize(cols, rows);
    } catch { /* a bad frame: ignored */ }
  }

  private exited(d: PtyDaemon, code: number, signal?: number): void {
    d.term = undefined;
    d.server?.close();
    if (d.sock) fs.rmSync(d.sock, { force: true });
    for (const v of d.viewers) v.end();
    d.viewers.clear();
    if (this.stopping) return;
    const decide = () => {
      if (this.stopping) return;
      log('master').info({ daemon: d.name, code, signal }, 'pty daemon exited');
      // at most one start a second
      const wait = Math.max(0, 1000 - (Date.now() - d.startedAt));
      setTimeout(() => {
        if (!this.stopping) this.spawn(d);
      }, wait);
    };
    // (KillMode=control-group's signal, the master's too: daemons.ts)
    if (heardRecently(STOP_SIGNALS)) setTimeout(decide, OWN_COPY_WAIT_MS);
    else decide();
  }

  /** From now on a daemon's end is its stop's (the instance stops). */
  holdRespawns(): void {
    this.stopping = true;
  }

  /** SIGTERM every pty daemon's session; SIGKILL after `mercyMs`. */
  async stopAll(mercyMs = 3000): Promise<void> {
    this.stopping = true;
    await Promise.all(this.list.map((d) => new Promise<void>((resolve) => {
      const term = d.term;
      if (!term) return resolve();
      const group = (sig: NodeJS.Signals) => { try { process.kill(-term.pid, sig); } catch { /* gone */ } };
      const timer = setTimeout(() => group('SIGKILL'), mercyMs);
      term.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      group('SIGTERM');
    })));
  }
}
