// Socket files done right: only a stale socket is ever replaced (a regular
// file or a live socket is refused with a clear error, left untouched),
// vacuum removes the socket files and pidfile on exit, abstract sockets,
// chown-socket, systemd socket activation (LISTEN_FDS).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { ResultPromise } from 'execa';
import { execa } from 'execa';
import { alive, childrenOf, cmdlineOf, FIXTURES, freePort, get, killGroup, LIEGE, processes, runLiege, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const s of servers.splice(0)) s.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** GET / over a unix socket (http-socket), or undefined. */
function getUnix(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const c = net.connect({ path: socketPath });
    let out = '';
    c.on('connect', () => c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    c.on('data', (d) => { out += d; });
    c.on('end', () => resolve(out || undefined));
    c.on('error', () => resolve(undefined));
  });
}

const app = `${FIXTURES}/apps/handler.js`;

// a wrapper between systemd and liege: binds fd 3 (and copies of it up to
// fd 2+WRAP_FDS), sets LISTEN_PID to itself and runs liege as its child
const WRAPPER = `
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as systemd's, and Node's: a TIME_WAIT left on the port does not refuse it
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
if s.fileno() != 3: os.dup2(s.fileno(), 3)
n = int(os.environ.get("WRAP_FDS", "1"))
for fd in range(3, 3 + n):
    if fd != 3: os.dup2(3, fd)
    os.set_inheritable(fd, True)
os.environ.update(LISTEN_FDS=str(n), LISTEN_PID=str(os.getpid()))
pid = os.fork()
if pid == 0: os.execv(sys.argv[2], sys.argv[2:])
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
`;

