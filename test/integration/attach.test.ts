// attach-daemon-pty + liege attach, driven through a real terminal
// (node-pty): type a line, read the answer, detach (Ctrl-\ d), attach again
// to the same process (its state kept), two viewers at once, the output
// logged, nothing left behind after the instance stops.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as pty from 'node-pty';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, FIXTURES, killGroup, LIEGE, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const terms: pty.IPty[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) { try { t.kill('SIGKILL'); } catch { /* gone */ } }
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `liege attach` in a terminal; `screen()` is everything it showed. */
function attach(target: string) {
  const t = pty.spawn(LIEGE, ['attach', target, '--attach-dir', dir], { cols: 100, rows: 30, env: process.env as Record<string, string> });
  terms.push(t);
  let screen = '';
  t.onData((d) => { screen += d; });
  const exited = new Promise<number>((resolve) => t.onExit((e) => resolve(e.exitCode)));
  return { t, screen: () => screen, exited, waitFor: (s: string) => until(() => screen.includes(s) || undefined, 10_000) };
}

describe('attachable pty daemons', () => {
  it('attach, type, detach, reattach to the same process, two viewers', async () => {
    // the instance runs as nobody: its socket is nobody's, mode 0600
    fs.chmodSync(dir, 0o1777);
    const p = startLiege(['--master', '--uid', 'nobody', '--gid', 'nogroup', '--attach-daemon-pty', `@repl node ${path.join(FIXTURES, 'apps', 'repl.js')}`, '--attach-dir', dir]);
    started.push(p);
    const sock = await until(() => fs.readdirSync(dir).find((n) => /^repl\.\d+\.sock$/.test(n)));
    const daemonPid = Number(sock.split('.')[1]);
    // listening with the umask's mode (no write bit for others: they cannot connect), then 0600
    const st = await until(() => { const s = fs.statSync(path.join(dir, sock)); return (s.mode & 0o777) === 0o600 ? s : undefined; });
    expect(st.uid).toBe(Number(execFileSync('id', ['-u', 'nobody']).toString()));

    const a = attach('repl');
    await a.waitFor('repl> ');
    a.t.write('x = 41\r');
    await a.waitFor('= 41');
    a.t.write('\x1cd');
    expect(await a.exited).toBe(0);
    expect(a.screen()).toContain('[detached, the daemon keeps running]');
    expect(alive(daemonPid)).toBe(true);

    // again, by pid this time: the same REPL, x still set
    const b = attach(String(daemonPid));
    const c = attach('repl');
    await b.waitFor('= 41'); // recent output replayed to a new viewer
    await c.waitFor('= 41');
    b.t.write('x + 1\r');
    await b.waitFor('= 42');
    await c.waitFor('= 42'); // every viewer sees it
    b.t.write('\x1c\x1cd'); // Ctrl-\ twice: one Ctrl-\ goes to the daemon, no detach
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(b.t.pid)).toBe(true);
    b.t.write('\x1cd');
    c.t.write('\x1cd');
    expect(await b.exited).toBe(0);
    expect(await c.exited).toBe(0);

    const none = await new Promise<string>((resolve) => {
      const t = pty.spawn(LIEGE, ['attach', 'nosuch', '--attach-dir', dir], { env: process.env as Record<string, string> });
      let s = '';
      t.onData((d) => { s += d; });
      t.onExit((e) => resolve(`${e.exitCode} ${s}`));
    });
    expect(none).toMatch(/^1 liege: no pty daemon nosuch in .*running: repl\.\d+/);

    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/daemon: = 42 daemon=repl/); // the output is logged
    expect(alive(daemonPid)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  }, 60_000);
});
