// Bundles without an emperor: pack validation, install/refresh hooks and
// where they run, safe unpacking (traversal, links out, devices), keep and
// revert bookkeeping, settings through the configure hook and `liege ctl`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, killGroup, runLiege, scratch, startLiege, until } from './helpers';
import { bundleCmd, bundleDir, packBundle } from './bundle-helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const read = (f: string) => fs.readFileSync(f, 'utf8');

describe('liege pack', () => {
  it('refuses an unknown hook name, a hook that is not executable, a bad ini, no package.json', async () => {
    const root = bundleDir(dir, 'bad', { version: '1', hooks: { 'post-install': 'true' } });
    let r = await runLiege(['pack', root, '-o', path.join(dir, 'x.tgz')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('unknown bundle hook meta/hooks/post-install');
    expect(r.stderr).toContain('one of install, pre-refresh, post-refresh, configure, remove');
    expect(fs.existsSync(path.join(dir, 'x.tgz'))).toBe(false);

    fs.rmSync(path.join(root, 'meta', 'hooks', 'post-install'));
    fs.writeFileSync(path.join(root, 'meta', 'hooks', 'install'), '#!/bin/sh\n', { mode: 0o644 });
    r = await runLiege(['pack', root, '-o', path.join(dir, 'x.tgz')]);
    expect(r.stderr).toContain('meta/hooks/install is not executable');

    fs.rmSync(path.join(root, 'meta', 'hooks', 'install'));
    fs.appendFileSync(path.join(root, 'meta', 'liege.ini'), 'procesess = 4\n');
    r = await runLiege(['pack', root, '-o', path.join(dir, 'x.tgz')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/meta\/liege\.ini:4: unknown option `procesess` \(did you mean `processes`\?\)/);

    fs.rmSync(path.join(root, 'package.json'));
    r = await runLiege(['pack', root]);
    expect(r.stderr).toContain('package.json');
    expect(r.stderr).not.toContain('    at ');
  });

  it('refuses a symlink that points out of the tree', async () => {
    const root = bundleDir(dir, 'lnk', { version: '1' });
    fs.symlinkSync('/etc/passwd', path.join(root, 'passwd'));
    const r = await runLiege(['pack', root, '-o', path.join(dir, 'lnk.tgz')]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('"./passwd" is a symlink to "/etc/passwd" outside the bundle');
    expect(fs.existsSync(path.join(dir, 'lnk.tgz'))).toBe(false);
  });
});

describe('liege install (no emperor: --no-wait)', () => {
  const state = path.join(dir, 'state');

  it('refuses traversal, links out and device files, writing nothing', async () => {
    const evil = path.join(dir, 'evil');
    fs.mkdirSync(evil);
    fs.writeFileSync(path.join(evil, 'f'), 'x');
    const tgz = (name: string, args: string[]) => {
      execFileSync('tar', ['czf', path.join(dir, name), '-P', ...args], { cwd: evil, stdio: 'ignore' });
      return path.join(dir, name);
    };
    const cases: Array<[string, string]> = [
      [tgz('dotdot.tgz', ['--transform', 's,^f$,../../escaped,', 'f']), 'has a `..` component'],
      [tgz('abs.tgz', ['--transform', 's,^f$,/tmp/escaped,', 'f']), 'is an absolute path'],
    ];
    fs.symlinkSync('/etc', path.join(evil, 'etc'));
    cases.push([tgz('link.tgz', ['etc']), 'is a symlink to "/etc" outside the bundle']);
    fs.rmSync(path.join(evil, 'etc'));
    fs.symlinkSync('.', path.join(evil, 'here'));
    cases.push([tgz('through.tgz', ['here', '--transform', 's,^f$,here/f,', 'f']), 'is written through a symlink']);
    execFileSync('mknod', [path.join(evil, 'null'), 'c', '1', '3']);
    cases.push([tgz('dev.tgz', ['null']), 'is a CharacterDevice']);
    for (const [file, why] of cases) {
      const r = await bundleCmd(state, ['install', file, '--no-wait', '--name', 'evil']);
      expect(r.exitCode, file).toBe(1);
      expect(r.stderr).toContain(why);
      expect(r.stderr).not.toContain('    at ');
    }
    expect(fs.existsSync(path.join(state, 'bundles', 'evil'))).toBe(false);
    expect(fs.readdirSync(path.join(state, 'bundles'))).toEqual([]);
    expect(fs.existsSync('/tmp/escaped')).toBe(false);
  });

  it('runs install, then pre-refresh (old) and post-refresh (new), confined; keeps bundle-keep versions; reverts', async () => {
    const trace = path.join(dir, 'trace');
    fs.writeFileSync(trace, '');
    fs.chmodSync(trace, 0o666);
    const log = (hook: string) => `echo "${hook} $LIEGE_BUNDLE_NAME $LIEGE_BUNDLE_VERSION $(id -un) $PWD $LIEGE_BUNDLE_DATA" >> ${trace}; touch $LIEGE_BUNDLE_DATA/${hook}-$LIEGE_BUNDLE_VERSION`;
    const hooks = { install: log('install'), 'pre-refresh': log('pre-refresh'), 'post-refresh': log('post-refresh') };
    const ini = ['http-socket = 127.0.0.1:0', 'node-app = %(bundle)/app.js', 'uid = nobody', 'gid = nogroup'];
    const bdir = path.join(state, 'bundles', 'web');
    const data = path.join(bdir, 'data');
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      const r = await bundleCmd(state, ['install', await packBundle(dir, bundleDir(dir, 'site', { version: v, ini, hooks })), '--name', 'web', '--no-wait']);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(fs.readlinkSync(path.join(bdir, 'current'))).toBe(v);
    }
    expect(read(trace).trim().split('\n')).toEqual([
      `install web 1.0.0 nobody ${bdir}/1.0.0 ${data}`,
      `pre-refresh web 1.0.0 nobody ${bdir}/1.0.0 ${data}`,
      `post-refresh web 1.1.0 nobody ${bdir}/1.1.0 ${data}`,
      `pre-refresh web 1.1.0 nobody ${bdir}/1.1.0 ${data}`,
      `post-refresh web 1.2.0 nobody ${bdir}/1.2.0 ${data}`,
      `pre-refresh web 1.2.0 nobody ${bdir}/1.2.0 ${data}`,
      `post-refresh web 1.3.0 nobody ${bdir}/1.3.0 ${data}`,
    ]);
    // the data dir is kept across versions and belongs to the instance user
    expect(fs.readdirSync(data).sort()).toEqual(['install-1.0.0', 'post-refresh-1.1.0', 'post-refresh-1.2.0', 'post-refresh-1.3.0', 'pre-refresh-1.0.0', 'pre-refresh-1.1.0', 'pre-refresh-1.2.0']);
    // bundle-keep = 2: 1.0.0 is gone
    expect(fs.readdirSync(bdir).filter((n) => /^\d/.test(n)).sort()).toEqual(['1.1.0', '1.2.0', '1.3.0']);
    const vassal = read(path.join(state, 'bundles', 'web.ini'));
    expect(vassal).toContain(`set-placeholder = bundle=${bdir}/1.3.0`);
    expect(vassal).toContain(`ini = ${bdir}/1.3.0/meta/liege.ini`);

    let r = await bundleCmd(state, ['revert', 'web', '--no-wait']);
    expect(r.stdout).toContain('reverted web from 1.3.0 to 1.2.0');
    expect(read(path.join(state, 'bundles', 'web.ini'))).toContain(`ini = ${bdir}/1.2.0/meta/liege.ini`);
    r = await bundleCmd(state, ['revert', 'web', '--no-wait']);
    expect(fs.readlinkSync(path.join(bdir, 'current'))).toBe('1.1.0');
    r = await bundleCmd(state, ['revert', 'web', '--no-wait']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('web has no older version to revert to');

    // a failing post-refresh: nothing switched, the new version's files gone
    const bad = await packBundle(dir, bundleDir(dir, 'site', { version: '2.0.0', ini, hooks: { 'post-refresh': 'echo cannot migrate >&2; exit 3' } }));
    r = await bundleCmd(state, ['install', bad, '--name', 'web', '--no-wait']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the post-refresh hook of web 2.0.0 failed (exited 3):\ncannot migrate');
    expect(fs.readlinkSync(path.join(bdir, 'current'))).toBe('1.1.0');
    expect(fs.existsSync(path.join(bdir, '2.0.0'))).toBe(false);

    r = await bundleCmd(state, ['remove', 'web']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.existsSync(bdir)).toBe(false);
    expect(fs.existsSync(path.join(state, 'bundles', 'web.ini'))).toBe(false);
  });

  it('hooks get the instance\'s jail options: unshare, umask, uid/gid', async () => {
    const ini = ['http-socket = 127.0.0.1:0', 'node-app = %(bundle)/app.js', 'uid = nobody', 'gid = nogroup', 'unshare = uts', 'umask = 027'];
    const b = await packBundle(dir, bundleDir(dir, 'jailed', { version: '1', ini, hooks: { install: 'echo "$(readlink /proc/self/ns/uts) $(umask) $(id -un) $(pwd)" > $LIEGE_BUNDLE_DATA/seen' } }));
    const r = await bundleCmd(state, ['install', b, '--no-wait']);
    expect(r.exitCode, r.stderr).toBe(0);
    const [uts, umask, user, cwd] = read(path.join(state, 'bundles', 'jailed', 'data', 'seen')).trim().split(' ');
    expect(uts).toMatch(/^uts:\[\d+\]$/);
    expect(uts).not.toBe(fs.readlinkSync('/proc/self/ns/uts'));
    expect(umask).toBe('0027');
    expect(user).toBe('nobody');
    expect(cwd).toBe(path.join(state, 'bundles', 'jailed', '1'));
  });

  it('kill -9 of liege install in a hook: the hook dies, nothing switched, the next install goes through', async () => {
    const first = await packBundle(dir, bundleDir(dir, 'k9', { version: '1' }));
    expect((await bundleCmd(state, ['install', first, '--no-wait'])).exitCode).toBe(0);
    const slow = await packBundle(dir, bundleDir(dir, 'k9', { version: '2', hooks: { 'post-refresh': 'echo $$ > $LIEGE_BUNDLE_DATA/hook.pid; exec sleep 60' } }));
    const p = startLiege(['install', slow, '--no-wait'], { env: { LIEGE_STATE_DIR: state } });
    started.push(p);
    const pidFile = path.join(state, 'bundles', 'k9', 'data', 'hook.pid');
    const hookPid = await until(() => (fs.existsSync(pidFile) && read(pidFile).trim() ? Number(read(pidFile)) : undefined));
    process.kill(p.pid!, 'SIGKILL');
    await p;
    await until(() => !alive(hookPid) || undefined);
    expect(fs.readlinkSync(path.join(state, 'bundles', 'k9', 'current'))).toBe('1');
    expect(fs.readdirSync(path.join(state, 'bundles')).some((n) => n.startsWith('.incoming-'))).toBe(false); // renamed into place already
    expect(fs.existsSync(path.join(state, 'bundles', 'k9', '.lock'))).toBe(true); // stale
    const fixed = await packBundle(dir, bundleDir(dir, 'k9', { version: '2' }));
    const r = await bundleCmd(state, ['install', fixed, '--no-wait']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.readlinkSync(path.join(state, 'bundles', 'k9', 'current'))).toBe('2');
    expect(fs.existsSync(path.join(state, 'bundles', 'k9', '.lock'))).toBe(false);
  });

  it('a failing install hook leaves nothing installed', async () => {
    const b = await packBundle(dir, bundleDir(dir, 'nope', { version: '1', hooks: { install: 'echo no way; exit 1' } }));
    const r = await bundleCmd(state, ['install', b, '--no-wait']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('the install hook of nope 1 failed (exited 1):\nno way');
    expect(fs.existsSync(path.join(state, 'bundles', 'nope'))).toBe(false);
    expect(fs.existsSync(path.join(state, 'bundles', 'nope.ini'))).toBe(false);
  });
});

describe('settings', () => {
  const state = path.join(dir, 'state-settings');

  it('set goes through the configure hook: accepted, refused (old settings intact), unset; ctl only inside the hook', async () => {
    // refuses a port below 1024, logs what it saw through ctl
    const configure = [
      'echo "all=$(liege ctl get)"',
      'port=$(liege ctl get port 2>/dev/null || echo none)',
      'echo "port=$port"',
      'if [ "$port" != none ] && [ "$port" -lt 1024 ]; then echo "port $port is privileged" >&2; exit 1; fi',
      'liege ctl set touched=true',
    ].join('\n');
    const b = await packBundle(dir, bundleDir(dir, 'cfg', { version: '1', hooks: { configure } }));
    let r = await bundleCmd(state, ['install', b, '--no-wait']);
    expect(r.exitCode, r.stderr).toBe(0);
    r = await bundleCmd(state, ['set', 'cfg', 'port=8080', 'db.host=db1', 'db.opts={"ssl":true}', 'name=plain text']);
    expect(r.exitCode, r.stderr).toBe(0);
    r = await bundleCmd(state, ['get', 'cfg']);
    expect(JSON.parse(r.stdout)).toEqual({ touched: true, port: 8080, db: { host: 'db1', opts: { ssl: true } }, name: 'plain text' });
    expect((await bundleCmd(state, ['get', 'cfg', 'db.host'])).stdout.trim()).toBe('db1');
    expect((await bundleCmd(state, ['get', 'cfg', 'db.opts'])).stdout.trim()).toBe('{"ssl":true}');

    r = await bundleCmd(state, ['set', 'cfg', 'port=80', 'db.host=db2']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('refused the settings (exited 1)');
    expect(r.stderr).toContain('port=80');
    expect(r.stderr).toContain('port 80 is privileged');
    expect(r.stderr).toContain('"db":{"host":"db2"');
    expect((await bundleCmd(state, ['get', 'cfg', 'port'])).stdout.trim()).toBe('8080');
    expect((await bundleCmd(state, ['get', 'cfg', 'db.host'])).stdout.trim()).toBe('db1');

    const vassal = read(path.join(state, 'bundles', 'cfg.ini'));
    expect(vassal).toContain('set-placeholder = config.port=8080');
    expect(vassal).toContain('set-placeholder = config.db.opts.ssl=true');
    expect(vassal).toContain('env = LIEGE_CONFIG_DB_HOST=db1');

    r = await bundleCmd(state, ['unset', 'cfg', 'db']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await bundleCmd(state, ['get', 'cfg', 'db'])).exitCode).toBe(1);

    r = await bundleCmd(state, ['set', 'cfg', 'bad key=1']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('bad setting key: `bad key`');

    r = await bundleCmd(state, ['ctl', 'get']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('liege ctl works only inside a bundle configure hook (outside one, the applied settings: liege get NAME [KEY])');
    // nothing of the channel is left behind (a `liege set` of a test running beside may have one open)
    expect(fs.readdirSync('/tmp').filter((n) => /^liege-ctl-\d+-/.test(n) && !alive(Number(n.split('-')[2])))).toEqual([]);
  });
});
