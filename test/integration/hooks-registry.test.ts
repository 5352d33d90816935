// The hook registry end to end: `liege hooks add|delete|list` on a scratch
// registry file, then real instances (`--no-server`) running the hooks.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as runner from '../../src/hooks/run';
import { LIEGE, scratch } from './helpers';

// escalated hooks answer through a socket: they need the promise-aware runner (issue 6)
const asyncRunner = 'runPhaseAsync' in runner;

interface Entry { id: string; kind: string; ref: string; category: string; event: string; stage: string; weight: number; action?: string }

function setup() {
  const dir = scratch();
  const db = path.join(dir, 'hooks.yaml');
  const log = path.join(dir, 'ran.log');
  // a recording script: appends "$TAG" (its first action word) to ran.log
  const rec = path.join(dir, 'rec.sh');
  fs.writeFileSync(rec, `#!/bin/sh\n[ "$1" = --describe ] && exit 1\necho "$1" >> ${log}\n[ "$2" = fail ] && exit 3\nexit 0\n`, { mode: 0o755 });
  const hooks = (args: string[], env: Record<string, string> = {}) => execa(LIEGE, ['hooks', ...args], { env: { LIEGE_HOOKS_DB: db, ...env }, reject: false });
  const ran = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
  const list = async () => {
    const r = await hooks(['list', '--output', 'json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout) as { hooks: Record<string, Record<string, Entry[]>> };
    return j.hooks;
  };
  return { dir, db, log, rec, hooks, ran, list };
}

describe('liege hooks add|delete|list', () => {
  it('weights 100, 200, 300, then 455 → 555; list grouped by category and event; delete by reference or id', async () => {
    const { rec, hooks, list, db } = setup();
    for (const tag of ['a', 'b', 'c']) expect((await hooks(['add', 'script', rec, '--event', 'as-user', '--action', tag])).exitCode).toBe(0);
    expect((await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'd', '--weight', '455'])).exitCode).toBe(0);
    const e = await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'e']);
    expect(e.stderr).toContain('has no describe');
    await hooks(['add', 'script', rec, '--category', 'Vassal', '--event', 'as-vassal', '--stage', 'post']);
    let l = await list();
    expect(l.Phase!['as-user']!.map((x) => [x.action, x.weight])).toEqual([['a', 100], ['b', 200], ['c', 300], ['d', 455], ['e', 555]]);
    expect(l.Vassal!['as-vassal']![0]).toMatchObject({ stage: 'post', weight: 100, kind: 'script', ref: rec });
    const human = await hooks(['list']);
    expect(human.stdout).toMatch(/Phase:\n {2}as-user:\n {4}pre {2}100 {2}script .*rec\.sh a/);
    expect(human.stdout).toContain('Vassal:\n  as-vassal:\n    post  100');
    // the same reference and descriptors remove exactly that entry
    expect((await hooks(['delete', 'script', rec, '--event', 'as-user', '--action', 'b'])).exitCode).toBe(0);
    l = await list();
    expect(l.Phase!['as-user']!.map((x) => x.action)).toEqual(['a', 'c', 'd', 'e']);
    const id = l.Phase!['as-user']![0]!.id;
    expect((await hooks(['delete', '--id', id])).stdout).toContain(`deleted ${id}`);
    const none = await hooks(['delete', 'script', rec, '--action', 'nope']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('no registered hook matches');
    // ids are stable: re-adding replaces, keeping the weight
    const before = fs.readFileSync(db, 'utf8');
    const again = await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'c']);
    expect(again.stdout).toMatch(/^replaced .* weight=300/);
    expect(fs.readFileSync(db, 'utf8')).toBe(before);
    // without descriptors, delete removes every entry of the script
    expect((await hooks(['delete', 'script', rec])).stdout.split('\n')).toHaveLength(4);
    expect(await list()).toEqual({});
  });

  it('a script describes itself with --describe; flags are then ignored with a warning', async () => {
    const { dir, hooks, list, db } = setup();
    const s = path.join(dir, 'described.sh');
    fs.writeFileSync(s, `#!/bin/sh\nif [ "$1" = --describe ]; then echo '[{"category":"Phase","event":"pre-app","stage":"post","weight":50},{"event":"as-root","check":"ok.sh","action":"x y"}]'; exit 0; fi\n`, { mode: 0o755 });
    const r = await hooks(['add', 'script', s, '--event', 'as-user']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('descriptor flags ignored');
    const l = await list();
    expect(l.Phase!['pre-app']![0]).toMatchObject({ stage: 'post', weight: 50 });
    expect(l.Phase!['as-root']![0]).toMatchObject({ stage: 'pre', weight: 100, check: 'ok.sh', action: 'x y' });
    expect(l.Phase!['as-user']).toBeUndefined();
    // a describe naming an unknown event is refused: nothing written
    const badS = path.join(dir, 'bad.sh');
    fs.writeFileSync(badS, `#!/bin/sh\necho '[{"event":"as-nobody"}]'\n`, { mode: 0o755 });
    const before = fs.readFileSync(db, 'utf8');
    const bad = await hooks(['add', 'script', badS]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('unknown Phase event `as-nobody`');
    expect(bad.stderr).not.toContain('    at ');
    expect(fs.readFileSync(db, 'utf8')).toBe(before);
  });

  it('a module describes itself with describe(); without it, the flags are used with a warning', async () => {
    const { dir, hooks, list } = setup();
    const m = path.join(dir, 'described.js');
    fs.writeFileSync(m, `exports.describe = async () => [{ event: 'post-app', action: 'run', rollback: 'undo' }, { category: 'Request', event: 'pre-route', action: 'auth' }];\nexports.run = () => {};\n`);
    expect((await hooks(['add', 'module', m])).exitCode).toBe(0);
    const plain = path.join(dir, 'plain.js');
    fs.writeFileSync(plain, 'module.exports = () => {};\n');
    const r = await hooks(['add', 'module', plain, '--event', 'as-user', '--stage', 'post']);
    expect(r.stderr).toContain('the module has no describe');
    const l = await list();
    expect(l.Phase!['post-app']![0]).toMatchObject({ kind: 'module', ref: m, action: 'run', rollback: 'undo' });
    expect(l.Request!['pre-route']![0]).toMatchObject({ kind: 'module', action: 'auth' });
    expect(l.Phase!['as-user']![0]).toMatchObject({ kind: 'module', ref: plain, stage: 'post' });
    // --manual: flags only, describe() never called
    const manual = await hooks(['add', 'module', m, '--manual', '--event', 'as-root', '--action', 'run']);
    expect(manual.stderr).toBe('');
    expect((await list()).Phase!['as-root']![0]).toMatchObject({ ref: m, action: 'run' });
    // a script cannot be a request hook
    const s = await hooks(['add', 'script', m, '--manual', '--event', 'pre-route']);
    expect(s.exitCode).toBe(1);
  });

  it('usage: --help, fullhelp, an invalid action, an unknown flag', async () => {
    const { hooks } = setup();
    const help = await hooks(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('liege hooks add script|module PATH');
    const full = await hooks(['fullhelp']);
    expect(full.stdout).toContain('--escalateprivs');
    expect(full.stdout).toContain('Request: connect, parsed-headers, pre-route');
    const bad = await hooks(['frobnicate']);
    expect(bad.exitCode).toBe(100);
    expect(bad.stderr).toContain('invalid action `frobnicate`');
    expect(bad.stderr).toContain('usage: liege hooks');
    const flag = await hooks(['add', 'script', '/bin/true', '--colour', 'red']);
    expect(flag.exitCode).toBe(100);
    expect(flag.stderr).toContain('unknown flag `--colour`');
  });

  it('concurrent adds all land (lock + atomic rename)', async () => {
    const { rec, hooks, list, db } = setup();
    await Promise.all(Array.from({ length: 8 }, (_, i) => hooks(['add', 'script', rec, '--manual', '--event', 'pre-app', '--action', `t${i}`])));
    const l = await list();
    expect(l.Phase!['pre-app']!.map((x) => x.action).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `t${i}`));
    expect(new Set(l.Phase!['pre-app']!.map((x) => x.weight)).size).toBe(8);
    expect(fs.readdirSync(path.dirname(db)).filter((n) => n.includes('.tmp') || n.endsWith('.lock'))).toEqual([]);
  });

  it('a hand-damaged registry is reported with its line and never half-applied', async () => {
    const { rec, hooks, db, dir, log } = setup();
    await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'a']);
    await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'b']);
    const good = fs.readFileSync(db, 'utf8');
    const lines = good.split('\n');
    const n = lines.findIndex((l, i) => i > lines.findIndex((x) => x.includes('action: a')) && l.includes('weight:'));
    lines[n] = '    weight: heavy';
    fs.writeFileSync(db, lines.join('\n'));
    const run = await execa(LIEGE, ['--no-server'], { env: { LIEGE_HOOKS_DB: db }, reject: false, cwd: dir });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain(`${db}:${n + 1}: \`weight\` must be an integer`);
    expect(fs.existsSync(log)).toBe(false); // no hook of the good entry ran
    const add = await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'c']);
    expect(add.exitCode).toBe(1);
    expect(fs.readFileSync(db, 'utf8')).toBe(lines.join('\n'));
    fs.writeFileSync(db, good.replace('hooks:', 'hooks: [\n'));
    const syntax = await hooks(['list']);
    expect(syntax.exitCode).toBe(1);
    expect(syntax.stderr).toMatch(new RegExp(`${db}:\\d+: unable to parse the hook registry`));
  });
});

