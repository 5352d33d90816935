// A worker holds off accepting when the master asks (a newcomer takes the
// next connection: worker/accept-hold.ts), on a real listening socket
// shared with a real child process: connections wait in the backlog while
// it holds, and are taken on the release or when the hold runs out.
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until, written } from './helpers';

const children: ChildProcess[] = [];
const started: ResultPromise[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const p of started.splice(0)) killGroup(p);
});

/** A child accepting on a socket only it polls; resolves with its port. */
async function worker(): Promise<{ child: ChildProcess; port: number }> {
  const listener = net.createServer();
  await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
  const port = (listener.address() as net.AddressInfo).port;
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd;
  const child = fork(path.join(FIXTURES, 'accept-hold', 'worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', fd] });
  children.push(child);
  await new Promise<void>((ok) => child.once('message', () => ok()));
  // (the child's copy of the socket stays open: this process no longer polls it)
  listener.close();
  return { child, port };
}

/** Sends `m`, then waits until the child handled it. */
async function tell(child: ChildProcess, m: unknown): Promise<void> {
  child.send(m);
  child.send('ping');
  await new Promise<void>((ok) => child.once('message', () => ok()));
}

/** Connects and resolves with what the server wrote, and when. */
function answer(port: number): { at: Promise<number>; text: Promise<string> } {
  let text = '';
  const c = net.connect(port, '127.0.0.1');
  c.on('data', (d) => (text += d));
  const ended = new Promise<void>((ok, ko) => {
    c.on('end', () => ok());
    c.on('error', ko);
  });
  return { at: ended.then(() => Date.now()), text: ended.then(() => text.trim()) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('accept holds', () => {
  it('a held worker accepts nothing until released; the connection waited in the backlog', async () => {
    const { child, port } = await worker();
    await tell(child, { type: 'hold-accept', ms: 10_000, liege: 1 });
    const a = answer(port);
    let answered = false;
    void a.at.then(() => (answered = true));
    await sleep(400);
    expect(answered).toBe(false);
    const released = Date.now();
    await tell(child, { type: 'release-accept', liege: 1 });
    expect(await a.text).toBe(String(child.pid));
    expect(await a.at).toBeGreaterThanOrEqual(released);
    // and it accepts on as before
    expect(await answer(port).text).toBe(String(child.pid));
  });

  it('a hold ends by itself after its ms, and the app’s message of another shape is ignored', async () => {
    const { child, port } = await worker();
    await tell(child, { type: 'hold-accept', ms: 300 }); // not liege's (no liege: 1): ignored
    expect(await answer(port).text).toBe(String(child.pid));
    const held = Date.now();
    await tell(child, { type: 'hold-accept', ms: 300, liege: 1 });
    const a = answer(port);
    expect(await a.text).toBe(String(child.pid));
    expect(await a.at).toBeGreaterThanOrEqual(held + 250);
  });

  it('holds again after a release, and a second hold while held extends it', async () => {
    const { child, port } = await worker();
    for (let round = 0; round < 2; round++) {
      await tell(child, { type: 'hold-accept', ms: 250, liege: 1 });
      const start = Date.now();
      await sleep(150);
      await tell(child, { type: 'hold-accept', ms: 250, liege: 1 });
      const a = answer(port);
      expect(await a.text).toBe(String(child.pid));
      expect(await a.at).toBeGreaterThanOrEqual(start + 350);
    }
  });

  for (const signal of ['SIGSTOP', 'SIGKILL'] as const) {
    it(`a newcomer that gets ${signal} right after it starts accepting leaves the others accepting: every next request is answered`, async () => {
      const dir = scratch();
      const arm = path.join(dir, 'arm');
      const port = await freePort();
      const p = startLiege(['--master', '-p', '3', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'freeze-on-accepting.js')], { env: { FREEZE_ARM: arm, FREEZE_SIGNAL: signal } });
      started.push(p);
      await until(() => get(port));
      // armed once the first three accept: the respawn is the one that takes it
      await until(() => (written(`${arm}.accepting`)?.trim().split('\n').length === 3 ? true : undefined));
      const first = childrenOf(p.pid!);
      fs.writeFileSync(arm, '');
      process.kill(first[0]!, 'SIGKILL'); // its respawn is the newcomer
      const newcomer = Number(await until(() => written(`${arm}.pid`), 20_000));
      const answers = [];
      for (let i = 0; i < 20; i++) answers.push(await get(port));
      // (get gives up after 2 s: a hold the others never leave fails here)
      expect(answers.map((a) => a?.status)).toEqual(Array(20).fill(200));
      expect(answers.map((a) => a?.pid)).not.toContain(String(newcomer));
      try { process.kill(newcomer, 'SIGCONT'); } catch { /* gone */ }
    }, 40_000);
  }

  it('the master releases the others as soon as a newcomer dies before it took a connection (not only their own timers)', async () => {
    const dir = scratch();
    const arm = path.join(dir, 'arm');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '3', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'freeze-on-accepting.js')], { env: { FREEZE_ARM: arm, FREEZE_SIGNAL: 'SIGKILL' } });
    started.push(p);
    await until(() => get(port));
    await until(() => (written(`${arm}.accepting`)?.trim().split('\n').length === 3 ? true : undefined));
    const holds = () => (written(`${arm}.holds`) ?? '').trim().split('\n').filter(Boolean);
    // the boot's own holds first: the second worker to accept held the
    // first, the third held both
    await until(() => (holds().filter((l) => l.endsWith(' hold-accept')).length >= 3 ? true : undefined));
    const before = holds().length;
    const first = childrenOf(p.pid!);
    fs.writeFileSync(arm, '');
    process.kill(first[0]!, 'SIGKILL'); // its respawn is the newcomer, killed as it accepts
    const newcomer = Number(await until(() => written(`${arm}.pid`), 20_000));
    const others = first.slice(1);
    // each of the two others: held for the newcomer, then released by the master
    // (before: only 'hold-accept'; the hold ended on the worker's own timer)
    // (a boot hold's release may come after the arming: before the newcomer's hold)
    const said = (pid: number) => holds().slice(before).filter((l) => l.startsWith(`${pid} `)).map((l) => l.split(' ')[1]).filter((t, i, all) => all.slice(0, i + 1).includes('hold-accept'));
    await until(() => (others.every((w) => said(w).includes('release-accept')) ? true : undefined));
    // (the newcomer's own respawn holds them again later)
    for (const w of others) expect(said(w).slice(0, 2)).toEqual(['hold-accept', 'release-accept']);
    expect(said(newcomer)).toEqual([]);
    for (let i = 0; i < 6; i++) expect((await get(port))?.status).toBe(200);
  }, 40_000);
});
