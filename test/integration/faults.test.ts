// Faults that must not kill the master: its stderr pipe closed (EPIPE on
// every log write, text and JSON) or not read any more (a full pipe: lines
// are dropped and counted, the loop goes on), EMFILE when it spawns a worker (the
// master logs, retries with backoff and serves with the workers it has),
// EMFILE at a reload (refused as a reload, said as a full descriptor table),
// reload-on-rss recycling under keep-alive load with 0 failed requests, an
// app that leaks every file descriptor (one clear line, the worker lives),
// a worker SIGKILLed by the kernel while it is being replaced (a crash).
// (SIGTERM during a reload: reload.test.ts.)
import { execa, type ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { alive, childrenOf, FIXTURES, freePort, get, killGroup, LIEGE, scratch, startLiege, until, writeCalls } from './helpers';
import { startLoad } from './load';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const app = (name: string) => path.join(FIXTURES, 'apps', name);
const workersOf = (pid: number) => childrenOf(pid);

describe('faults the master survives', () => {
  for (const format of ['text', 'json']) {
    it(`its stderr pipe closed (EPIPE on every log line, log-format ${format})`, async () => {
      const port = await freePort();
      const p = execa(LIEGE, ['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('handler.js'), '--log-format', format], { reject: false, detached: true, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false, env: { TEST_LIEGE: '1' } });
      started.push(p);
      let seen = '';
      await new Promise<void>((resolve) => p.stderr!.on('data', (b: Buffer) => {
        seen += b.toString();
        if (/master started/.test(seen)) resolve();
      }));
      p.stderr!.destroy(); // from now on every write to stderr fails with EPIPE
      await until(() => (workersOf(p.pid!).length === 2 ? true : undefined));
      const workers = workersOf(p.pid!);
      await until(() => get(port)); // spawned is not yet accepting (and get() waits 2 s at most)
      // request log lines (workers), a worker death, a respawn and a reload
      // (master lines): all of them written into a closed pipe
      for (let i = 0; i < 30; i++) expect(await get(port)).toMatchObject({ status: 200 });
      // the failed request log writes are not retried in a loop (they were:
      // ~30 000 writes a second per idle worker, which starved the machine)
      await sleep(300);
      const writes = workers.map(writeCalls);
      await sleep(1000);
      workers.forEach((w, i) => expect(writeCalls(w) - writes[i]!).toBeLessThan(50));
      process.kill(workers[0]!, 'SIGKILL');
      await until(() => (workersOf(p.pid!).length === 2 && !workersOf(p.pid!).includes(workers[0]!) ? true : undefined));
      expect(alive(workers[1]!)).toBe(true); // the other worker survived its own log writes
      process.kill(p.pid!, 'SIGHUP');
      await until(() => (workersOf(p.pid!).every((w) => !workers.includes(w)) && workersOf(p.pid!).length === 2 ? true : undefined));
      // a worker's first request may take longer than get()'s 2 s on a loaded machine
      await until(() => get(port));
      for (let i = 0; i < 10; i++) expect(await get(port)).toMatchObject({ status: 200 });
      expect(alive(p.pid!)).toBe(true);
      process.kill(p.pid!, 'SIGTERM');
      expect((await p).exitCode).toBe(0);
    }, 40_000);
  }

  for (const format of ['text', 'json']) {
    it(`its stderr a pipe nobody reads any more: keeps serving and respawning, then says how many lines it dropped (log-format ${format})`, async () => {
      const dir = scratch();
      const fifo = path.join(dir, 'stderr');
      await execa('mkfifo', [fifo]);
      const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const wfd = fs.openSync(fifo, 'w');
      const port = await freePort();
      const p = execa(LIEGE, ['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('handler.js'), '--log-format', format], { reject: false, detached: true, stdio: ['ignore', 'ignore', wfd], env: { TEST_LIEGE: '1' } });
      started.push(p);
      fs.closeSync(wfd);
      let seen = '';
      const drain = () => {
        const b = Buffer.alloc(1 << 16);
        for (;;) {
          let n = 0;
          try { n = fs.readSync(rfd, b); } catch { break; } // EAGAIN: empty for now
          if (n <= 0) break;
          seen += b.toString('utf8', 0, n);
        }
        return seen;
      };
      await until(() => (/master started/.test(drain()) ? true : undefined));
      const died = (w: number) => (format === 'json' ? new RegExp(`"worker_pid":${w},.*"msg":"worker died, respawning"`) : new RegExp(`worker died, respawning worker=\\d+ pid=${w} `));
      // stop reading: request log lines fill the pipe (64 KiB), then the
      // master's own lines (worker deaths and respawns) meet a full pipe
      const load = startLoad(port, 4);
      await until(() => (load.result.ok > 1500 ? true : undefined), 30_000);
      const r = await load.stop();
      expect(r.failed).toBe(0);
      // and whatever room the request lines left (batched, they may not
      // have filled it on a loaded machine) is filled by us: full for sure
      // to the last byte: a pipe takes a short line while any room is left
      const filler = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      for (const size of [4096, 256, 16, 1]) {
        try {
          for (;;) fs.writeSync(filler, '.'.repeat(size - 1) + '\n');
        } catch { /* EAGAIN: no room for this size */ }
      }
      fs.closeSync(filler);
      for (let i = 0; i < 3; i++) {
        const w = workersOf(p.pid!)[0]!;
        process.kill(w, 'SIGKILL');
        await until(() => (workersOf(p.pid!).length === 2 && !workersOf(p.pid!).includes(w) ? true : undefined));
      }
      for (let i = 0; i < 10; i++) expect(await get(port)).toMatchObject({ status: 200 });
      // read again: the next master line comes after the count of lost ones
      drain();
      const w = workersOf(p.pid!)[0]!;
      process.kill(w, 'SIGKILL');
      await until(() => (died(w).test(drain()) ? true : undefined));
      expect(seen).toMatch(format === 'json' ? /"component":"log","lines":\d+,"msg":"log lines dropped: stderr was full or closed"/ : /log: WARN log lines dropped: stderr was full or closed lines=\d+/);
      process.kill(p.pid!, 'SIGTERM');
      const end = setInterval(drain, 50); // keep the pipe flowing while it stops
      expect((await p).exitCode).toBe(0);
      clearInterval(end);
      fs.closeSync(rfd);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);
  }

  it('a worker being replaced that the kernel SIGKILLs (the OOM killer) is a crash, not "killed by us": logged with its signal, no drain reason', async () => {
    const dir = scratch();
    const port = await freePort();
    const mark = path.join(dir, 'slow');
    const fifo = path.join(dir, 'fifo');
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('slow-reboot.js'), '--master-fifo', fifo], { env: { SLOW_MARK: mark } });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => get(port));
    await until(() => (/master started/.test(err) ? true : undefined));
    const [old] = workersOf(p.pid!);
    fs.writeFileSync(mark, '');
    fs.writeFileSync(fifo, 'w'); // a replacement starts (and boots for 3 s)
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined));
    process.kill(old!, 'SIGKILL');
    await until(() => (/worker died/.test(err) ? true : undefined));
    const line = err.split('\n').find((l) => /worker died/.test(l))!;
    expect(line).toMatch(new RegExp(`pid=${old} .*signal=SIGKILL`));
    expect(line).not.toMatch(/reason=/);
    fs.rmSync(mark);
  });

  it('EMFILE when spawning a worker: logged, retried with backoff, serving with the other worker meanwhile', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('handler.js')]);
    started.push(p);
    await until(() => get(port));
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined));
    const [gone, other] = workersOf(p.pid!);
    // the master's soft limit of open files below what it holds: a spawn
    // (pipes for the worker's stdio and channel) fails with EMFILE
    await execa('prlimit', ['--pid', String(p.pid), '--nofile=8:']);
    process.kill(gone!, 'SIGKILL');
    await sleep(2500);
    expect(workersOf(p.pid!)).toEqual([other]);
    for (let i = 0; i < 10; i++) expect(await get(port)).toMatchObject({ status: 200, pid: String(other) });
    await execa('prlimit', ['--pid', String(p.pid), '--nofile=1024:']);
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined), 10_000);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    const retries = r.stderr.split('\n').filter((l) => /unable to spawn a worker: .*EMFILE/.test(l));
    expect(retries.length).toBeGreaterThanOrEqual(3);
    // growing backoff between the retries
    const waits = retries.map((l) => Number(/retryMs=(\d+)/.exec(l)?.[1]));
    expect(waits[2]!).toBeGreaterThan(waits[0]!);
  }, 40_000);

  it('EMFILE at a reload: refused as a reload, saying the master is out of file descriptors (before: as if the config were unreadable); the running workers serve, a reload once the limit is raised goes through', async () => {
    const port = await freePort();
    const dir = scratch();
    const ini = path.join(dir, 'emfile.ini');
    fs.writeFileSync(ini, ['[uwsgi]', 'master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${app('handler.js')}`, ''].join('\n'));
    const p = startLiege(['--ini', ini]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => (/master started/.test(err) ? true : undefined));
    await execa('prlimit', ['--pid', String(p.pid), '--nofile=8:']);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload refused/.test(err) ? true : undefined));
    expect(err).toMatch(/reload refused, the running generation keeps serving: .*emfile\.ini: EMFILE.*; the master is out of file descriptors: EMFILE, too many open files: raise the limit/);
    expect(await get(port)).toMatchObject({ status: 200 });
    await execa('prlimit', ['--pid', String(p.pid), '--nofile=1024:']);
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done/.test(err) ? true : undefined), 20_000);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  it('reload-on-rss recycles leaking workers under keep-alive load, losing no request', async () => {
    const port = await freePort();
    // leak.js keeps 1 MiB per request: a worker passes 120 MiB within ~80 requests
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('leak.js'), '--reload-on-rss', '120']);
    started.push(p);
    await until(() => get(port));
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined));
    const old = workersOf(p.pid!);
    const load = startLoad(port, 8);
    // until both first workers were recycled and their replacements answered
    await until(() => (old.every((w) => !alive(w)) && [...load.result.pids].filter((x) => !old.includes(Number(x))).length >= 2 ? true : undefined), 40_000);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/recycling: reload-on-rss: RSS \d+ MiB/);
  }, 60_000);

  it('an app that leaks every file descriptor: one clear line (not an uncaught exception in liege\'s heartbeat), the worker is not killed for it', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('fd-leak.js'), '--disable-logging']);
    started.push(p);
    await until(() => get(port));
    const [worker] = workersOf(p.pid!);
    await execa('prlimit', ['--pid', String(worker), '--nofile=256:256']); // not the machine's limit (could be a million)
    // the keep-alive connection stays usable once no descriptor is left
    const agent = await fetch(`http://127.0.0.1:${port}/leak`);
    expect(await agent.text()).toMatch(/^open \d+/);
    await sleep(2500); // two heartbeats, each reading the worker's RSS
    expect(alive(worker!)).toBe(true);
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.stderr).toMatch(/the worker is out of file descriptors .*EMFILE/);
    expect(res.stderr.match(/out of file descriptors/g)).toHaveLength(1);
    expect(res.stderr).not.toMatch(/uncaught exception/);
  }, 60_000);

  it('an uncaught exception in the app ends the worker as a drain: its other requests in flight finish, a replacement serves', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app('throws-later.js'), '--disable-logging']);
    started.push(p);
    await until(() => get(port));
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined));
    const old = workersOf(p.pid!);
    // both accepting (each answered), then older than a crash loop's 1 s
    const answered = new Set<string>();
    await until(async () => {
      answered.add(String((await get(port))?.pid));
      return old.every((w) => answered.has(String(w))) ? true : undefined;
    }, 20_000);
    await sleep(1200);
    const load = startLoad(port, 16);
    await sleep(300);
    // /throw reaches one worker, which ends
    expect((await fetch(`http://127.0.0.1:${port}/throw`, { headers: { connection: 'close' } })).status).toBe(200);
    await until(() => (old.some((w) => !alive(w)) && workersOf(p.pid!).length === 2 ? true : undefined), 20_000);
    await sleep(300);
    const r = await load.stop();
    expect(r.errors).toEqual({});
    expect(r.failed).toBe(0);
    expect(r.ok).toBeGreaterThan(100);
    await until(async () => ((await get(port))?.pid === String(workersOf(p.pid!).find((w) => !old.includes(w))) ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    const res = await p;
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/LIEGE_ERR_APP/);
    expect(res.stderr).toMatch(/worker ends after an uncaught exception: replacing it while it drains .*thrown on purpose/);
  }, 60_000);
});
