// fallback-config: an instance that ends with status 1 re-executes itself
// in place (same pid) with the fallback config, after its atexit hooks —
// for a fatal hook, a socket it cannot bind, an app that does not load —
// and never loops.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, runLiege, scratch, writeIni } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A trace file and the hook line that appends "WHAT PID" to it. */
function tracer(name: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '');
  return { file, line: (phase: string, what: string) => `hook-${phase} = exec:echo ${what} $PPID >> ${file}`, read: () => fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) };
}

function fallbackIni(name: string, t: ReturnType<typeof tracer>, extra: string[] = []) {
  return writeIni(dir, ['no-server = true', t.line('asap', 'fallback-asap'), ...extra], name);
}

describe('fallback-config', () => {
  it('a fatal hook: atexit runs, then the same pid starts over with the fallback config', async () => {
    const t = tracer('fatal.trace');
    fallbackIni('fatal-fb.ini', t);
    const ini = writeIni(dir, ['no-server = true', 'fallback-config = fatal-fb.ini', t.line('asap', 'main-asap'), 'hook-as-root = exec:exit 5', t.line('pre-app', 'never'), t.line('as-user-atexit', 'main-atexit')], 'fatal.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0); // the fallback instance's status
    const lines = t.read();
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['main-asap', 'main-atexit', 'fallback-asap']);
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(1); // one pid all along
    expect(r.stderr).toMatch(/exited with status 1 !!![\s\S]*!!! Fallback config to .*fatal-fb\.ini !!!/);
  });

  it('a socket it cannot bind (EADDRINUSE) falls back too', async () => {
    const t = tracer('bind.trace');
    fallbackIni('bind-fb.ini', t);
    const busy = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()));
    try {
      const ini = writeIni(dir, [`http-socket = 127.0.0.1:${port}`, `node-app = ${FIXTURES}/apps/handler.js`, 'fallback-config = bind-fb.ini', t.line('as-user-atexit', 'main-atexit')], 'bind.ini');
      const r = await runLiege(['--ini', ini], { cwd: dir });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain(`unable to bind 127.0.0.1:${port}: EADDRINUSE`);
      expect(t.read().map((l) => l.split(' ')[0])).toEqual(['main-atexit', 'fallback-asap']);
    } finally {
      busy.close();
    }
  });

  it('an app that does not load falls back', async () => {
    const t = tracer('app.trace');
    fallbackIni('app-fb.ini', t);
    const port = await freePort();
    const ini = writeIni(dir, [`http-socket = 127.0.0.1:${port}`, 'processes = 1', `node-app = ${FIXTURES}/apps/broken.js`, 'fallback-config = app-fb.ini'], 'app.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('broken on purpose at load');
    expect(t.read().map((l) => l.split(' ')[0])).toEqual(['fallback-asap']);
  });

  it('only status 1 falls back: a clean end and exit:2 do not', async () => {
    const t = tracer('other.trace');
    fallbackIni('other-fb.ini', t);
    const clean = await runLiege(['--no-server', '--fallback-config', 'other-fb.ini'], { cwd: dir });
    expect(clean.exitCode).toBe(0);
    const two = await runLiege(['--no-server', '--fallback-config', 'other-fb.ini', '--hook-asap', 'exit:2'], { cwd: dir });
    expect(two.exitCode).toBe(2);
    expect(t.read()).toEqual([]);
  });

  it('never loops: a chain stops at a config that already ended with 1, with status 1', async () => {
    const t = tracer('loop.trace');
    const a = writeIni(dir, ['no-server = true', 'fallback-config = loop-b.ini', t.line('asap', 'a'), 'hook-asap = exec:false'], 'loop-a.ini');
    writeIni(dir, ['no-server = true', 'fallback-config = loop-a.ini', t.line('asap', 'b'), 'hook-asap = exec:false'], 'loop-b.ini');
    const r = await runLiege(['--ini', a], { cwd: dir, timeout: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(t.read().map((l) => l.split(' ')[0])).toEqual(['a', 'b']);
    expect(r.stderr).toContain('not falling back: that config already ended with status 1 in this chain');
  });

  it('a fallback config that is not there: status 1 and a clear line', async () => {
    const r = await runLiege(['--no-server', '--fallback-config', 'missing.ini', '--hook-asap', 'exec:false'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/not falling back: the fallback config does not exist .*missing\.ini/);
  });
});
