// With log-format = json the app's own output is JSON lines too: every
// line on the instance's stdout and stderr parses, the app's lines say
// component "app", the stream, the worker and its pid; a console.error of
// an Error is one message (its stack whole), a line written in pieces is
// one line, a JSON line of the app's goes out as it is, a partial line is
// written at exit. In text, the app's output goes out as it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'app-output.js');
type Line = Record<string, unknown>;

async function run(extra: string[], format: string): Promise<{ out: string; err: string; pids: string[] }> {
  const port = await freePort();
  const p = startLiege([...extra, '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--log-format', format, '--disable-logging'], { cwd: dir });
  started.push(p);
  await until(() => get(port));
  const pids = new Set<string>();
  for (let i = 0; i < 6; i++) pids.add((await get(port))!.pid!);
  process.kill(p.pid!, 'SIGTERM');
  const r = await p;
  expect(r.exitCode).toBe(0);
  return { out: String(r.stdout), err: String(r.stderr), pids: [...pids] };
}

const parse = (text: string): Line[] => text.trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('the app\'s output with log-format = json', () => {
  for (const [mode, extra] of [['2 workers', ['--master', '--processes', '2']], ['a single process', []]] as const) {
    it(`is JSON lines, one message a write (${mode})`, async () => {
      const { out, err, pids } = await run([...extra], 'json');
      const stdout = parse(out); // throws on any line that is not JSON
      const stderr = parse(err);
      const app = (lines: Line[]) => lines.filter((l) => l.component === 'app');
      for (const l of [...app(stdout), ...app(stderr)]) {
        if (l.msg === 'request /') expect(pids).toContain(String(l.pid)); // the worker's, not the master's
        if (extra.length) expect(l).toMatchObject({ worker: expect.any(Number), master_pid: expect.any(Number) });
      }
      expect(app(stdout).every((l) => l.stream === 'stdout' && l.level === 30)).toBe(true);
      expect(app(stderr).every((l) => l.stream === 'stderr' && l.level === 50)).toBe(true);
      const msgs = app(stdout).map((l) => l.msg);
      expect(msgs).toContain('app loaded');
      expect(msgs).toContain('request /');
      expect(msgs).toContain('café');
      expect(msgs).toContain('last words'); // the partial line, at exit
      // the app's own JSON line: as it was written, not wrapped
      const served = msgs.filter((m) => m === 'request /').length;
      expect(served).toBeGreaterThanOrEqual(6);
      expect(stdout.filter((l) => l.own === true)).toHaveLength(served);
      expect(stdout.find((l) => l.own === true)).toEqual({ level: 30, own: true, msg: 'own /' });
      const errors = app(stderr).map((l) => String(l.msg));
      expect(errors).toHaveLength(served);
      expect(errors[0]).toMatch(/^Error: failed \/\n {4}at .*app-output\.js:10:/);
    }, 30_000);
  }

  it('goes out as it is in text', async () => {
    const { out, err } = await run(['--master', '--processes', '2'], 'text');
    expect(out.split('\n')).toEqual(expect.arrayContaining(['app loaded', 'request /', 'café', '{"level":30,"own":true,"msg":"own /"}']));
    expect(out).toMatch(/last words/);
    expect(err).toMatch(/^Error: failed \/$/m);
  }, 30_000);
});
