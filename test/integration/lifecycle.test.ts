// The startup phases end to end with the real binary: order, privileges,
// logging, the exit action, atexit, the hooks command.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIEGE, runLiege, scratch, writeIni } from './helpers';
import { execa } from 'execa';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const trace = (name: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, '');
  fs.chmodSync(f, 0o666);
  return f;
};

describe('startup phases', () => {
  it('walks every phase in order, dropping to nobody between as-root and as-user', async () => {
    const t = trace('order.trace');
    const phases = ['asap', 'pre-jail', 'in-jail', 'post-jail', 'as-root', 'as-user', 'pre-app', 'post-app', 'as-user-atexit'];
    const ini = writeIni(dir, ['no-server = true', 'jailed = true', 'uid = nobody', 'gid = nogroup', ...phases.map((p) => `hook-${p} = exec:echo ${p} \`id -u\`:\`id -g\` >> ${t}`)], 'order.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(t, 'utf8').trim().split('\n')).toEqual(phases.map((p) => `${p} ${['as-user', 'pre-app', 'post-app', 'as-user-atexit'].includes(p) ? '65534:65534' : '0:0'}`));
  });

  it('logs every hook as JSON with phase, action, outcome, duration and pid', async () => {
    const r = await runLiege(['--no-server', '--log-format', 'json', '--hook-pre-jail', 'exec:true', '--hook-as-user-atexit', 'exec:false'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ component: 'hooks', phase: 'pre-jail', action: 'exec', outcome: 'ok', at: 'command line', pid: expect.any(Number) });
    expect(typeof lines[0]!.ms).toBe('number');
    expect(lines[1]).toMatchObject({ phase: 'as-user-atexit', outcome: 'failed', error: 'returned 1' });
  });

  it('names the config file and line of a failing fatal hook, then runs atexit and exits 1', async () => {
    const t = trace('fatal.trace');
    const ini = writeIni(dir, ['no-server = true', 'hook-as-root = exec:exit 4', `hook-as-user-atexit = appendn:${t} atexit`], 'fatal.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/FATAL hook failed.*phase=as-root.*at=fatal\.ini:3.*returned 4/);
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });

  it('runs file, env and mount actions without a shell', async () => {
    const d = path.join(dir, 'acts');
    const ini = writeIni(dir, [
      'no-server = true',
      `hook-asap = mkdir:${d}`,
      `hook-pre-jail = mount:tmpfs liege-test ${d} nosuid,nodev size=1m`,
      `hook-in-jail = write:${d}/f hello`,
      `hook-in-jail = appendn:${d}/f  world`,
      `hook-in-jail = chmod:${d}/f 0640`,
      'hook-as-root = putenv:LIEGE_T=42',
      `hook-as-root = exec:echo "$LIEGE_T $(stat -c %%a ${d}/f) $(cat ${d}/f | tr '\\n' '|') $(grep -c ' ${d} tmpfs ' /proc/self/mounts)" > ${dir}/acts.out`,
      `hook-as-root = umount:${d}`,
      `hook-pre-app = callret:chdir ${dir}`,
      'hook-post-app = create:created-in-cwd',
    ], 'acts.ini');
    const r = await runLiege(['--ini', ini], { cwd: '/' });
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(`${dir}/acts.out`, 'utf8').trim()).toBe('42 640 hello world| 1');
    expect(fs.existsSync(`${dir}/created-in-cwd`)).toBe(true);
  });

  it('exit:N ends the instance with N after the atexit hooks', async () => {
    const t = trace('exit.trace');
    const r = await runLiege(['--no-server', '--hook-in-jail', 'exit:9', '--hook-as-root', `appendn:${t} not-reached`, '--hook-as-user-atexit', `appendn:${t} atexit`]);
    expect(r.exitCode).toBe(9);
    expect(fs.readFileSync(t, 'utf8')).toBe('atexit\n');
  });

  it('wait_for_file waits for a file another hook creates in the background', async () => {
    const f = path.join(dir, 'late-file');
    const r = await runLiege(['--no-server', '--hook-asap', `exec:(sleep 0.3; touch ${f}) &`, '--hook-pre-jail', `wait_for_file:${f}`, '--wait-for-fs-timeout', '5']);
    expect(r.exitCode).toBe(0);
    const r2 = await runLiege(['--no-server', '--hook-pre-jail', `wait_for_dir:${dir}/never`, '--wait-for-fs-timeout', '1']);
    expect(r2.exitCode).toBe(1);
  });
});

describe('privileges and jails', () => {
  it('keeps the `cap` capabilities across the drop to nobody', async () => {
    const out = trace('caps.out');
    const r = await runLiege(['--no-server', '--uid', 'nobody', '--gid', 'nogroup', '--cap', 'net_bind_service,sys_chroot', '--hook-as-user', `exec:grep CapEff /proc/$PPID/status > ${out}; id -u >> ${out}`], { cwd: dir });
    expect(r.exitCode).toBe(0);
    // bit 10 (net_bind_service) and bit 18 (sys_chroot), nothing else
    expect(fs.readFileSync(out, 'utf8')).toBe('CapEff:\t0000000000040400\n65534\n');
  });

  it('unshare = uts: in-jail sees the host name, post-jail sets a private one', async () => {
    const t = trace('uts.trace');
    const host = require('node:os').hostname() as string;
    const r = await runLiege(['--no-server', '--unshare', 'uts,ipc', '--hook-in-jail', `exec:hostname >> ${t}`, '--hook-post-jail', 'hostname:liege-jail', '--hook-as-user', `exec:hostname >> ${t}`], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(t, 'utf8')).toBe(`${host}\nliege-jail\n`);
    expect(require('node:os').hostname()).toBe(host);
  });

  it('writes pidfile before the drop, applies chdir and umask', async () => {
    const out = trace('misc.out');
    const r = await runLiege(['--no-server', '--pidfile', `${dir}/liege.pid`, '--uid', 'nobody', '--chdir', '/tmp', '--umask', '027', '--hook-pre-app', `exec:echo "$PWD $(umask) $PPID" > ${out}`], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const [cwd, umask, pid] = fs.readFileSync(out, 'utf8').trim().split(' ');
    expect([cwd, umask]).toEqual(['/tmp', '0027']);
    expect(fs.readFileSync(`${dir}/liege.pid`, 'utf8')).toBe(`${pid}\n`);
  });
});

describe('commands', () => {
  it('hooks plan/check/list show the validated plan without running it', async () => {
    const t = path.join(dir, 'plan-ran');
    const ini = writeIni(dir, ['no-server = true', `exec-pre-jail = touch ${t}`, 'hook-pre-jail = !exec:secret', 'hook-as-root = mount:tmpfs none /mnt'], 'plan.ini');
    const plan = await execa(LIEGE, ['hooks', 'plan', '--ini', ini], { cwd: dir });
    expect(plan.stdout).toContain('pre-jail:\n  1. --- PRIVATE HOOK ---    (hook-pre-jail, plan.ini:4)\n  2. exec:touch');
    const json = JSON.parse((await execa(LIEGE, ['hooks', 'list', '--output', 'json', '--ini', ini], { cwd: dir })).stdout) as Array<{ phase: string; action: string }>;
    expect(json.map((h) => `${h.phase}/${h.action}`)).toEqual(['pre-jail/exec', 'pre-jail/exec', 'as-root/mount']);
    expect((await execa(LIEGE, ['hooks', 'check', '--ini', ini], { cwd: dir })).stdout).toBe('ok: 3 hooks valid');
    const bad = await execa(LIEGE, ['hooks', 'check', '--no-server', '--hook-asap', 'nope:1'], { reject: false });
    expect(bad.exitCode).toBe(1);
    expect(fs.existsSync(t)).toBe(false);
  });

  it('--print-config shows each value with its file:line', async () => {
    const ini = writeIni(dir, ['no-server = true', 'processes = 3', 'processes = %(x)', 'x = 7'], 'print.ini');
    const r = await execa(LIEGE, ['--ini', ini, '--print-config'], { cwd: dir });
    expect(r.stdout).toContain('processes = 7    # print.ini:4');
  });

  it('--help and --version exit 0', async () => {
    expect((await execa(LIEGE, ['--help'])).stdout).toMatch(/^usage: liege/);
    expect((await execa(LIEGE, ['--version'])).stdout).toMatch(/^liege \d/);
  });
});
