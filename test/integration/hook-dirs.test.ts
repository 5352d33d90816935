// Hook directories (run-parts per phase) and packaged hooks deployed into
// them with `liege hooks enable|disable`.
import { execa, execaSync } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIEGE, scratch } from './helpers';

const script = (file: string, body: string, mode = 0o755) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode });
};
const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n') : []);

describe('hook-dir', () => {
  it('runs the executables of DIR/<phase>/ in name order, with run-parts skips, between the config and registry post hooks', async () => {
    const d = scratch();
    const hd = path.join(d, 'hooks.d');
    const log = path.join(d, 'ran.log');
    for (const n of ['10-b', '02-a', 'Z-upper', '.hidden', 'old~', 'x.dpkg-old', 'y.rpmnew', 'z.rpmsave']) script(path.join(hd, 'as-user', n), `echo ${n} >> ${log}`);
    script(path.join(hd, 'as-user', 'not-exec'), `echo not-exec >> ${log}`, 0o644);
    fs.mkdirSync(path.join(hd, 'as-user', 'a-dir'));
    const rec = path.join(d, 'rec.sh');
    script(rec, `echo "$1" >> ${log}`);
    const db = path.join(d, 'hooks.json');
    const env = { LIEGE_HOOKS_DB: db };
    await execa(LIEGE, ['hooks', 'add', 'script', rec, '--manual', '--event', 'as-user', '--stage', 'post', '--action', 'registry-post'], { env });
    await execa(LIEGE, ['hooks', 'add', 'script', rec, '--manual', '--event', 'as-user', '--action', 'registry-pre'], { env });
    expect(JSON.parse(fs.readFileSync(db, 'utf8')).hooks).toHaveLength(2); // a .json registry is JSON
    const args = ['--no-server', '--hook-dir', hd, '--exec-as-user', `echo config >> ${log}`];
    const plan = await execa(LIEGE, ['hooks', 'plan', '--output', 'json', ...args], { env });
    const rows = (JSON.parse(plan.stdout) as Array<{ phase: string; source: string; at: string }>).filter((r) => r.phase === 'as-user');
    expect(rows.map((r) => r.source)).toEqual(['registry', 'config', 'hook-dir', 'hook-dir', 'hook-dir', 'registry']);
    expect(rows[2]!.at).toBe(path.join(hd, 'as-user', '02-a'));
    const r = await execa(LIEGE, args, { env, reject: false });
    expect(r.exitCode).toBe(0);
    expect(lines(log)).toEqual(['registry-pre', 'config', '02-a', '10-b', 'Z-upper', 'registry-post']);
  });

  it('follows the fatal policy: a failing executable stops the phase, atexit runs, exit 1; worker phases run in the workers', async () => {
    const d = scratch();
    const hd = path.join(d, 'hooks.d');
    const log = path.join(d, 'ran.log');
    script(path.join(hd, 'pre-app', '01-ok'), `echo 01-ok >> ${log}`);
    script(path.join(hd, 'pre-app', '02-fail'), 'exit 7');
    script(path.join(hd, 'pre-app', '03-never'), `echo 03-never >> ${log}`);
    script(path.join(hd, 'as-user-atexit', 'bye'), `echo bye >> ${log}; exit 1`);
    const r = await execa(LIEGE, ['--no-server', '--hook-dir', hd], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(lines(log)).toEqual(['01-ok', 'bye']);
    expect(r.stderr).toContain(`FATAL hook failed, destroying instance phase=pre-app action=hook-dir hook=hook-dir:${path.join(hd, 'pre-app', '02-fail')}`);
    // a worker phase
    fs.rmSync(path.join(hd, 'pre-app'), { recursive: true });
    script(path.join(hd, 'accepting', 'ready'), `echo "accepting $PPID" >> ${log}; exit 3`);
    const w = await execa(LIEGE, ['--http-socket', '127.0.0.1:0', '--hook-dir', hd], { reject: false, timeout: 20_000 });
    expect(w.exitCode).toBe(1);
    expect(lines(log).filter((l) => l.startsWith('accepting'))).toHaveLength(1);
  });
});

describe('liege hooks enable|disable', () => {
  function bundle(d: string, name: string, files: Record<string, string>): string {
    const root = path.join(d, `src-${name}`);
    for (const [f, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), body, { mode: f.startsWith('bin/') ? 0o755 : 0o644 });
    }
    const tgz = path.join(d, name);
    execaSync('tar', ['czf', tgz, '-C', root, '.']);
    return tgz;
  }

  it('deploys under <state>/hooks/<event>/<name>/<version>, switches current, links the launch scripts; disable removes them', async () => {
    const d = scratch();
    const hd = path.join(d, 'hooks.d');
    const state = path.join(d, 'state');
    const log = path.join(d, 'ran.log');
    const v1 = bundle(d, 'warm-v1.tgz', {
      'package.json': JSON.stringify({ name: 'warm', version: '1.0.0' }),
      'bin/launch/a': `#!/bin/sh\necho "a1 $(basename $(dirname $(dirname $(dirname $(readlink -f $0)))))" >> ${log}\n`,
      'bin/launch/b': `#!/bin/sh\necho b1 >> ${log}\n`,
    });
    const en = await execa(LIEGE, ['hooks', 'enable', v1, 'as-user', '--hook-dir', hd, '--state', state], { reject: false });
    expect(en.stderr).toBe('');
    expect(en.stdout).toContain('enabled warm 1.0.0 for as-user');
    expect(fs.readlinkSync(path.join(state, 'hooks/as-user/warm/current'))).toBe('1.0.0');
    expect(fs.readdirSync(path.join(hd, 'as-user')).sort()).toEqual(['warm_a', 'warm_b']);
    await execa(LIEGE, ['--no-server', '--hook-dir', hd]);
    expect(lines(log)).toEqual(['a1 1.0.0', 'b1']);
    // a new version with only `a` (a single bin/launch is named `launch`): b's link goes
    const v2 = bundle(d, 'warm-2.0.0.tar.gz', { 'bin/launch/a': `#!/bin/sh\necho a2 >> ${log}\n` });
    await execa(LIEGE, ['hooks', 'enable', v2, 'as-user', '--hook-dir', hd, '--state', state]);
    expect(fs.readlinkSync(path.join(state, 'hooks/as-user/warm/current'))).toBe('2.0.0');
    expect(fs.readdirSync(path.join(hd, 'as-user'))).toEqual(['warm_a']);
    const solo = bundle(d, 'solo-0.1.tgz', { 'bin/launch': `#!/bin/sh\necho solo >> ${log}\n` });
    await execa(LIEGE, ['hooks', 'enable', solo, 'as-user', '--hook-dir', hd, '--state', state]);
    fs.writeFileSync(log, '');
    await execa(LIEGE, ['--no-server', '--hook-dir', hd]);
    expect(lines(log)).toEqual(['solo', 'a2']);
    const list = JSON.parse((await execa(LIEGE, ['hooks', 'list', '--output', 'json', '--hook-dir', hd, '--state', state], { env: { LIEGE_HOOKS_DB: path.join(d, 'none.yaml') } })).stdout) as { deployed: Array<{ name: string; version: string; links: string[] }> };
    expect(list.deployed.map((x) => `${x.name} ${x.version} ${x.links.length}`)).toEqual(['solo 0.1 1', 'warm 2.0.0 1']);
    const dis = await execa(LIEGE, ['hooks', 'disable', 'warm', 'as-user', '--hook-dir', hd, '--state', state]);
    expect(dis.stdout).toContain('disabled warm for as-user');
    expect(fs.readdirSync(path.join(hd, 'as-user'))).toEqual(['solo_launch']);
    expect(fs.existsSync(path.join(state, 'hooks/as-user/warm'))).toBe(false);
  });

  it('refuses a bundle without bin/launch, an unknown phase, and leaves nothing behind', async () => {
    const d = scratch();
    const hd = path.join(d, 'hooks.d');
    const state = path.join(d, 'state');
    const empty = bundle(d, 'empty-1.0.tgz', { 'README': 'no launch here\n' });
    const r = await execa(LIEGE, ['hooks', 'enable', empty, 'as-user', '--hook-dir', hd, '--state', state], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('has no bin/launch script nor bin/launch/ directory');
    expect(fs.readdirSync(path.join(state, 'hooks', 'as-user'))).toEqual([]);
    expect(fs.existsSync(hd)).toBe(false);
    const p = await execa(LIEGE, ['hooks', 'enable', empty, 'as-nobody', '--hook-dir', hd, '--state', state], { reject: false });
    expect(p.exitCode).toBe(100);
    expect(p.stderr).toContain('unknown phase `as-nobody`');
    const nothing = await execa(LIEGE, ['hooks', 'disable', 'ghost', 'as-user', '--hook-dir', hd, '--state', state], { reject: false });
    expect(nothing.exitCode).toBe(1);
    expect(nothing.stderr).toContain('no hook `ghost` is deployed for as-user');
  });
});
