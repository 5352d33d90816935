// systemd Type=notify: READY=1 once every worker accepts, RELOADING=1 and
// READY=1 again around a reload, STOPPING=1 on shutdown — read from a real
// unix datagram socket (python3 listens: Node has no unix datagrams).
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { childrenOf, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    m = s.recv(4096).decode()
    print(m.replace("\\n", "|"), flush=True)
    if m.startswith("STOPPING=1"):
        break
`;

describe('sd_notify', () => {
  it('tells systemd when the instance is ready, reloading and stopping', async () => {
    const sock = path.join(dir, 'notify.sock');
    const listener = execa('python3', ['-c', LISTENER, sock], { buffer: true, reject: false, detached: true });
    started.push(listener);
    let heard = '';
    listener.stdout!.on('data', (d: Buffer) => { heard += d.toString(); });
    await until(() => fs.existsSync(sock) || undefined);
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--hook-post-fork', 'exec:test -z "$NOTIFY_SOCKET"'], { cwd: dir, env: { NOTIFY_SOCKET: sock } });
    started.push(p);
    await until(() => get(port));
    await new Promise((r) => setTimeout(r, 300));
    const old = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    // the reload is done when the new generation serves and the old one is gone
    await until(() => { const now = childrenOf(p.pid!); return now.length === 2 && !now.some((c) => old.includes(c)) || undefined; }, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const lines = (await listener).stdout.split('\n');
    expect(lines).toEqual([
      'listening',
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      'RELOADING=1',
      `READY=1|STATUS=serving with 2 workers on 127.0.0.1:${port}`,
      'STOPPING=1',
    ]);
  });

  it('a notify socket that refuses (gone, or not writable by the dropped user) is said once, not at every watchdog ping; the instance serves', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`], { cwd: dir, env: { NOTIFY_SOCKET: path.join(dir, 'nobody-listens.sock'), WATCHDOG_USEC: '200000' } });
    started.push(p);
    await until(() => get(port));
    // 2 s: some 20 watchdog pings, each of them failing
    await new Promise((r) => setTimeout(r, 2000));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    // before: one warning per ping (READY, every WATCHDOG=1, STOPPING)
    expect(String(r.stderr).split('\n').filter((l) => /unable to notify systemd/.test(l))).toHaveLength(1);
  });
});
