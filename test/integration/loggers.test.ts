// uWSGI's pluggable loggers: `logger` (file, syslog, socket), named loggers
// fed by `log-route`, `req-logger` for the request lines only, a log
// encoder for one named logger; file loggers reopened after a rotation,
// created again when removed, carried across a reload by a master that
// dropped its privileges; syslog to /dev/log (a private mount namespace
// puts the test's own unix datagram socket there: python3 listens, Node
// has no unix datagrams); and the faults — a full disk, a log directory
// removed, a syslog socket nobody reads, a UDP target down — said once,
// the instance serving on; bad values refused at load with nothing run.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, FIXTURES, freePort, get, killGroup, LIEGE, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const closers: Array<() => void> = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const c of closers.splice(0)) c();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const APP = `${FIXTURES}/apps/chatter.js`;
const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
const count = (text: string, what: string) => text.split(what).length - 1;

async function hit(port: number, p: string): Promise<number | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3000) });
    await r.text();
    return r.status;
  } catch {
    return undefined;
  }
}

async function start(sub: string, lines: string[], opts: { run?: (ini: string) => ResultPromise } = {}): Promise<{ p: ResultPromise; port: number; d: string }> {
  const d = path.join(dir, sub);
  fs.mkdirSync(d, { recursive: true });
  const port = await freePort();
  const ini = writeIni(d, [`http-socket = 127.0.0.1:${port}`, `node-app = ${APP}`, 'processes = 2', ...lines]);
  const p = opts.run ? opts.run(ini) : startLiege([ini], { cwd: d });
  started.push(p);
  await until(() => get(port));
  return { p, port, d };
}

async function stop(p: ResultPromise): Promise<string> {
  process.kill(p.pid!, 'SIGTERM');
  const r = await p;
  return r.stderr as string;
}

// /dev/log is the test's socket, in a mount namespace of liege's own: /dev
// becomes a tmpfs holding binds of the real entries and that symlink
const WITH_DEV_LOG = `set -e
old="$1"; sock="$2"; shift 2
mkdir -p "$old"
mount --rbind /dev "$old"
mount -t tmpfs -o mode=755 tmpfs /dev
for f in "$old"/*; do
  n="\${f##*/}"
  if [ -L "$f" ]; then cp -a "$f" /dev/
  elif [ -d "$f" ]; then mkdir "/dev/$n"; mount --rbind "$f" "/dev/$n"
  else touch "/dev/$n"; mount --bind "$f" "/dev/$n"; fi
done
ln -s "$sock" /dev/log
exec "$@"`;

const withDevLog = (d: string, sock: string) => (ini: string) =>
  execa('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', WITH_DEV_LOG, 'sh', path.join(d, 'dev'), sock, LIEGE, ini], { cwd: d, env: { TEST_LIEGE: '1' }, reject: false, detached: true, stdin: 'ignore', buffer: true });

// a unix datagram listener: each datagram as a JSON string, one per line
const LISTENER = `
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    print(json.dumps(s.recv(65536).decode()), flush=True)
`;

function listen(sock: string): { heard: () => string[]; stop: () => void } {
  const l = execa('python3', ['-c', LISTENER, sock], { buffer: false, reject: false, detached: true });
  let out = '';
  l.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const stopIt = () => { try { process.kill(-l.pid!, 'SIGKILL'); } catch { /* gone */ } };
  closers.push(stopIt);
  return { heard: () => out.split('\n').filter(Boolean).map((x) => JSON.parse(x) as string).filter((x) => x !== 'listening'), stop: stopIt };
}

/** A listener on DIR/`name`, DIR a new directory `sub` of the scratch one, once its socket exists. */
async function listenIn(sub: string, name: string): Promise<{ d: string; sock: string; l: ReturnType<typeof listen> }> {
  const d = path.join(dir, sub);
  fs.mkdirSync(d, { recursive: true });
  const sock = path.join(d, name);
  const l = listen(sock);
  await until(() => fs.existsSync(sock) || undefined);
  return { d, sock, l };
}

