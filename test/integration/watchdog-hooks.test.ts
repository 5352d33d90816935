// systemd's watchdog through hooks that block the master: once armed (the
// first WATCHDOG=1), WatchdogSec= runs on through a reload, whose new image
// walks its startup phases before its loop pings again. An exec hook's
// child (atexit hooks too) and a wait_for_* poll ping from the waiting thread, a reload's
// async master-start hooks and what the reload awaits before its exec (a
// daemon slow to stop) from the loop: before, nothing pinged there and
// systemd killed the master (`exec-as-root = sleep 20`, WatchdogSec=10).
// The windows are measured on the clock the listener and the hooks share.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// each message with the wall-clock time it came (the hooks write `date`'s)
const LISTENER = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    m = s.recv(4096).decode()
    print("%.3f %s" % (time.time(), m.replace("\\n", "|")), flush=True)
    if m.startswith("STOPPING=1"):
        break
`;

async function notifyListener(sock: string) {
  const listener = execa('python3', ['-c', LISTENER, sock], { buffer: true, reject: false, detached: true });
  started.push(listener);
  let text = '';
  listener.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  await until(() => text.includes('listening') || undefined);
  return () => text;
}

/** The [start, end] windows a hook wrote to `file` (one `date +%s.%N` line at each end). */
function windows(file: string): [number, number][] {
  const t = fs.readFileSync(file, 'utf8').trim().split('\n').map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < t.length; i += 2) out.push([t[i]!, t[i + 1]!]);
  return out;
}

/** WATCHDOG=1 pings heard within [from, to]. */
const pingsIn = (heard: string, [from, to]: [number, number]) => heard.split('\n').filter((l) => {
  const [at, msg] = l.split(' ');
  return msg === 'WATCHDOG=1' && Number(at) > from && Number(at) < to;
}).length;

describe('systemd watchdog during blocking hooks', () => {
  it('a reload\'s daemon slow to stop, its atexit hook, its new image\'s exec hook, wait_for_file and async master-start hook, each longer than WatchdogSec=, are pinged through', async () => {
    const sock = path.join(dir, 'dog.sock');
    const heard = await notifyListener(sock);
    const port = await freePort();
    const stamp = (f: string) => `date +%%s.%%N >> ${f}`; // (%% is a % in an INI)
    const ini = path.join(dir, 'dog.ini');
    // (each window is 1.5 s; a ping every 200 ms)
    fs.writeFileSync(ini, `[uwsgi]
master = true
processes = 1
http-socket = 127.0.0.1:${port}
node-app = ${FIXTURES}/apps/handler.js
hook-asap = exec:${stamp('exec.times')}; sleep 1.5; ${stamp('exec.times')}
hook-asap = exec:rm -f flag; (sleep 1.5; touch flag) >/dev/null 2>&1 & ${stamp('wait.times')}
hook-asap = wait_for_file:flag
hook-asap = exec:${stamp('wait.times')}
hook-master-start = exec:${stamp('start.times')}; sleep 1.5; ${stamp('start.times')}
hook-as-user-atexit = exec:${stamp('atexit.times')}; sleep 1.5; ${stamp('atexit.times')}
attach-daemon = trap "${stamp('daemon.times')}; sleep 1.5; ${stamp('daemon.times')}; exit 0" TERM; while :; do sleep 0.1; done
`);
    const p = startLiege([ini], { cwd: dir, env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' } });
    started.push(p);
    await until(() => get(port), 30_000);
    await until(() => heard().includes('READY=1') || undefined, 30_000);
    const first = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => heard().split('READY=1').length === 3 || undefined, 30_000);
    await until(() => { const now = childrenOf(p.pid!); return (now.length === 2 && !now.some((c) => first.includes(c))) || undefined; }, 30_000);
    await until(() => fs.readFileSync(path.join(dir, 'start.times'), 'utf8').trim().split('\n').length === 4 || undefined, 30_000);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    // the reload's windows: the old image's daemon stop and atexit hook
    // (the first; the second is the stop's), the new image's hooks (the
    // second of each): several pings in each
    for (const [f, i] of [['daemon.times', 0], ['atexit.times', 0], ['exec.times', 1], ['wait.times', 1], ['start.times', 1]] as const) {
      const w = windows(path.join(dir, f));
      expect(w, f).toHaveLength(2);
      expect(pingsIn(heard(), w[i]!), `${f}: windows ${JSON.stringify(w)}, heard:\n${heard()}`).toBeGreaterThanOrEqual(3);
    }
  });
});
