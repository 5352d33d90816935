// The example configs a user copies must stay valid, and the README's first
// command must serve.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { freePort, get, killGroup, LIEGE, ROOT, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });

describe('configs/', () => {
  it.each(['hello.ini', 'jail.ini'])('%s validates', async (f) => {
    const r = await execa(LIEGE, ['hooks', 'check', '--ini', path.join(ROOT, 'configs', f)]);
    expect(r.stdout).toMatch(/^ok: \d+ hooks valid$/);
  });

  it('the systemd unit\'s ExecStart validates', async () => {
    const unit = fs.readFileSync(path.join(ROOT, 'configs', 'liege.service'), 'utf8');
    const exec = /ExecStart=([\s\S]*?)\nExecReload/.exec(unit)![1]!.replace(/\\\n\s*/g, ' ');
    const args = [...exec.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1).map((a) => a.replace('/opt/liege', ROOT));
    const r = await execa(LIEGE, ['hooks', 'plan', ...args]);
    expect(r.stdout).toContain('as-root:\n  1. exec:echo "as-root: uid $(id -u), binding done"');
    expect(r.stdout).toContain('  2. mount:tmpfs none /run/liege-cache nodev,nosuid size=64m');
  });

  it('hello.ini serves its app (with the socket moved to a free port)', async () => {
    const port = await freePort();
    const ini = fs.readFileSync(path.join(ROOT, 'configs', 'hello.ini'), 'utf8').replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${port}`);
    const f = path.join(ROOT, 'configs', `.hello-test-${port}.ini`);
    fs.writeFileSync(f, ini);
    try {
      const p = startLiege(['--ini', f]);
      started.push(p);
      expect((await until(() => get(port))).body).toMatch(/^hello from worker \d+\n$/);
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
    } finally {
      fs.rmSync(f, { force: true });
    }
  });
});
