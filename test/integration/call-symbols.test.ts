// The call hooks of uWSGI's own docs (Hooks.rst, tutorials) work as written:
// the symbols resolve to liege equivalents (SYMBOL_EQUIVALENTS).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLiege, scratch, writeIni } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('call symbols from uWSGI docs', () => {
  it('Hooks.rst: callint:putenv, call:uwsgi_log, print (the mount line needs a jail: left out)', async () => {
    const t = path.join(dir, 'env.trace');
    const ini = writeIni(dir, [
      'no-server = true',
      'hook-pre-app = callint:putenv PATH=bin:$(PATH)',
      'hook-post-app = call:uwsgi_log application has been loaded',
      `hook-post-app = exec:echo "$PATH" > ${t}`,
      'hook-as-user-atexit = print:goodbye cruel world',
    ], 'hooks-rst.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir, env: { PATH: '/usr/bin:/bin' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/hooks: application has been loaded\n/);
    expect(r.stderr).toMatch(/hooks: goodbye cruel world\n/);
    expect(fs.readFileSync(t, 'utf8')).toBe('bin:/usr/bin:/bin\n');
  });

  it('ReliableFuse tutorial: callret:chdir / (and a failing chdir fails callret only)', async () => {
    const t = path.join(dir, 'cwd.trace');
    const ok = await runLiege(['--no-server', '--hook-pre-jail', 'callret:chdir /', '--hook-pre-jail', `exec:pwd > ${t}`], { cwd: dir });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(fs.readFileSync(t, 'utf8')).toBe('/\n');
    const bad = await runLiege(['--no-server', '--hook-asap', 'call:chdir /nonexistent', '--hook-pre-jail', 'callret:chdir /nonexistent'], { cwd: dir });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/hook ran phase=asap action=call .*outcome=ok/);
    expect(bad.stderr).toMatch(/FATAL hook failed.*phase=pre-jail action=callret .*error="returned -1"/);
  });

  it('callint:exit N (the `exit` convenience handler) exits N after the atexit hooks', async () => {
    const t = path.join(dir, 'exit.trace');
    const r = await runLiege(['--no-server', '--hook-as-user', 'callint:exit 3', '--hook-pre-app', `exec:echo never >> ${t}`, '--hook-as-user-atexit', `exec:echo atexit >> ${t}`], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });

  it('checks the arguments of the equivalents at load', async () => {
    const r = await runLiege(['--no-server', '--hook-asap', 'exec:echo ran', '--hook-as-user', 'callint:exit soon'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('bad arguments for hook action `callint`');
    expect(r.stderr).toContain('expected exit [STATUS]');
    expect(r.stdout).not.toContain('ran');
  });
});
