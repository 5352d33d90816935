// The request log under load and at a worker's end: N requests over
// keep-alive connections to 2 workers → exactly N lines, each whole (none
// cut, none interleaved with another worker's or the master's), in a
// `logto` file and on a stderr pipe, text and JSON; a worker stopped with
// SIGTERM right after its requests writes their lines before it exits; one
// SIGKILLed has written every line older than the batch delay (100 ms), a
// full batch and the lines after it; a
// log destination that fails every write (/dev/full: ENOSPC) costs lines,
// not workers.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, LIEGE, scratch, startLiege, until, writeCalls } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function liege(args: string[]): ResultPromise {
  const p = startLiege(['--master', '--processes', '2', '--node-app', app, ...args], { cwd: dir });
  started.push(p);
  return p;
}

/** GET each path over `connections` keep-alive connections; the x-pid of every answer. */
async function load(port: number, paths: string[], connections: number): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const pids: string[] = new Array(paths.length);
  let next = 0;
  const one = (i: number) => new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: paths[i], agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${paths[i]}: status ${res.statusCode}`));
        pids[i] = String(res.headers['x-pid']);
        resolve();
      });
    }).on('error', reject);
  });
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next < paths.length) await one(next++);
  }));
  agent.destroy();
  return pids;
}

// lines of up to ~3 KiB (a pipe write of at most 4 KiB holds whole lines)
const pathsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `/${prefix}/${i}?pad=${'x'.repeat(i % 13 === 0 ? 2500 + (i % 500) : i % 40)}`);

const TEXT = /^\[pid: (\d+)\|worker: ([12])\|req: (\d+)\] 127\.0\.0\.1 \[\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\] GET (\S+) => generated (\d+) bytes in (\d+) msecs \(HTTP\/1\.1 200\)$/;

interface Line { pid: string; req: number; uri: string }

/** The request lines of a log; fails on any line that is neither a whole request line nor a liege line. */
function requestLines(text: string, format: string): Line[] {
  const out: Line[] = [];
  for (const l of text.split('\n').filter(Boolean)) {
    if (format === 'json') {
      const o = JSON.parse(l); // a cut or interleaved line does not parse
      if (o.component === 'request') out.push({ pid: String(o.pid), req: o.req, uri: o.uri });
      continue;
    }
    const m = TEXT.exec(l);
    if (m) out.push({ pid: m[1]!, req: Number(m[3]), uri: m[4]! });
    else expect(l).toMatch(/^liege\[\d+\] \w+: /);
  }
  return out;
}

function checkLoad(lines: Line[], paths: string[], pids: string[]): void {
  const mine = lines.filter((l) => l.uri.startsWith('/load/'));
  expect(mine.length).toBe(paths.length);
  expect(new Set(mine.map((l) => l.uri))).toEqual(new Set(paths));
  // each line names the worker that answered, whose request numbers only grow
  const byUri = new Map(mine.map((l) => [l.uri, l]));
  paths.forEach((p, i) => expect(byUri.get(p)!.pid).toBe(pids[i]));
  for (const pid of new Set(pids)) {
    const reqs = lines.filter((l) => l.pid === pid).map((l) => l.req);
    expect(reqs).toEqual([...reqs].sort((a, b) => a - b));
  }
}

describe('request log', () => {
  for (const format of ['text', 'json']) {
    it(`N requests on 2 workers → N whole lines in the logto file (${format})`, async () => {
      const port = await freePort();
      const logfile = path.join(dir, `load-${format}.log`);
      const p = liege(['--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--log-format', format]);
      await until(() => get(port));
      const paths = pathsOf('load', 3000);
      const pids = await load(port, paths, 16);
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
      checkLoad(requestLines(fs.readFileSync(logfile, 'utf8'), format), paths, pids);
    }, 60_000);

    it(`N requests on 2 workers → N whole lines on a stderr pipe (${format})`, async () => {
      const port = await freePort();
      const p = liege(['--http-socket', `127.0.0.1:${port}`, '--log-format', format]);
      await until(() => get(port));
      const paths = pathsOf('load', 3000);
      const pids = await load(port, paths, 16);
      process.kill(p.pid!, 'SIGTERM');
      const r = await p;
      expect(r.exitCode).toBe(0);
      checkLoad(requestLines(String(r.stderr), format), paths, pids);
    }, 60_000);
  }

  it('a worker stopped with SIGTERM right after its requests has written their lines; a SIGKILLed one, those it flushed (a batch goes out within 100 ms, without waiting for more requests or the exit)', async () => {
    const port = await freePort();
    const logfile = path.join(dir, 'stop.log');
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--logto', logfile]);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    // one keep-alive connection: one worker serves them all
    const term = pathsOf('term', 30);
    const [termPid] = await load(port, term, 1);
    process.kill(Number(termPid), 'SIGTERM'); // within the batch delay of the last lines
    await until(() => (alive(Number(termPid)) ? undefined : true));
    const kill = pathsOf('kill', 1100); // more than one batch (1024 lines)
    const [killPid] = await load(port, kill, 1);
    // SIGKILL once the last line is out (lines go out in batches)
    const lastKill = kill[kill.length - 1]!;
    await until(() => (fs.readFileSync(logfile, 'utf8').includes(lastKill) ? true : undefined));
    process.kill(Number(killPid), 'SIGKILL');
    await until(() => (alive(Number(killPid)) ? undefined : true));
    process.kill(p.pid!, 'SIGTERM');
    await p;
    const lines = requestLines(fs.readFileSync(logfile, 'utf8'), 'text');
    expect(lines.filter((l) => l.pid === termPid && l.uri.startsWith('/term/')).map((l) => l.uri)).toEqual(term);
    expect(lines.filter((l) => l.pid === killPid && l.uri.startsWith('/kill/')).map((l) => l.uri)).toEqual(kill);
  }, 60_000);

  it('a log that fails every write (logto /dev/full: ENOSPC): the workers keep serving, none dies', async () => {
    const port = await freePort();
    const p = liege(['--http-socket', `127.0.0.1:${port}`, '--logto', '/dev/full']);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const workers = childrenOf(p.pid!);
    const pids = await load(port, pathsOf('full', 3000), 16);
    for (const pid of pids) expect(workers).toContain(Number(pid));
    await sleep(300); // the last batches written (and failed)
    expect(childrenOf(p.pid!)).toEqual(workers);
    // idle, a worker writes its heartbeat and nothing else: a failed log
    // write is not retried in a loop (it was, some 30 000 writes a second,
    // and the starved workers dropped keep-alive connections under load)
    const before = workers.map(writeCalls);
    await sleep(1000);
    workers.forEach((w, i) => expect(writeCalls(w) - before[i]!).toBeLessThan(50));
    expect(await get(port)).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    // said once on the stderr that logto replaced (the master's and the workers' failures)
    expect(String(r.stderr).split('\n').filter((l) => /unable to write the log file/.test(l))).toEqual([
      expect.stringMatching(/^liege\[\d+\] log: ERROR unable to write the log file \/dev\/full: ENOSPC \(its lines are lost until it takes writes again; serving goes on\)/),
    ]);
  }, 60_000);

  it('an app that writes to its stdout and stderr (console.log) into /dev/full: its workers live, every request is served, said once', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '2', '--node-app', path.join(FIXTURES, 'apps', 'console.js'), '--http-socket', `127.0.0.1:${port}`, '--logto', '/dev/full'], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const workers = childrenOf(p.pid!);
    // each write failed on the stream after it returned: an uncaught
    // exception that ended the worker (with the requests in flight)
    const pids = await load(port, pathsOf('console', 500), 4);
    for (const pid of pids) expect(workers).toContain(Number(pid));
    await sleep(300);
    expect(childrenOf(p.pid!)).toEqual(workers);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr).split('\n').filter((l) => /unable to write the log file/.test(l))).toHaveLength(1);
  }, 60_000);

  it('the former stderr crosses a reload (the new image says the failing log file once more, in JSON too); no worker holds it', async () => {
    const port = await freePort();
    // stderr a fifo: the console is then a reopen of it, found by its path
    const fifo = path.join(dir, 'stderr-reload');
    await execa('mkfifo', [fifo]);
    const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wfd = fs.openSync(fifo, 'w');
    const p = execa(LIEGE, ['--master', '--processes', '2', '--node-app', app, '--http-socket', `127.0.0.1:${port}`, '--logto', '/dev/full', '--log-format', 'json'], { reject: false, detached: true, stdio: ['ignore', 'ignore', wfd], env: { TEST_LIEGE: '1' } });
    started.push(p);
    fs.closeSync(wfd);
    let err = '';
    const read = () => {
      const b = Buffer.alloc(1 << 16);
      try {
        for (let n; (n = fs.readSync(rfd, b)) > 0;) err += b.subarray(0, n).toString();
      } catch { /* EAGAIN: nothing more now */ }
    };
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const old = childrenOf(p.pid!);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (childrenOf(p.pid!).length === 2 && childrenOf(p.pid!).every((w) => !old.includes(w)) ? true : undefined), 30_000);
    await until(() => get(port));
    // the console is the master's alone (close-on-exec), across the re-exec too
    const fds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } });
    expect(fds(p.pid!)).toContain(fifo);
    for (const w of childrenOf(p.pid!)) expect(fds(w)).not.toContain(fifo);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    read();
    fs.closeSync(rfd);
    const said = err.split('\n').filter((l) => /unable to write the log file/.test(l)).map((l) => JSON.parse(l));
    expect(said).toEqual([0, 1].map(() => expect.objectContaining({ level: 50, pid: p.pid, component: 'log', errno: 'ENOSPC', file: '/dev/full' })));
  }, 60_000);

  it('a log file on a full disk (a tiny tmpfs): said once on the former stderr, and again once it takes writes again; every request served', async () => {
    const port = await freePort();
    const mnt = path.join(dir, 'tiny');
    fs.mkdirSync(mnt, { recursive: true });
    const logfile = path.join(mnt, 'app.log');
    // the tmpfs exists only in liege's private mount namespace (never on the host)
    const cmd = `mount -t tmpfs -o size=1m,mode=755 liege-test ${mnt} && exec ${LIEGE} --master --processes 2 --node-app ${app} --http-socket 127.0.0.1:${port} --logto ${logfile}`;
    const p = execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', cmd], { reject: false, detached: true, stdin: 'ignore', env: { TEST_LIEGE: '1' } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await until(() => (childrenOf(p.pid!).length === 2 ? true : undefined));
    const workers = childrenOf(p.pid!);
    // the tmpfs as liege sees it (p.pid is liege: sh and unshare exec'd it)
    const inside = (f: string) => `/proc/${p.pid}/root${f}`;
    const filler = inside(path.join(mnt, 'filler'));
    expect(() => fs.writeFileSync(filler, Buffer.alloc(2 << 20))).toThrow(/ENOSPC/);
    await load(port, pathsOf('full', 500), 4);
    await until(() => (/unable to write the log file/.test(err) ? true : undefined));
    fs.rmSync(filler);
    const after = pathsOf('again', 500);
    await load(port, after, 4);
    await until(() => (/takes writes again/.test(err) ? true : undefined));
    // the last batch written (request lines go out in batches)
    const last = after[after.length - 1]!;
    const text = await until(() => {
      const t = fs.readFileSync(inside(logfile), 'utf8');
      return t.includes(last) ? t : undefined;
    });
    expect(childrenOf(p.pid!)).toEqual(workers);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const said = err.split('\n').filter((l) => /log file/.test(l));
    expect(said).toEqual([
      expect.stringMatching(/log: ERROR unable to write the log file .*app\.log: ENOSPC \(its lines are lost until it takes writes again; serving goes on\)/),
      expect.stringMatching(/log: the log file .*app\.log takes writes again/),
    ]);
    // in the file: how many lines were lost, then the lines after the space
    // came back; a write that filled the disk may have cut its last line
    // (at most one a worker), never the notice
    expect(text).toMatch(/^liege\[\d+\] log: WARN request log lines dropped: the log was full or closed lines=\d+$/m);
    const cut = text.split('\n').filter(Boolean).filter((l) => !TEXT.test(l) && !/^liege\[\d+\] \w+: /.test(l));
    expect(cut.length).toBeLessThanOrEqual(2);
    const logged = text.split('\n').map((l) => TEXT.exec(l)?.[4]);
    expect(logged).toContain(after[after.length - 1]);
  }, 60_000);
});
