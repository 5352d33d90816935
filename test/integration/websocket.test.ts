// WebSockets (an app's own 'upgrade' listener, as with `ws`) on an
// http-socket, through a reload: once only upgraded connections are left in
// a draining worker, the app's own SIGTERM listener runs, so it can say
// goodbye to its clients (ws: close(1001)) and they reconnect to the new
// workers, instead of hanging on the old worker until worker-reload-mercy
// (60 s) cuts them off without a word.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const clients: net.Socket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Ws { socket: net.Socket; pid: number; text: () => string; ended: Promise<void> }

async function upgrade(port: number): Promise<Ws> {
  const socket = net.connect(port, '127.0.0.1');
  clients.push(socket);
  socket.on('error', () => undefined);
  let text = '';
  socket.on('data', (d) => { text += d; });
  const ended = new Promise<void>((r) => socket.once('end', () => r()));
  socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const pid = await until(() => /x-pid: (\d+)/i.exec(text)?.[1]);
  socket.write('hi');
  await until(() => (text.includes('echo:hi') ? true : undefined));
  return { socket, pid: Number(pid), text: () => text, ended };
}

describe('WebSockets through a reload', () => {
  it("the draining worker runs the app's SIGTERM listener once only upgraded connections are left: the client hears goodbye, the old worker exits, a new connection reaches the new worker", async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/websocket.js`, '--http-socket', `127.0.0.1:${port}`], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const ws = await upgrade(port);
    process.kill(p.pid!, 'SIGHUP');
    // before: nothing until worker-reload-mercy (60 s), then a cut without a word
    await until(() => (ws.text().endsWith('bye') ? true : undefined), 10_000);
    await ws.ended;
    await until(() => (alive(ws.pid) ? undefined : true), 10_000);
    const again = await upgrade(port);
    expect(again.pid).not.toBe(ws.pid);
  });
});