const isZombie = (pid: number) => {
  try {
    return / Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
};

describe('unix socket files', () => {
  it('refuses to replace a regular file, leaving it intact', async () => {
    const f = path.join(dir, 'not-a-socket');
    fs.writeFileSync(f, 'precious');
    const r = await runLiege(['--master', '--http-socket', f, '--node-app', app], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/unable to bind \S+not-a-socket: the path exists and is not a socket/);
    expect(fs.readFileSync(f, 'utf8')).toBe('precious');
  });

  it('a socket in a directory that does not exist: the error names the directory and how to make it; nothing created', async () => {
    const missing = path.join(dir, 'no-such-dir', 'run');
    const r = await runLiege(['--master', '--socket', path.join(missing, 'app.sock'), '--node-app', app], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`ENOENT (the directory ${missing} does not exist: create it first, e.g. hook-asap = mkdir:${missing}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(path.join(dir, 'no-such-dir'))).toBe(false);
  });

  it('refuses a live socket of another process, replaces a stale one', async () => {
    const live = path.join(dir, 'live.sock');
    const other = net.createServer().listen(live);
    servers.push(other);
    await new Promise((r) => other.once('listening', r));
    const r = await runLiege(['--master', '--http-socket', live, '--node-app', app], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/unable to bind \S+live\.sock: a live socket: another process is listening on it/);
    // stale: a socket file nobody listens on any more
    const stale = path.join(dir, 'stale.sock');
    // a process bound it and died (its socket file stays)
    execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()', stale]);
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
    const p = startLiege(['--master', '--http-socket', stale, '--node-app', app, '--vacuum', '--pidfile', path.join(dir, 'v.pid')], { cwd: dir });
    started.push(p);
    expect(await until(() => getUnix(stale))).toMatch(/handler-app/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    // vacuum: the socket file and the pidfile are gone
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'v.pid'))).toBe(false);
  });

  it('vacuum that may not remove the files (the master dropped to nobody, the directory is root\'s) says so with the reason, for the socket and the pidfile', async () => {
    const rootDir = fs.mkdtempSync(path.join(dir, 'root-only-'));
    fs.chmodSync(rootDir, 0o755);
    const sock = path.join(rootDir, 'app.sock');
    const pid = path.join(rootDir, 'app.pid');
    const p = startLiege(['--master', '-p', '2', '--http-socket', sock, '--chmod-socket', '--node-app', app, '--vacuum', '--pidfile', pid, '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir });
    started.push(p);
    expect(await until(() => getUnix(sock))).toMatch(/handler-app/);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    // before: nothing said, both files left behind
    expect(r.stderr).toMatch(/vacuum: unable to remove \S+app\.sock: EACCES \(the master runs as uid 65534 since the privilege drop: give it \S+root-only-\w+,/);
    expect(r.stderr).toMatch(/vacuum: unable to remove \S+app\.pid: EACCES/);
  });

  it('a master killed by SIGKILL and started again at once: its surviving workers are named as what holds the socket, and a start after their death grace takes the stale socket', async () => {
    const sock = path.join(dir, 'killed.sock');
    const port = await freePort();
    const args = ['--master', '-p', '2', '--http-socket', sock, '--http-socket', `127.0.0.1:${port}`, '--node-app', app];
    const p = startLiege(args, { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const workers = childrenOf(p.pid!).filter((c) => /worker\/main\.js/.test(cmdlineOf(c)));
    expect(workers.length).toBe(2);
    // frozen meanwhile, so they outlive the master for as long as this
    // test needs (a loaded machine may take longer than their 3 s grace
    // to start the second copy); so is the guard that would kill them
    const guard = processes().filter((q) => q.argv.includes('guard') && q.argv.includes(String(p.pid))).map((q) => q.pid);
    const frozen = [...workers, ...guard];
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const thaw = () => { for (const pid of frozen) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } } };
    onTestFinished(thaw); // (whatever fails below)
    process.kill(p.pid!, 'SIGKILL');
    // (not `await p`: the workers hold its stderr until they exit)
    await until(() => (alive(p.pid!) && !isZombie(p.pid!) ? undefined : true));
    // the workers serve on for their death grace: the socket file is live
    const again = await runLiege(args, { cwd: dir });
    expect(again.exitCode).toBe(1);
    // before: "another process is listening on it", no word of which
    expect(again.stderr).toMatch(new RegExp(`unable to bind \\S+killed\\.sock: a live socket: another process is listening on it \\(held by pid (${workers.join('|')}): \\S*node \\S+worker/main\\.js`));
    expect(again.stderr).toMatch(/liege workers whose master died: they drain and exit within their death grace, 3 s: start again then\)/);
    thaw();
    await until(() => (workers.every((w) => !alive(w)) ? true : undefined), 10_000);
    const later = startLiege(args, { cwd: dir });
    started.push(later);
    expect(await until(() => getUnix(sock))).toBeDefined();
  }, 60_000);

  it('a second copy of a running instance: the error names the running master and says to stop it (before: "their master was killed, start again in 3 s")', async () => {
    const port = await freePort();
    const args = ['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app];
    const p = startLiege(args, { cwd: dir });
    started.push(p);
    await until(() => get(port));
    const again = await runLiege(args, { cwd: dir });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`EADDRINUSE \\(held by pid \\d+: .*; the workers of another liege instance, master pid ${p.pid}: stop it first \\(liege --stop PIDFILE\\), or give this one another address\\)`));
    expect(again.stderr).not.toMatch(/death grace/);
  });

  it('a TCP port in use names the process that listens on it', async () => {
    const other = net.createServer().listen(0, '127.0.0.1');
    servers.push(other);
    await new Promise((r) => other.once('listening', r));
    const port = (other.address() as net.AddressInfo).port;
    const r = await runLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // before: "EADDRINUSE" alone; the holder here is this test's own process
    expect(r.stderr).toMatch(new RegExp(`unable to bind 127\\.0\\.0\\.1:${port}: EADDRINUSE \\(held by pid ${process.pid}: \\S*node`));
  });

  it('a reload applies a changed chmod-socket to the socket file it keeps; one the dropped master may not change is said, and it serves on', async () => {
    const own = path.join(dir, 'own.sock');
    const rootOwned = path.join(dir, 'root.sock');
    const ini = path.join(dir, 'chmod.ini');
    const write = (mode: string) => fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = ${own}\nnode-app = ${app}\nchmod-socket = ${mode}\nchown-socket = nobody:nogroup\nuid = nobody\ngid = nogroup\n`);
    write('660');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => getUnix(own));
    expect(fs.statSync(own).mode & 0o777).toBe(0o660);
    write('666');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined), 30_000);
    // before: still 660, nothing said (nginx as www-data kept its 502)
    expect(fs.statSync(own).mode & 0o777).toBe(0o666);
    process.kill(p.pid!, 'SIGTERM');
    await p;
    // without chown-socket the file is root's: the master, now nobody, may not chmod it
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = ${rootOwned}\nnode-app = ${app}\nuid = nobody\ngid = nogroup\n`);
    const q = startLiege(['--ini', ini], { cwd: dir });
    started.push(q);
    let qerr = '';
    q.stderr!.on('data', (d: Buffer) => { qerr += d.toString(); });
    await until(() => getUnix(rootOwned));
    fs.appendFileSync(ini, 'chmod-socket = 666\n');
    process.kill(q.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(qerr) ? true : undefined), 30_000);
    expect(qerr).toMatch(/chmod\.ini:4: unable to apply chmod-socket\/chown-socket to \S+root\.sock, kept from the running generation: EPERM \(the master runs as uid 65534 since the privilege drop; a restart applies them\)/);
    expect(await getUnix(rootOwned)).toMatch(/handler-app/);
  }, 90_000);

  it('a bad chmod-socket or chown-socket is refused before anything runs or is created; a socket that fails to bind takes the files bound before it away', async () => {
    const sock = path.join(dir, 'half.sock');
    const ini = path.join(dir, 'half.ini');
    const marker = path.join(dir, 'asap-ran');
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nsocket = ${sock}\nchmod-socket = 999\nnode-app = ${app}\nhook-asap = write:${marker} ran\n`);
    const bad = await runLiege(['--ini', ini], { cwd: dir });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/half\.ini:4: bad value for `chmod-socket`: `chmod-socket = 999` \(expected an octal mode/);
    expect(fs.existsSync(marker)).toBe(false); // at load: before any hook
    expect(fs.existsSync(sock)).toBe(false); // before: the socket file stayed
    const nobody = await runLiege(['--master', '--socket', sock, '--chown-socket', 'no-such-user-here', '--node-app', app], { cwd: dir });
    expect(nobody.exitCode).toBe(1);
    // (at load now, like uid/gid: before, at the bind, after the asap hooks)
    expect(nobody.stderr).toMatch(/unknown user `no-such-user-here` in chown-socket: `--chown-socket no-such-user-here`/);
    expect(fs.existsSync(sock)).toBe(false);
    // the second socket's port is taken: the first one's file does not stay behind
    const busy = net.createServer().listen(0, '127.0.0.1');
    servers.push(busy);
    await new Promise((r) => busy.once('listening', r));
    const port = (busy.address() as net.AddressInfo).port;
    const inuse = await runLiege(['--master', '--socket', sock, '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir });
    expect(inuse.exitCode).toBe(1);
    expect(inuse.stderr).toMatch(/EADDRINUSE/);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('one address given twice (a port as http-socket and socket, a unix path twice) is refused at load naming both lines, before any hook, nothing bound', async () => {
    const port = await freePort();
    const sock = path.join(dir, 'twice.sock');
    const marker = path.join(dir, 'twice-asap-ran');
    const ini = path.join(dir, 'twice.ini');
    fs.writeFileSync(ini, `[uwsgi]\nmaster = true\nhttp-socket = 127.0.0.1:${port}\nnode-app = ${app}\nhook-asap = write:${marker} ran\nsocket = 127.0.0.1:${port}\n`);
    const tcp = await runLiege(['--ini', ini], { cwd: dir });
    expect(tcp.exitCode).toBe(1);
    // before: "unable to bind 127.0.0.1:PORT: EADDRINUSE", its holder already gone when the operator looks
    expect(tcp.stderr).toMatch(new RegExp(`twice\\.ini:6: .*127\\.0\\.0\\.1:${port}.* \\(expected an address not given before: twice\\.ini:3 has it \\(http-socket\\)\\)`));
    expect(tcp.stderr).not.toMatch(/EADDRINUSE/);
    expect(fs.existsSync(marker)).toBe(false);
    const unix = await runLiege(['--master', '--socket', sock, '--http-socket', sock, '--node-app', app], { cwd: dir });
    expect(unix.exitCode).toBe(1);
    // before: "a live socket: another process is listening on it" (itself)
    expect(unix.stderr).toMatch(/expected an address not given before: command line has it \(socket\)/);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('stats and metrics are bound after the privilege drop: EACCES (a root-owned directory, a port below 1024) says so and what to do; exit 1, nothing left', async () => {
    const root = path.join(dir, 'rootonly');
    fs.mkdirSync(root, { mode: 0o755 });
    const port = await freePort();
    const stats = await runLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--uid', 'nobody', '--gid', 'nogroup', '--stats', path.join(root, 'stats.sock')], { cwd: dir });
    expect(stats.exitCode).toBe(1);
    // before: "EACCES (expected a free address for the stats server)", nothing on why root could not
    expect(stats.stderr).toMatch(/unable to listen on \S+stats\.sock for stats: EACCES .*the master binds it after the privilege drop, as uid 65534: give it \S+rootonly, e\.g\. a \/run\/NAME directory it owns/);
    const metrics = await runLiege(['--master', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--uid', 'nobody', '--gid', 'nogroup', '--metrics', '127.0.0.1:919'], { cwd: dir });
    expect(metrics.exitCode).toBe(1);
    expect(metrics.stderr).toMatch(/unable to listen on 127\.0\.0\.1:919 for metrics: EACCES .*the master binds it after the privilege drop, as uid 65534: a port from 1024/);
    expect(fs.readdirSync(root)).toEqual([]);
    expect(await get(port)).toBeUndefined();
  });

  it('chown-socket, and abstract sockets leave no file', async () => {
    const s = path.join(dir, 'owned.sock');
    const p = startLiege(['--master', '--http-socket', s, '--chown-socket', 'nobody:nogroup', '--chmod-socket=660', '--node-app', app], { cwd: dir });
    started.push(p);
    await until(() => getUnix(s));
    const st = fs.statSync(s);
    expect(st.uid).toBe(65534);
    expect(st.mode & 0o777).toBe(0o660);
    process.kill(p.pid!, 'SIGTERM');
    await p;

    const name = `@liege-test-${process.pid}`;
    const q = startLiege(['--master', '--http-socket', name, '--node-app', app], { cwd: dir });
    started.push(q);
    // an abstract name is exactly its bytes (as nginx `unix:@name` and uWSGI use it)
    const client = 'import socket,sys; c=socket.socket(socket.AF_UNIX); c.connect(b"\\0"+sys.argv[1].encode()); c.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"); print(c.recv(4096).decode())';
    const out = await until(() => { try { return execFileSync('python3', ['-c', client, name.slice(1)], { encoding: 'utf8' }); } catch { return undefined; } });
    expect(out).toMatch(/handler-app/);
    expect(fs.existsSync(name)).toBe(false);
  });

  it('a socket option takes a shared-socket by index (`=N`); a missing index is refused, exit 1, nothing bound', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--shared-socket', `127.0.0.1:${port}`, '--http-socket', '=0', '--node-app', app], { cwd: dir });
    started.push(p);
    const r = await until(() => get(port));
    expect(r.body).toMatch(/handler-app/);
    const other = await freePort();
    const bad = await runLiege(['--master', '--shared-socket', `127.0.0.1:${other}`, '--socket', '=1', '--node-app', app], { cwd: dir });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/no shared-socket number 1: `=1` \(expected =0/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const probe = net.createServer().listen(other, '127.0.0.1');
    await new Promise((ok, ko) => { probe.once('listening', ok); probe.once('error', ko); });
    probe.close();
  });

  it('`listen` is the backlog of the socket once the workers accept on it (tcp and unix)', async () => {
    const port = await freePort();
    const s = path.join(dir, 'backlog.sock');
    const p = startLiege(['--master', '--processes', '2', '--http-socket', `127.0.0.1:${port}`, '--http-socket', s, '--listen', '1000', '--node-app', app], { cwd: dir });
    started.push(p);
    await until(() => getUnix(s));
    await until(() => get(port));
    // a listening socket's Send-Q is its backlog
    const tcp = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
    expect(tcp.trim().split(/\s+/)[2]).toBe('1000');
    const unix = execFileSync('ss', ['-Hlx', `src ${s}`], { encoding: 'utf8' });
    expect(unix.trim().split(/\s+/)[3]).toBe('1000');
  });

  const ACTIVATE = ['/usr/bin/systemd-socket-activate', '/bin/systemd-socket-activate'].find((f) => fs.existsSync(f));
  it.skipIf(!ACTIVATE)('systemd socket activation: serves the socket passed in LISTEN_FDS (binding it again would fail)', async () => {
    const port = await freePort();
    const p = execa(ACTIVATE!, ['-l', `127.0.0.1:${port}`, LIEGE, '--master', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir, reject: false, detached: true, stdin: 'ignore' });
    started.push(p);
    const body = await until(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
        return await r.text();
      } catch {
        return undefined;
      }
    });
    expect(body).toMatch(/handler-app/);
  });

  // `ListenStream=8080` (no address) makes systemd bind [::]:8080, which takes
  // IPv4 clients too; before, `http-socket = :8080` did not match it, and
  // liege's own bind failed with EADDRINUSE (the unit never started)
  it.skipIf(!ACTIVATE)('systemd socket activation on a bare port ([::]:PORT) serves `:PORT`, on IPv4 and IPv6, across a reload', async () => {
    const port = await freePort();
    const p = execa(ACTIVATE!, ['-l', String(port), LIEGE, '--master', '-p', '1', '--http-socket', `:${port}`, '--node-app', app], { cwd: dir, reject: false, detached: true, stdin: 'ignore' });
    started.push(p);
    const fetchText = async (host: string) => {
      try {
        const r = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(3000), headers: { connection: 'close' } });
        return await r.text();
      } catch {
        return undefined;
      }
    };
    expect(await until(() => fetchText('127.0.0.1'))).toMatch(/handler-app/);
    expect(await fetchText('[::1]')).toMatch(/handler-app/);
    const first = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => { const now = childrenOf(p.pid!); return now.length === 1 && !first.includes(now[0]) || undefined; }, 30_000);
    expect(await fetchText('127.0.0.1')).toMatch(/handler-app/);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr)).toContain(`command line: serving the socket systemd passed on [::]:${port}`);
    expect(String(r.stderr)).not.toMatch(/EADDRINUSE/);
  });

  // a Node user's `ListenStream=` with no socket line: uWSGI's rule (the
  // uwsgi protocol) holds, and the log says how to speak HTTP on it
  it.skipIf(!ACTIVATE)('a systemd socket no line names: served with the uwsgi protocol, the log says how to serve HTTP; `protocol = http` does', async () => {
    for (const http of [false, true]) {
      const port = await freePort();
      const p = execa(ACTIVATE!, ['-l', `127.0.0.1:${port}`, LIEGE, '--master', '-p', '1', '--node-app', app, ...(http ? ['--protocol', 'http'] : [])], { cwd: dir, reject: false, detached: true, stdin: 'ignore' });
      started.push(p);
      // (activate execs liege at the first connection, once it listens)
      const c = await until(() => new Promise<net.Socket | undefined>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', () => resolve(undefined));
      }));
      // the master said so (its signals are queued from then on: a child
      // alone may be the launcher's `$(ulimit -n)` subshell, before Node ran)
      let err = '';
      p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      await until(() => err.includes('serving a socket passed by systemd') || undefined);
      await until(() => childrenOf(p.pid!).length === 1 || undefined);
      c.destroy();
      if (http) expect((await until(() => get(port))).body).toMatch(/handler-app/);
      process.kill(p.pid!, 'SIGTERM');
      const r = await p;
      expect(r.exitCode).toBe(0);
      if (http) expect(String(r.stderr)).toContain(`serving a socket passed by systemd (http protocol)`);
      else expect(String(r.stderr)).toContain(`serving a socket passed by systemd (uwsgi protocol; no socket line names 127.0.0.1:${port}: for HTTP clients, add \`http-socket = 127.0.0.1:${port}\` or \`protocol = http\`)`);
    }
  });

  // FileDescriptorName= (LISTEN_FDNAMES): liege matches by address, as
  // uWSGI; the names change nothing (here they say the opposite of the
  // config) and no child sees them
  it.skipIf(!ACTIVATE)('systemd sockets with names (LISTEN_FDNAMES): matched by address, the names ignored; no worker sees them', async () => {
    const http = await freePort();
    const uwsgi = await freePort();
    const p = execa(ACTIVATE!, ['-l', `127.0.0.1:${http}`, '-l', `127.0.0.1:${uwsgi}`, '--fdname=uwsgi:http', LIEGE, '--master', '-p', '1', '--socket', `127.0.0.1:${uwsgi}`, '--http-socket', `127.0.0.1:${http}`, '--node-app', app], { cwd: dir, reject: false, detached: true, stdin: 'ignore' });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    // (activate execs liege at the first connection)
    expect((await until(() => get(http), 30_000)).body).toMatch(/handler-app/);
    const worker = await until(() => childrenOf(p.pid!)[0]);
    expect(fs.readFileSync(`/proc/${worker}/environ`, 'utf8')).not.toMatch(/LISTEN_/);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    expect(err).toContain(`serving the socket systemd passed on 127.0.0.1:${http}`);
    expect(err).toContain(`serving the socket systemd passed on 127.0.0.1:${uwsgi}`);
    expect(err).not.toMatch(/EADDRINUSE|serving a socket passed by systemd/);
  });

  // sd_listen_fds: sockets passed to another pid are not ours. A wrapper
  // between systemd and liege (sh -c without exec, npm start) gave only an
  // EADDRINUSE naming the wrapper as the holder; now the cause is said
  it('LISTEN_FDS for another pid (liege under a wrapper): not used, and said', async () => {
    const passed = await freePort();
    const port = await freePort();
    const p = execa('python3', ['-c', WRAPPER, String(passed), LIEGE, '--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], { cwd: dir, reject: false, detached: true, stdin: 'ignore' });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port), 30_000).catch((e: Error) => { throw new Error(`${e.message}; liege said: ${err}`); });
    const master = childrenOf(p.pid!)[0];
    // the master's environment no longer carries them (nor its workers')
    const env = fs.readFileSync(`/proc/${childrenOf(master)[0]}/environ`, 'utf8');
    expect(env).not.toMatch(/LISTEN_FDS=/);
    process.kill(master, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr).split('\n').filter((l) => l.includes(`LISTEN_FDS is set for pid ${p.pid}, not this process`))).toHaveLength(1);
  });
  // sd_listen_fds() leaves another pid's fds alone, and so does liege: Node
  // made every fd it inherited close-on-exec as it started (libuv's
  // uv_disable_stdio_inheritance), so none reaches a child, which could
  // never use it and, outliving the wrapper, would keep the port listening
  // with nobody to accept. Three fds: a worker's own 3 and 4 (its IPC
  // channel, its socket) would hide a leak of the first two
  it('LISTEN_FDS for another pid: the passed sockets reach no hook, worker or daemon (the master keeps its copy)', async () => {
    const passed = await freePort();
    const port = await freePort();
    const hookFds = path.join(dir, 'wrapped-hook.fds');
    const p = execa('python3', ['-c', WRAPPER, String(passed), LIEGE, '--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--attach-daemon', 'sleep 600', '--hook-asap', `exec:ls -l /proc/$$/fd > ${hookFds}`], { cwd: dir, reject: false, detached: true, stdin: 'ignore', env: { WRAP_FDS: '3' } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port), 30_000).catch((e: Error) => { throw new Error(`${e.message}; liege said: ${err}`); });
    const master = childrenOf(p.pid!)[0]!;
    const socket = fs.readlinkSync(`/proc/${p.pid}/fd/3`);
    expect(socket).toMatch(/^socket:\[\d+\]$/);
    const holds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === socket; } catch { return false; }
    });
    expect(holds(master)).toBe(true);
    const daemon = await until(() => childrenOf(master).find((c) => cmdlineOf(c).includes('sleep 600')));
    const worker = childrenOf(master).find((c) => c !== daemon)!;
    expect(holds(worker)).toBe(false);
    expect(holds(daemon)).toBe(false);
    expect(fs.readFileSync(hookFds, 'utf8')).not.toContain(socket);
    process.kill(master, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });
});

