// A reload with server-sent event streams open: the drain treats an event
// stream (text/event-stream, headers sent) like an upgraded connection —
// long-lived by nature and the app's to end — so once only those are left
// the app's own SIGTERM listeners run, tell the clients to reconnect and
// end the streams; the old worker exits by itself instead of holding the
// reload until worker-reload-mercy and a SIGKILL.
import * as fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Opens GET /events; resolves once the first event came, with the whole text when the stream ends. */
async function openStream(port: number): Promise<{ end: Promise<string> }> {
  const res = await fetch(`http://127.0.0.1:${port}/events`, { signal: AbortSignal.timeout(30_000) });
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let first: () => void;
  const firstEvent = new Promise<void>((r) => { first = r; });
  const end = (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return text;
      text += dec.decode(value);
      first();
    }
  })();
  await firstEvent;
  return { end };
}

describe('drain with event streams', () => {
  it('a reload runs the SSE app\'s SIGTERM listeners once only event streams are left: the clients get its goodbye, the old worker exits by itself', async () => {
    const port = await freePort();
    // a mercy short enough that the old behaviour fails fast
    const p = startLiege(['--master', '--processes', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', `${FIXTURES}/apps/sse.js`, '--worker-reload-mercy', '8'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    const streams = [await openStream(port), await openStream(port)];
    process.kill(p.pid!, 'SIGHUP');
    for (const s of streams) {
      // before: no goodbye, the stream cut when the mercy SIGKILLed the worker
      expect(await s.end).toMatch(/event: bye\ndata: reconnect\n\n$/);
    }
    await until(() => (/reload done/.test(err) ? true : undefined), 30_000);
    expect(err).not.toMatch(/signal=SIGKILL|mercy/);
    expect((await get(port))?.status).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});