describe('loggers', () => {
  it('an unnamed file logger takes every line, a named one what log-route sends it (and its own encoder), req-logger the request lines only; stderr none', async () => {
    const { p, port, d } = await start('routes', [
      'logger = file:all.log',
      'logger = boom file:boom.log',
      'log-route = boom says /boom',
      'log-encoder = prefix:boom [B]', // (a value's trailing space is trimmed, as by uWSGI)
      'req-logger = file:requests.log',
      'log-req-route = boom GET /boom', // a named logger, as uWSGI looks it up
      // the output of the master's hooks goes to the loggers too (uWSGI's log-master carries it)
      'exec-as-root = echo hook says as-root; echo hook errs as-root >&2',
      'hook-master-start = exec:echo hook says master-start',
    ]);
    expect(await hit(port, '/hello')).toBe(200);
    expect(await hit(port, '/boom')).toBe(200);
    await until(() => (read(path.join(d, 'boom.log')).includes('GET /boom') ? true : undefined));
    const stderr = await stop(p);
    const all = read(path.join(d, 'all.log'));
    expect(all).toContain('master: master started');
    expect(all).toContain('app says /hello');
    expect(all).toContain('graceful shutdown');
    expect(all).toMatch(/^hook says as-root\nhook errs as-root\n/m);
    expect(all).toMatch(/^hook says master-start$/m);
    expect(all).not.toContain('/boom'); // routed: the named logger only
    expect(all).not.toMatch(/GET \//); // request lines: req-logger only
    // the request line of /boom by log-req-route, without log-encoder's prefix (request lines: log-req-encoder's)
    expect(read(path.join(d, 'boom.log'))).toMatch(/^\[B\]app says \/boom\n\[pid: \d+\|worker: \d\|req: \d+\] 127\.0\.0\.1 .* GET \/boom => generated .*\n$/);
    const requests = read(path.join(d, 'requests.log')).trim().split('\n');
    expect(requests).toHaveLength(2); // start()'s GET / too
    for (const l of requests) expect(l).toMatch(/^\[pid: \d+\|worker: \d\|req: \d+\] 127\.0\.0\.1 .* GET \/(hello)? => generated/);
    expect(stderr).not.toContain('master started');
    expect(stderr).not.toContain('app says');
    expect(stderr).not.toContain('GET /');
    expect(stderr).not.toContain('hook says');
    expect(stderr).not.toContain('hook errs');
  });

  it('stdio is the master\'s stdout (in log-format = json, every line JSON); a req-logger alone leaves the other lines on stderr', async () => {
    const { p, port, d } = await start('stdio', ['logger = stdio', 'log-format = json', 'exec-as-root = echo hook says json']);
    expect(await hit(port, '/json')).toBe(200);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    const out = (r.stdout as string).trim().split('\n');
    expect(out.some((l) => l.includes('"msg":"app says /json"'))).toBe(true);
    expect(out.some((l) => /"component":"request".*"uri":"\/json"/.test(l))).toBe(true);
    expect(out.some((l) => /"component":"hook".*"msg":"hook says json"/.test(l))).toBe(true);
    for (const l of out) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(r.stderr).not.toContain('app says');

    const { p: p2, port: port2 } = await start('stdio', ['req-logger = file:req.log']);
    expect(await hit(port2, '/alone')).toBe(200);
    await until(() => (read(path.join(d, 'req.log')).includes('GET /alone') ? true : undefined));
    const stderr = await stop(p2);
    expect(stderr).toContain('app says /alone');
    expect(stderr).toContain('master started');
    expect(stderr).not.toContain('GET /alone');
  });

  it('a file logger is reopened by touch-logreopen after a rotation, and created again when removed', async () => {
    const d0 = path.join(dir, 'rotate');
    const logs = path.join(d0, 'logs'); // root's, 755: the dropped master cannot create files in it
    fs.mkdirSync(logs, { recursive: true });
    const log = path.join(logs, 'app.log');
    const trigger = path.join(d0, 'reopen');
    fs.writeFileSync(trigger, '');
    const { p, port } = await start('rotate', [`logger = file:${log}`, `touch-logreopen = ${trigger}`]);
    expect(await hit(port, '/before')).toBe(200);
    await until(() => (read(log).includes('app says /before') ? true : undefined));

    fs.renameSync(log, `${log}.1`);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(trigger, later, later);
    await until(() => (read(log).includes('reopened') ? true : undefined));
    expect(await hit(port, '/after')).toBe(200);
    await until(() => (read(log).includes('app says /after') ? true : undefined));
    expect(read(`${log}.1`)).not.toContain('/after');

    fs.unlinkSync(log);
    await until(() => (read(log).includes('was removed: created again') ? true : undefined));
    expect(await hit(port, '/recreated')).toBe(200);
    await until(() => (read(log).includes('app says /recreated') ? true : undefined));
    await stop(p);
  });

  it('file:logfile=PATH,maxsize=N,backupname=B rotates the file once it grew past N bytes (uWSGI\'s)', async () => {
    const { p, port, d } = await start('maxsize', ['logger = file:logfile=app.log,maxsize=3000,backupname=app.old']);
    const log = path.join(d, 'app.log');
    for (let i = 0; i < 30; i++) expect(await hit(port, `/grow-${i}`)).toBe(200);
    await until(() => (read(log).includes('rotated to') ? true : undefined));
    expect(await hit(port, '/rotated')).toBe(200);
    await until(() => (read(log).includes('app says /rotated') ? true : undefined));
    await stop(p);
    const old = read(path.join(d, 'app.old'));
    expect(old).toContain('app says /grow-0\n');
    expect(old.length).toBeGreaterThan(3000);
    expect(read(log)).not.toContain('/grow-0\n');
  });

  it('the fd of a file logger crosses a reload: a master that dropped to nobody logs on to a file in a directory of root; the request pipes cross it too', async () => {
    const d0 = path.join(dir, 'reload');
    const logs = path.join(d0, 'logs');
    fs.mkdirSync(logs, { recursive: true });
    const log = path.join(logs, 'app.log');
    const req = path.join(d0, 'req.log');
    const { p, port } = await start('reload', [`logger = file:${log}`, `req-logger = file:${req}`, 'uid = nobody', 'gid = nogroup']);
    expect(await hit(port, '/gen0')).toBe(200);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (read(log).includes('generation=1') ? true : undefined), 30_000);
    expect(await hit(port, '/gen1')).toBe(200);
    await until(() => (read(log).includes('app says /gen1') ? true : undefined));
    expect(fs.statSync(log).uid).toBe(0);
    expect(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m); // it could not have opened it
    expect(read(log)).not.toMatch(/unable to (open|reopen)/);
    await stop(p);
    // every request line once, in the request log only (an old worker's lines after the exec too)
    expect(count(read(req), 'GET /gen0 ')).toBe(1);
    expect(count(read(req), 'GET /gen1 ')).toBe(1);
    expect(read(log)).not.toContain('GET /gen');
  });

  it('faults are said once and the instance serves on: a full disk, a log directory removed', async () => {
    const d0 = path.join(dir, 'faults');
    const logs = path.join(d0, 'logs');
    fs.mkdirSync(logs, { recursive: true });
    const { p, port } = await start('faults', ['logger = file:/dev/full', `logger = file:${logs}/app.log`]);
    for (let i = 0; i < 10; i++) expect(await hit(port, `/full-${i}`)).toBe(200);
    await until(() => (read(`${logs}/app.log`).includes('app says /full-9') ? true : undefined));
    fs.rmSync(logs, { recursive: true });
    // the check runs every second: two of them, and more requests meanwhile
    for (let i = 0; i < 10; i++) {
      expect(await hit(port, `/gone-${i}`)).toBe(200);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(alive(p.pid!)).toBe(true);
    const stderr = await stop(p);
    expect(count(stderr, 'unable to write to the logger file:/dev/full: ENOSPC')).toBe(1);
    expect(count(stderr, 'was removed and cannot be created again: ENOENT')).toBe(1);
  });

  it('syslog: RFC 3164 lines to /dev/log (ident and facility), one datagram per line; a socket nobody reads is said once, and its return', async () => {
    const first = await listenIn('syslog', 'log.sock');
    const { d, sock } = first;
    let l = first.l;
    const { p, port } = await start('syslog', ['logger = syslog:web,local0'], { run: withDevLog(d, sock) });
    expect(await hit(port, '/one')).toBe(200);
    await until(() => (l.heard().some((m) => m.endsWith('app says /one')) ? true : undefined));
    const heard = l.heard();
    const started = heard.find((m) => m.includes('master started'))!;
    // <16 × 8 + 6> (local0, info), glibc's timestamp, the ident; no newline
    expect(started).toMatch(/^<134>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d web: liege\[\d+\] master: master started/);
    expect(heard.find((m) => m.includes('app says /one'))).toMatch(/^<134>.* web: app says \/one$/);
    await until(() => (l.heard().some((m) => /^<134>.* web: \[pid: \d+\|worker: \d\|req: \d+\] .*GET \/one/.test(m)) ? true : undefined));

    // the daemon stops (its socket file stays: ECONNREFUSED), then comes back
    l.stop();
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 10; i++) expect(await hit(port, `/down-${i}`)).toBe(200);
    fs.unlinkSync(sock);
    l = listen(sock);
    await until(() => fs.existsSync(sock) || undefined);
    await new Promise((r) => setTimeout(r, 1100)); // back once no line failed for a second
    await until(async () => (await hit(port, '/back'), l.heard().some((m) => m.includes('app says /back')) ? true : undefined));
    const stderr = await stop(p);
    expect(count(stderr, 'unable to write to the logger syslog:web,local0: ECONNREFUSED')).toBe(1);
    expect(count(stderr, 'the logger syslog:web,local0 takes lines again')).toBe(1);
    expect(l.heard().some((m) => m.includes('takes lines again'))).toBe(true);
  });

  it('socket: a unix datagram socket gets the lines; syslog with no /dev/log at all is said once', async () => {
    const { d, sock, l } = await listenIn('unixdg', 'lines.sock');
    // /dev/log: a link to nothing (a host without a syslog daemon)
    const { p, port } = await start('unixdg', [`logger = socket:${sock}`, 'logger = syslog'], { run: withDevLog(d, path.join(d, 'nobody.sock')) });
    for (let i = 0; i < 5; i++) expect(await hit(port, `/dg-${i}`)).toBe(200);
    await until(() => (l.heard().includes('app says /dg-4\n') ? true : undefined));
    expect(alive(p.pid!)).toBe(true);
    const stderr = await stop(p);
    expect(count(stderr, 'unable to write to the logger syslog: ENOENT')).toBe(1);
    // the other logger heard of it too
    expect(l.heard().filter((m) => m.includes('unable to write to the logger syslog: ENOENT'))).toHaveLength(1);
  });

  it('socket: one UDP datagram per line (PREFIX, then the line); a target that is down is said once, and its return', async () => {
    const udpPort = await freePort();
    const got: string[] = [];
    const bind = () => new Promise<dgram.Socket>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('message', (m) => got.push(m.toString()));
      s.bind(udpPort, '127.0.0.1', () => resolve(s));
    });
    let rx = await bind();
    closers.push(() => { try { rx.close(); } catch { /* closed */ } });
    const { p, port } = await start('udp', [`logger = socket:127.0.0.1:${udpPort},myapp|`]);
    expect(await hit(port, '/udp')).toBe(200);
    await until(() => (got.includes('myapp|app says /udp\n') ? true : undefined));
    expect(got.some((m) => /^myapp\|liege\[\d+\] master: master started .*\n$/.test(m))).toBe(true);

    await new Promise<void>((r) => rx.close(() => r()));
    for (let i = 0; i < 10; i++) {
      expect(await hit(port, `/down-${i}`)).toBe(200);
      await new Promise((r) => setTimeout(r, 30));
    }
    rx = await bind();
    await until(async () => (await hit(port, '/back'), got.includes('myapp|app says /back\n') ? true : undefined));
    await new Promise((r) => setTimeout(r, 1100));
    await until(async () => (await hit(port, '/back2'), got.some((m) => m.includes('takes lines again')) ? true : undefined));
    const stderr = await stop(p);
    expect(count(stderr, `unable to write to the logger socket:127.0.0.1:${udpPort},myapp|: ECONNREFUSED`)).toBe(1);
    expect(count(stderr, 'takes lines again')).toBe(1);
  });

  it('bad values are refused at load (file:line, the text, what was expected), exit 1, nothing run', async () => {
    const d = path.join(dir, 'bad');
    fs.mkdirSync(d, { recursive: true });
    const cases: Array<[string[], RegExp]> = [
      [['logger = journal:x'], /config\.ini:4: bad value for `logger`: `logger = journal:x` \(expected \[NAME \]PLUGIN\[:ARGS\] with PLUGIN one of file, stdio, fd, syslog, socket.*no logger plugin `journal`\)/],
      [['logger = file:'], /config\.ini:4: bad value for `logger`: `logger = file:` \(expected file:PATH/],
      [['req-logger = syslog:web,nowhere'], /config\.ini:4: bad value for `req-logger`: .*expected syslog\[:IDENT\[,FACILITY\]\] with FACILITY one of/],
      [['logger = a file:a.log', 'log-route = a (unclosed'], /config\.ini:5: bad value for `log-route`: `log-route = a \(unclosed` \(expected NAME REGEX with a valid regular expression/],
      [['logger = a file:a.log', 'log-route = b x'], /config\.ini:5: bad value for `log-route`: no logger is named b: `log-route = b x` \(expected the NAME of a `logger = NAME PLUGIN:ARGS` \(named here: a\)\)/],
      [['logger = file:logfile=x.log,maxsize=100MB'], /config\.ini:4: bad value for `logger`: .*expected file:PATH, or file:logfile=PATH\[,maxsize=BYTES\]\[,backupname=PATH\]/],
    ];
    for (const [lines, want] of cases) {
      const ini = writeIni(d, ['http-socket = 127.0.0.1:1', `node-app = ${APP}`, ...lines, `exec-asap = touch ${d}/ran`]);
      const r = await runLiege([ini], { cwd: d });
      expect(r.exitCode, lines.join(' | ')).toBe(1);
      expect(r.stderr).toMatch(want);
      expect(fs.existsSync(path.join(d, 'ran'))).toBe(false);
      expect(fs.existsSync(path.join(d, 'a.log'))).toBe(false);
    }
  });
});
