// Issue 6: a real uWSGI config loads. Every uWSGI 2.0.21 option is known;
// flags never take the next argument (argv or env); the ones liege does not
// implement are warned about once, naming where, and ignored.
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runLiege, scratch, writeIni } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('uWSGI configs load', () => {
  it('bare flags do not eat the next argument: --vacuum -p 2 --lazy-apps --master', async () => {
    const r = await runLiege(['--vacuum', '-p', '2', '--lazy-apps', '--master', '--enable-threads', '--disable-logging', '--memory-report', '--no-server', '--print-config']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^processes = 2 {4}# command line$/m);
    expect(r.stdout).toMatch(/^master = true/m);
    expect(r.stdout).toMatch(/^vacuum = true/m);
    expect(r.stderr).toMatch(/uWSGI option not implemented by liege, ignored: the stats server .* option=memory-report at="command line: --memory-report"/);
  });

  it('--print-config prints and exits, even with sockets (it starts no server)', async () => {
    const r = await runLiege(['--http-socket', '127.0.0.1:0', '--print-config', '--master']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^http-socket = 127\.0\.0\.1:0/m);
  });

  it('short flags cluster like getopt: -Mp3', async () => {
    const r = await runLiege(['-Mp3', '--no-server', '--print-config']);
    expect(r.stdout).toMatch(/^master = true/m);
    expect(r.stdout).toMatch(/^processes = 3/m);
  });

  it('flags in env form: UWSGI_MASTER=1, UWSGI_SINGLE_INTERPRETER=true', async () => {
    const r = await runLiege(['--no-server', '--print-config'], { env: { UWSGI_MASTER: '1', UWSGI_SINGLE_INTERPRETER: 'true' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^master = 1 {4}# environment UWSGI_MASTER$/m);
    expect(r.stderr).toMatch(/option=single-interpreter at="environment UWSGI_SINGLE_INTERPRETER: UWSGI_SINGLE_INTERPRETER=true"/);
  });

  it('uWSGI options liege does not implement: one warning each, with file:line, then the hooks run', async () => {
    const ini = writeIni(dir, ['no-server = true', 'ksm = 10', 'route-host = ^example$ last:', 'emperor-broodlord = 2', 'mountpoint-check = /srv', 'ksm', 'hook-asap = print:hooks ran'], 'real.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/option=ksm at=real\.ini:3/);
    expect(r.stderr.match(/option=ksm/g)).toHaveLength(1);
    for (const o of ['route-host', 'emperor-broodlord', 'mountpoint-check']) expect(r.stderr).toContain(`option=${o}`);
    expect(r.stdout + r.stderr).toContain('hooks ran');
  });

  it('a uWSGI request-log format in log-format is taken (the request log\'s template: logformat.test.ts), without a warning', async () => {
    const ini = writeIni(dir, ['no-server = true', 'log-format = %(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size)'], 'logformat.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/option=log-format/);
  });

  it('UWSGI_FOO=bar defines the placeholder %(foo), as in uWSGI', async () => {
    const r = await runLiege(['--no-server', '--hook-asap', 'print:foo is %(foo), x-y is %(x-y)'], { env: { UWSGI_FOO: 'bar', UWSGI_X_Y: 'z' } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('foo is bar, x-y is z');
  });

  it('uid without gid drops to the user\'s primary group and says so', async () => {
    const r = await runLiege(['--no-server', '--uid', 'nobody', '--hook-as-user', 'exec:echo gid=$(id -g) groups=$(id -G)']);
    expect(r.exitCode, r.stderr).toBe(0);
    const gid = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))!.split(':')[3];
    expect(r.stdout).toContain(`gid=${gid} groups=${gid}`);
    expect(r.stderr).toMatch(/no gid set: dropping to the primary group of the uid user/);
  });

  it('a user known inside the chroot passes the load-time check', async () => {
    const jail = `${dir}/jail`;
    fs.mkdirSync(`${jail}/etc`, { recursive: true });
    fs.writeFileSync(`${jail}/etc/passwd`, 'app:x:1234:1234::/:/bin/sh\n');
    fs.writeFileSync(`${jail}/etc/group`, 'app:x:1234:\n');
    const r = await runLiege(['--no-server', '--chroot', jail, '--uid', 'app', '--gid', 'app', '--print-config']);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('lines of a false if-* block are checked but never run', async () => {
    const ini = writeIni(dir, ['no-server = true', 'if-env = LIEGE_TEST_NEVER_SET', 'hook-asap = print:never', 'endif =', 'hook-asap = print:always'], 'false-block.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain('always');
    expect(r.stdout + r.stderr).not.toContain('never');
  });
});