describe('registry hooks in a running instance', () => {
  it('pre/post around the config hooks, by weight; checks skip; plan shows the sources; modules run', async () => {
    const { dir, rec, hooks, ran, log } = setup();
    const no = path.join(dir, 'no.sh');
    fs.writeFileSync(no, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const mod = path.join(dir, 'mod.js');
    fs.writeFileSync(mod, `exports.hook = async ({ event, stage }) => { await new Promise((r) => setTimeout(r, 20)); require('fs').appendFileSync(${JSON.stringify(log)}, 'module ' + event + ' ' + stage + '\\n'); };\nexports.no = () => false;\n`);
    await hooks(['add', 'script', rec, '--event', 'as-user', '--stage', 'post', '--action', 'post-200', '--weight', '200']);
    await hooks(['add', 'script', rec, '--event', 'as-user', '--stage', 'post', '--action', 'post-100', '--weight', '100']);
    await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'pre-1']);
    await hooks(['add', 'script', rec, '--event', 'as-user', '--action', 'skipped', '--check', 'no.sh']);
    await hooks(['add', 'module', mod, '--manual', '--event', 'as-user', '--action', 'hook']);
    await hooks(['add', 'module', mod, '--manual', '--event', 'pre-app', '--action', 'hook', '--check', 'no']);
    const env = { LIEGE_HOOKS_DB: path.join(dir, 'hooks.yaml') };
    const args = ['--no-server', '--exec-as-user', `echo config >> ${log}`];
    const plan = await execa(LIEGE, ['hooks', 'plan', ...args], { env });
    expect(plan.stdout).toMatch(/as-user:\n {2}1\. script:.*rec\.sh pre-1 {4}\(hooks-db, registry \w{10}\)\n {2}2\. script:.*skipped.*\n {2}3\. module:.*mod\.js hook.*\n {2}4\. exec:echo config.*\(exec-as-user, command line\)\n {2}5\. script:.*post-100.*\n {2}6\. script:.*post-200/);
    const r = await execa(LIEGE, args, { env, reject: false });
    expect(r.exitCode).toBe(0);
    expect(ran()).toEqual(['pre-1', 'module as-user pre', 'config', 'post-100', 'post-200']);
    expect(r.stderr).toMatch(/check returned non-zero, registry hook skipped phase=as-user .*check=no\.sh/);
    expect(r.stderr).toMatch(/check returned non-zero, registry hook skipped phase=pre-app .*check=no/);
  });

  it('a fatal failure runs the rollbacks of the hooks that already ran, last first, then exits 1', async () => {
    const { dir, rec, hooks, ran } = setup();
    const undo = path.join(dir, 'undo.sh');
    fs.writeFileSync(undo, `#!/bin/sh\necho "undo $1" >> ${path.join(dir, 'ran.log')}\n`, { mode: 0o755 });
    for (const t of ['one', 'two', 'three']) await hooks(['add', 'script', rec, '--event', 'pre-app', '--action', t, '--rollback', 'undo.sh']);
    await hooks(['add', 'script', rec, '--event', 'pre-app', '--action', 'four fail', '--rollback', 'undo.sh']);
    await hooks(['add', 'script', rec, '--event', 'pre-app', '--action', 'five']);
    const r = await execa(LIEGE, ['--no-server', '--exec-as-user-atexit', `echo atexit >> ${path.join(dir, 'ran.log')}`], { env: { LIEGE_HOOKS_DB: path.join(dir, 'hooks.yaml') }, reject: false });
    expect(r.exitCode).toBe(1);
    expect(ran()).toEqual(['one', 'two', 'three', 'four', 'undo three', 'undo two', 'undo one', 'atexit']);
    expect(r.stderr).toContain('FATAL hook failed');
  });

  it.skipIf(!asyncRunner)('escalated hooks run as uid 0 after the drop (privileged helper); a registry others can write is refused', async () => {
    const { dir, hooks, ran, log, db } = setup();
    const who = path.join(dir, 'who.sh');
    fs.writeFileSync(who, `#!/bin/sh\necho "$1 $(id -u)" >> ${log}\n`, { mode: 0o755 });
    fs.writeFileSync(log, '', { mode: 0o666 });
    fs.chmodSync(log, 0o666);
    await hooks(['add', 'script', who, '--manual', '--event', 'as-user', '--action', 'escalated', '--escalateprivs']);
    await hooks(['add', 'script', who, '--manual', '--event', 'as-user', '--action', 'plain']);
    await hooks(['add', 'script', who, '--manual', '--event', 'post-app', '--stage', 'post', '--action', 'later', '--escalateprivs']);
    const worker = await hooks(['add', 'script', who, '--manual', '--event', 'post-fork', '--escalateprivs']);
    expect(worker.stderr).toContain('escalateprivs hooks run in the master');
    const args = ['--no-server', '--uid', 'nobody', '--gid', 'nogroup', '--exec-as-user', `echo "config $(id -u)" >> ${log}`];
    const r = await execa(LIEGE, args, { env: { LIEGE_HOOKS_DB: db }, reject: false });
    expect(r.exitCode).toBe(0);
    expect(ran()).toEqual(['escalated 0', 'plain 65534', 'config 65534', 'later 0']);
    // a registry others could have written: the instance refuses to start, nothing runs
    fs.writeFileSync(log, '');
    fs.chmodSync(db, 0o666);
    const refused = await execa(LIEGE, args, { env: { LIEGE_HOOKS_DB: db }, reject: false });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`refusing to start: the hook registry has escalateprivs hooks and ${db} is writable by its group (mode 666)`);
    fs.chmodSync(db, 0o644);
    fs.chownSync(db, 65534, 65534);
    const owned = await execa(LIEGE, args, { env: { LIEGE_HOOKS_DB: db }, reject: false });
    expect(owned.exitCode).toBe(1);
    expect(owned.stderr).toContain('is owned by uid 65534, not root');
    expect(ran()).toEqual([]);
  });
});
