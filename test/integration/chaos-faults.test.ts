// What the chaos run (bench/chaos.js) found, one fault each: a worker at its
// open file limit, a worker that drains while a reload re-execs the master,
// a worker stuck in a request across a reload.
import { execa, type ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const app = path.join(FIXTURES, 'apps', 'delay.js');

/** A master with `n` workers serving delay.js, its stderr as lines so far. */
async function serve(n: number, extra: string[] = []) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', String(n), '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--disable-logging', ...extra]);
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d; });
  await until(() => get(port));
  await until(() => (childrenOf(p.pid!).length === n ? true : undefined));
  return { port, p, stderr: () => err };
}

/** GET path on a connection of its own: the status, or the error's code. */
const fetchOne = (port: number, p: string) =>
  fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(30_000) })
    .then(async (r) => (await r.text(), r.status), (e: Error) => (e.cause as NodeJS.ErrnoException | undefined)?.code ?? e.message);

/** GET path on a raw connection: its local port (once connected) and the status. */
function rawGet(port: number, p: string) {
  const c = net.connect(port, '127.0.0.1');
  c.on('connect', () => c.write(`GET ${p} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`));
  let head = '';
  c.on('data', (d: Buffer) => { head += d; });
  const status = new Promise<number | string>((resolve) => {
    c.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? NaN)));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  return { status, localPort: () => c.localPort };
}

/** Which of `pids` holds the server end of the connection from client port `from` to `port` (/proc/net/tcp). */
function holderOf(pids: number[], port: number, from: number | undefined): number | undefined {
  if (from === undefined) return undefined;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const row = fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(port)}`) && f[2]?.endsWith(`:${hex(from)}`));
  if (row === undefined) return undefined;
  const socket = `socket:[${row[9]}]`;
  const holds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === socket; } catch { return false; }
  });
  return pids.find(holds);
}

describe('faults the chaos run found', () => {
  it('a worker at its open file limit stops accepting and says so; the other worker serves every connection (before: libuv closed every connection waiting in the shared queue: resets, nothing logged)', async () => {
    const { port, p, stderr } = await serve(2);
    const [limited] = childrenOf(p.pid!);
    const open = fs.readdirSync(`/proc/${limited}/fd`).length;
    const [soft, hard] = /^Max open files\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${limited}/limits`, 'utf8'))!.slice(1);
    await execa('prlimit', ['--pid', String(limited), `--nofile=${open + 1}:${hard}`]);
    // its once-a-second look at the lowest free descriptor (later than 1 s on a loaded machine)
    await until(() => (new RegExp(`liege\\[${limited}\\] worker: WARN worker \\d is at its open file limit`).test(stderr()) ? true : undefined), 10_000);
    const outcomes = [];
    for (let i = 0; i < 30; i++) outcomes.push(await fetchOne(port, '/'));
    expect(outcomes.filter((o) => o !== 200)).toEqual([]);
    expect(stderr()).toMatch(new RegExp(`liege\\[${limited}\\] worker: WARN worker \\d is at its open file limit .* not accepting until some close`));
    expect(alive(limited!)).toBe(true);
    await execa('prlimit', ['--pid', String(limited), `--nofile=${soft}:${hard}`]);
    await until(() => (/accepts again/.test(stderr()) ? true : undefined), 5000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('a worker recycled and draining when a reload re-execs the master stays the master\'s: the reload waits for it, a stop lets its request finish (before: left unwatched, its request cut by the stop\'s final sweep)', async () => {
    const { port, p, stderr } = await serve(1, ['--max-requests', '2', '--min-worker-lifetime', '1']);
    const [old] = childrenOf(p.pid!);
    const slow = fetchOne(port, '/delay?ms=6000');
    await sleep(200);
    expect(await fetchOne(port, '/')).toBe(200); // its 2nd request: recycled once it lived 1 s
    await until(() => (new RegExp(`worker draining worker=1 pid=${old} reason="max-requests`).test(stderr()) ? true : undefined));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/master re-executed: .*generation=1/.test(stderr()) ? true : undefined));
    await sleep(300);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(await slow).toBe(200);
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(new RegExp(`old worker gone worker=1 pid=${old} code=0`));
    expect(res.stderr).not.toMatch(/killed what the workers, daemons and hooks left behind/);
  }, 60_000);

  it('a worker stuck in a request when a reload re-execs the master is killed for that request (harakiri: "a request ran"), not first taken for a worker whose heartbeat stopped at the exec', async () => {
    const { port, p, stderr } = await serve(1, ['--harakiri', '3']);
    const [stuck] = childrenOf(p.pid!);
    const spin = fetchOne(port, '/spin');
    await sleep(1000);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (new RegExp(`harakiri: .*SIGKILL worker=1 pid=${stuck}`).test(stderr()) ? true : undefined), 20_000);
    expect(await spin).not.toBe(200);
    await until(() => (/reload done/.test(stderr()) ? true : undefined));
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(new RegExp(`harakiri: a request ran \\d+ s: SIGKILL worker=1 pid=${stuck}`));
  }, 60_000);
});

describe('a worker that dies while a reload hands over', () => {
  it('is reaped by the new image and the other workers are adopted (before: the new image dropped the whole handover — generation 0, every worker left unwatched)', async () => {
    // the atexit hook holds the old image between the handover and the exec
    const { port, p, stderr } = await serve(2, ['--hook-as-user-atexit', 'exec:sleep 1']);
    const workers = childrenOf(p.pid!);
    const slow = rawGet(port, '/delay?ms=4000');
    // the worker that accepted the request (a count of sockets was fooled by
    // a probe's connection closing meanwhile)
    const lives = await until(() => holderOf(workers, port, slow.localPort()));
    const dies = workers.find((w) => w !== lives);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/graceful reload requested/.test(stderr()) ? true : undefined));
    await sleep(300);
    process.kill(dies!, 'SIGKILL');
    await until(() => (/master re-executed: .*generation=/.test(stderr().split('graceful reload requested')[1] ?? '') ? true : undefined));
    expect(stderr()).toMatch(/master re-executed: .*generation=1/);
    await until(() => (/reload done/.test(stderr()) ? true : undefined), 20_000);
    expect(stderr()).toMatch(new RegExp(`old worker gone worker=\\d pid=${lives} code=0`));
    expect(await slow.status).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).not.toMatch(/killed what the workers, daemons and hooks left behind/);
  }, 60_000);
});
