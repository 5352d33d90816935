// What a new user, coming from uWSGI, PM2 or systemd, meets first: help
// lookups (`liege --help harakiri`, `liege top --help`), a config migrated
// from uWSGI (its `--http`, `module`, `wsgi-file`, `protocol = http`: said
// what to use instead, or honoured; sockets and no node-app; a file that
// forgot `[uwsgi]`), PM2 habits (`liege app.js`, `liege start`, `-p %k`),
// a start by another user than root, the config's warnings once per
// reload, and a bundle installed before any emperor runs.
import { execa, type ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bundleCmd, bundleDir, packBundle } from './bundle-helpers';
import { FIXTURES, freePort, get, getUnix, killGroup, LIEGE, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');

describe('help lookups', () => {
  it('`liege --help WORD` lists the options whose name has WORD (before: "unable to read config harakiri")', async () => {
    const r = await runLiege(['--help', 'harakiri']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ {2}master:\n {4}-t, --harakiri VALUE +seconds a request may run/);
    expect(r.stdout).toMatch(/--harakiri-verbose/);
    expect(r.stdout).not.toMatch(/--processes|usage:/);
    const h = await runLiege(['help', '--max-requests']);
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/--max-requests VALUE/);
  });

  it('puts the option of that very name first, with what liege has instead when it ignores it', async () => {
    const r = await runLiege(['--help', 'http']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2).join('\n')).toMatch(/uwsgi \(ignored\):\n {4}--http VALUE .*use `http-socket = ADDR`/);
  });

  it('a word no option has: exit 1, said, with the closest name', async () => {
    const r = await runLiege(['--help', 'proceses']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no option has `proceses` in its name \(did you mean `processes`\?\)/);
  });

  it('`liege CMD --help` prints CMD\'s usage and exits 0 (before: an error for top, ctl, attach, etcd, install …)', async () => {
    for (const cmd of ['top', 'attach', 'ctl', 'etcd', 'pack', 'install', 'set', '--stop']) {
      const r = await runLiege([cmd, '--help']);
      expect(r.exitCode, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^usage: liege ${cmd} `));
    }
  });

  it('`liege hooks ACTION --help` prints the hooks usage (before: add said "unknown flag", plan printed a plan)', async () => {
    for (const action of ['add', 'plan', 'enable']) {
      const r = await runLiege(['hooks', action, '--help']);
      expect(r.exitCode, action).toBe(0);
      expect(r.stdout, action).toMatch(/^usage: liege hooks ACTION/);
    }
  });

  it('`liege hooks add script PATH` of a plain script (no describe, no flags) says --event is missing (before: "bad descriptor flags: `event`: …")', async () => {
    const script = path.join(dir, 'warm');
    fs.writeFileSync(script, '#!/bin/sh\necho warm\n', { mode: 0o755 });
    const r = await runLiege(['hooks', 'add', 'script', script], { env: { LIEGE_HOOKS_DB: path.join(dir, 'hooks.yaml') } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/missing --event: a script registered with flags \(it has no describe, or --manual\) needs the event it runs at: .*\(expected --event PHASE \(asap, as-root/);
  });

  it('`liege bundle VERB` is `liege VERB` (as snap or helm users type it); bare, it lists the verbs', async () => {
    const r = await runLiege(['bundle', 'get', 'nosuch'], { env: { LIEGE_STATE_DIR: path.join(dir, 'nostate') } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no bundle nosuch is installed/);
    const bare = await runLiege(['bundle']);
    expect(bare.exitCode).toBe(1);
    expect(bare.stderr).toMatch(/^usage: liege bundle VERB … \(or liege VERB …\)\n {2}liege pack DIR/);
    const help = await runLiege(['bundle', 'install', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^usage: liege install BUNDLE\.tar\.gz/);
  });

  it('the first `liege hooks add` on a host creates the registry\'s directory (before: "unable to lock …/hooks.yaml.lock: ENOENT")', async () => {
    const script = path.join(dir, 'warm2');
    fs.writeFileSync(script, '#!/bin/sh\necho warm\n', { mode: 0o755 });
    const db = path.join(dir, 'etc-liege', 'hooks.yaml');
    const r = await runLiege(['hooks', 'add', 'script', script, '--event', 'pre-app'], { env: { LIEGE_HOOKS_DB: db } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(fs.readFileSync(db, 'utf8')).toContain(script);
  });

  it('the full help names each group once (help and version were a second `config:`)', async () => {
    const r = await runLiege(['--help']);
    expect(r.stdout.match(/^ {2}config:$/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/liege top ADDR/);
  });
});

describe('a config migrated from uWSGI', () => {
  it('an ignored option that leaves no socket or no app says what to use instead', async () => {
    const r = await runLiege(['--master', '--http', ':9090', '--wsgi-file', 'app.py', '--plugins', 'python3']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/ignored: no HTTP router process in front of the workers: use `http-socket = ADDR`.* option=http /);
    expect(r.stderr).toMatch(/ignored: the app is a Node module: `node-app = app.js`.* option=wsgi-file /);
    expect(r.stderr).toMatch(/ignored: no plugins: Node is built in.* option=plugins /);
  });

  it('sockets and no node-app: said at load; with need-app, exit 22 before anything starts', async () => {
    const port = await freePort();
    const ini = writeIni(dir, [`http-socket = 127.0.0.1:${port}`, 'module = app:application', 'need-app = true'], 'need.ini');
    const r = await runLiege([ini]);
    expect(r.exitCode).toBe(22);
    expect(r.stderr).toMatch(/need\.ini:4: no app to load: need-app and no node-app \(exit 22\)/);
    expect(r.stderr).not.toMatch(/worker spawned/);
    const p = startLiege(['--http-socket', `127.0.0.1:${port}`]);
    started.push(p);
    expect(await until(() => get(port))).toMatchObject({ status: 503 });
    killGroup(p);
    expect(String((await p).stderr)).toMatch(/WARN no node-app: the workers answer every request with 503/);
  });

  it('`socket` + `protocol = http` speaks HTTP (before: ignored, the port spoke uwsgi to HTTP clients); fastcgi is refused', async () => {
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', `socket = 127.0.0.1:${port}`, 'protocol = http', `node-app = ${app}`], 'proto.ini');
    const p = startLiege([ini]);
    started.push(p);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    const r = await runLiege(['--socket', '127.0.0.1:1', '--protocol', 'fastcgi', '--node-app', app]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad value for `protocol`: `--protocol fastcgi` \(expected uwsgi, http or http11/);
  });

  it('`liege app.js` (as `node app.js`) and `liege start app.js` (as PM2) say how an app is served', async () => {
    for (const file of ['app.js', 'app.mjs', 'server.ts']) {
      const r = await runLiege([file]);
      expect(r.exitCode, file).toBe(1);
      expect(r.stderr, file).toContain(`liege reads INI configs only: \`${file}\` (expected a .ini file; a Node app is served with node-app: \`liege --master -p 2 --http-socket :8080 --node-app ${file}\`)`);
    }
    const r = await runLiege(['start', 'app.js'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/`start` is no liege command and no config file: .*liege runs in the foreground.*liege --reload\|--stop\|--chain-reload PIDFILE/);
  });

  it('`processes = %k` (PM2\'s -i max) works in a file; on the command line the error says magic variables are a file\'s', async () => {
    const ini = writeIni(dir, ['processes = %k', 'no-server = true'], 'k.ini');
    const ok = await runLiege(['--print-config', ini]);
    expect(ok.stdout).toMatch(new RegExp(`^processes = ${os.cpus().length} `, 'm'));
    const r = await runLiege(['--no-server', '-p', '%k']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('bad value for `processes`: `-p %k` (expected an integer from 0 to 4096; magic variables such as %k are expanded in config files only)');
  });

  it('an inline comment (`processes = 4  # four`, which uWSGI\'s INI does not read either) is named in the error', async () => {
    const ini = writeIni(dir, ['processes = 4  # four workers', 'no-server = true'], 'comment.ini');
    const r = await runLiege([ini]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('comment.ini:2: bad value for `processes`: `processes = 4  # four workers` (expected an integer from 0 to 4096; a comment goes on a line of its own (an INI value runs to the end of its line))');
  });

  it('processes = 0 with sockets is said at load (uWSGI\'s no-workers mode: clients wait in the backlog)', async () => {
    const r = await runLiege(['--master', '-p', '0', '--http-socket', '127.0.0.1:1', '--node-app', app, '--print-config']);
    expect(r.stderr).toMatch(/WARN processes = 0: no worker accepts on the sockets, their clients wait in the backlog .* at="command line: -p 0"/);
  });

  it('a relative include found beside the including file, not in the start directory, says %d (uWSGI reads it from the start directory)', async () => {
    fs.mkdirSync(path.join(dir, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'conf', 'common.ini'), '[uwsgi]\nprocesses = 3\n');
    fs.writeFileSync(path.join(dir, 'conf', 'app.ini'), '[uwsgi]\ninclude = common.ini\nno-server = true\n');
    const r = await runLiege(['conf/app.ini'], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`conf/app.ini:2: no common.ini in the start directory (${dir}): a relative include is read from there, as under uWSGI, not beside conf/app.ini: \`common.ini\` (expected \`%dcommon.ini\` (%d: the directory of this config file))`);
  });

  it('a port without its colon says what to write (uWSGI took `8080` for a unix socket file); a name without one is a unix socket in the start directory, as under uWSGI', async () => {
    const port = await runLiege(['--no-server', '--http-socket', '8080']);
    expect(port.exitCode).toBe(1);
    expect(port.stderr).toContain('bad value for `http-socket`: `--http-socket 8080` (expected :8080 (a port needs its colon: every interface; or 127.0.0.1:8080), or a unix socket path)');
    const p = startLiege(['--master', '-p', '1', '--http-socket', 'app.sock', '--node-app', path.join(FIXTURES, 'apps', 'handler.js'), '--vacuum'], { cwd: dir });
    started.push(p);
    const sock = path.join(dir, 'app.sock');
    expect(await until(() => getUnix(sock))).toBeGreaterThan(0); // a worker answered
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(fs.existsSync(sock)).toBe(false); // vacuum found it where it was made
  });

  it('a file without its [uwsgi] line says that its lines are not read, or which sections it has', async () => {
    const f = path.join(dir, 'nosection.ini');
    fs.writeFileSync(f, '; migrated\nhttp-socket = 127.0.0.1:1\nnode-app = app.js\n');
    const r = await runLiege([f]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/section not found in config file: its 2 lines before any section header are not read \(put `\[uwsgi\]` at the top\)/);
    fs.writeFileSync(f, '[production]\nhttp-socket = 127.0.0.1:1\n[staging]\nprocesses = 2\n');
    const named = await runLiege([f], { cwd: dir });
    expect(named.stderr).toMatch(/section not found in config file: it has \[production\], \[staging\] \(`--ini nosection\.ini:production` reads one\)/);
  });

  it('a reload says the config\'s warnings once, as the start did (before: twice, the check and the new image)', async () => {
    const port = await freePort();
    const ini = writeIni(dir, ['master = true', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`, 'memory-report = true'], 'reload.ini');
    const p = startLiege([ini]);
    started.push(p);
    let log = '';
    p.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    await until(() => get(port));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(log) ? true : undefined), 30_000);
    expect(log.match(/ignored: the stats server .* option=memory-report/g)).toHaveLength(2);
  }, 45_000);
});

describe('started by a user other than root', () => {
  const asNobody = (args: string[]) => execa('runuser', ['-u', 'nobody', '--', LIEGE, ...args], { cwd: dir, reject: false, timeout: 30_000, stdin: 'ignore', env: { TEST_LIEGE: '1' } });

  it('a uid, gid or chroot it cannot apply is refused before anything runs, as uWSGI does (before: ignored in silence)', async () => {
    const r = await asNobody(['--no-server', '--uid', 'www-data', '--hook-asap', 'exec:echo ASAP-RAN']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot setuid\(\) as a non-root user \(liege runs as uid 65534\): `--uid www-data` \(expected a start as root, or no `uid`\)/);
    expect(r.stdout + r.stderr).not.toMatch(/ASAP-RAN/);
    expect((await asNobody(['--no-server', '--chroot', '/tmp'])).stderr).toMatch(/cannot chroot\(\) as a non-root user/);
  });

  it('bundle commands on a state dir or an output it may not write say so (before: internal error, EACCES)', async () => {
    const archive = await packBundle(dir, bundleDir(dir, 'mine', { version: '1.0.0' }));
    fs.chmodSync(archive, 0o644);
    const state = path.join(dir, 'root-state');
    fs.mkdirSync(path.join(state, 'bundles'), { recursive: true, mode: 0o755 });
    const r = await asNobody(['install', archive, '--state-dir', state, '--no-wait']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`liege: unable to write the state directory ${state}/bundles: EACCES`);
    expect(r.stderr).toContain('(expected a state directory this user may write: run as root, or --state-dir DIR (LIEGE_STATE_DIR))');
    const src = bundleDir(dir, 'mine2', { version: '1.0.0' });
    for (const f of [src, path.join(src, 'meta'), path.join(src, 'meta', 'hooks')]) fs.chmodSync(f, 0o755);
    const p = await asNobody(['pack', src, '-o', path.join(state, 'mine2.tar.gz')]);
    expect(p.exitCode).toBe(1);
    expect(p.stderr).toContain(`liege: unable to write ${state}/mine2.tar.gz: EACCES`);
    expect(p.stderr).not.toMatch(/internal error/);
  });

  it('its own uid is fine; the as-root and as-user hooks it skips are said', async () => {
    const r = await asNobody(['--no-server', '--uid', 'nobody', '--hook-as-user', 'exec:echo AS-USER-RAN', '--hook-asap', 'exec:echo ASAP-RAN']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ASAP-RAN/);
    expect(r.stdout).not.toMatch(/AS-USER-RAN/);
    expect(r.stderr).toMatch(/WARN not root: the as-root and as-user hooks are skipped \(as under uWSGI\) uid=65534 hooks=1/);
  });
});

describe('a bundle installed before any emperor runs', () => {
  it('says that no instance runs and how to start one, while waiting and when it gives up', async () => {
    const state = path.join(dir, 'state');
    const archive = await packBundle(dir, bundleDir(dir, 'early', { version: '1.0.0' }));
    const r = await bundleCmd(state, ['install', archive, '--bundle-start-timeout', '7']);
    expect(r.exitCode).toBe(1);
    const root = path.join(state, 'bundles');
    expect(r.stderr).toContain(`WARN still waiting: no instance of early runs: is an emperor serving ${root}? Start one: \`liege --emperor ${root}\``);
    expect(r.stderr).toContain(`did not reach accepting within 7 s; removed: no instance of early runs`);
  }, 30_000);
});
