// Native errors shaped like Node's: the errno by name, the syscall that
// failed, getaddrinfo's own codes, the exec errno of the vfork child; the
// async spawn; the addon loader's list of paths and `cause`.
// V8's low-memory GC.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { LiegeError } from '../../../src/errors';
import { loadNative, native, NATIVE_DIR } from '../../../src/os/native';
import { spawnAwait } from '../../../src/os/spawn';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-native-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function thrown(f: () => unknown): NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string } {
  try {
    f();
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected an error');
}

describe('native errors', () => {
  it('an exec failure in the vfork child comes back as its errno (ENOENT, EACCES), not as status 127', () => {
    const e = thrown(() => native.spawnWait('/nonexistent/prog', ['prog']));
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'execve', path: '/nonexistent/prog', errno: -2 });
    const file = path.join(dir, 'not-executable');
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
    expect(thrown(() => native.spawnWait(file, [file]))).toMatchObject({ code: 'EACCES', syscall: 'execve' });
    // a program that starts and exits 127 is a status, not an error
    expect(native.spawnWait('/bin/sh', ['sh', '-c', 'exit 127'])).toEqual([127, 0, 0]); // (third: no stop signal came)
  });

  // (the watchdog's pings while an exec hook runs: src/os/watchdog.ts)
  it('spawnWait calls tick every everyMs while the program runs, its status unchanged; a tick that throws does not end the wait', () => {
    for (const passStop of [false, true]) {
      let ticks = 0;
      const started = Date.now();
      expect(native.spawnWait('/bin/sh', ['sh', '-c', 'sleep 0.5; exit 3'], null, passStop, undefined, 50, () => { ticks++; })).toEqual([3, 0, 0]);
      // (one per 50 ms slept: counted against the time it really took)
      expect(ticks).toBeGreaterThanOrEqual(3);
      expect(ticks).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 50));
      expect(native.spawnWait('/bin/sh', ['sh', '-c', 'sleep 0.2'], null, passStop, undefined, 20, () => { throw new Error('tick'); })).toEqual([0, 0, 0]);
    }
  });

  it('names every errno, also the ones a short table missed', () => {
    const busy = net.createServer();
    return new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => {
      const port = (busy.address() as net.AddressInfo).port;
      const e = thrown(() => native.listenTcp('127.0.0.1', port, 5));
      expect(e).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port });
      expect(e.message).toBe(`EADDRINUSE, bind 127.0.0.1:${port}: Address already in use`);
      busy.close(() => resolve());
    }));
  });

  it('says which step failed: bind of an address not on this host', () => {
    expect(thrown(() => native.listenTcp('192.0.2.1', 0, 5))).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
  });

  it('reports getaddrinfo failures by their own code', () => {
    const e = thrown(() => native.listenTcp('no-such-host.invalid', 0, 5));
    expect(e.code).toMatch(/^EAI_(NONAME|AGAIN|FAIL|NODATA)$/);
    expect(e).toMatchObject({ syscall: 'getaddrinfo', hostname: 'no-such-host.invalid' });
  });

  it('unix sockets: a path too long, a directory that is not there', () => {
    expect(thrown(() => native.listenUnix('/tmp/' + 'x'.repeat(200), 5))).toMatchObject({ code: 'ENAMETOOLONG', syscall: 'bind' });
    expect(thrown(() => native.listenUnix(path.join(dir, 'no', 'such.sock'), 5))).toMatchObject({ code: 'ENOENT', syscall: 'bind', path: path.join(dir, 'no', 'such.sock') });
  });

  it('path errors carry the path', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    expect(thrown(() => native.chroot(path.join(file, 'sub')))).toMatchObject({ code: 'ENOTDIR', syscall: 'chroot', path: path.join(file, 'sub') });
  });
});

describe('async spawn', () => {
  it('resolves with the status while the loop keeps running', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const status = await spawnAwait('/bin/sh', ['sh', '-c', 'sleep 0.3; exit 5']);
    clearInterval(timer);
    expect(status).toEqual([5, 0]);
    expect(ticks).toBeGreaterThan(5); // a blocking wait would have let none through
  });

  it('reports a signal, passes an environment, rejects an exec failure', async () => {
    expect(await spawnAwait('/bin/sh', ['sh', '-c', 'kill -TERM $$'])).toEqual([-1, 15]);
    expect(await spawnAwait('/bin/sh', ['sh', '-c', 'test "$ONLY" = here'], { ONLY: 'here' })).toEqual([0, 0]);
    await expect(spawnAwait('/nonexistent', ['x'])).rejects.toMatchObject({ code: 'ENOENT', syscall: 'execve' });
  });

  it('many at once each get their own status', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnAwait('/bin/sh', ['sh', '-c', `exit ${i}`])));
    expect(all.map(([code]) => code)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('addon loader', () => {
  it('lists every path it tried and keeps the real load error as cause', () => {
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'liege_native.node'), 'not an ELF file');
    const e = thrown(() => loadNative([path.join(dir, 'absent'), broken])) as unknown as LiegeError;
    expect(e).toBeInstanceOf(LiegeError);
    expect(e.code).toBe('LIEGE_ERR_NATIVE');
    expect(e.message).toContain(path.join(dir, 'absent', 'liege_native.node'));
    expect(e.message).toContain(path.join(broken, 'liege_native.node'));
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ERR_DLOPEN_FAILED');
  });

  it('loads the built addon', () => {
    expect(typeof loadNative([NATIVE_DIR]).spawnWait).toBe('function');
  });
});

describe('native heap', () => {
  it('lowMemory collects and shrinks the heap: garbage of a burst does not stay resident', () => {
    const physical = () => v8.getHeapStatistics().total_physical_size;
    let burst: Array<{ i: number; s: string }> | null = [];
    for (let i = 0; i < 200_000; i++) burst.push({ i, s: `x${i}` });
    burst = null;
    const before = physical();
    native.lowMemory();
    // the burst alone is > 10 MiB of objects; without the GC nothing changes
    expect(before - physical()).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('lowMemory(agingGcs): functions whose bytecode the aging GCs dropped run again, closures and all', () => {
    // functions run once (compiled), kept alive, then idle through the aging GCs
    const made = Array.from({ length: 200 }, (_, i) => new Function('state', `return (n) => { let s = state.base + ${i}; for (let k = 0; k < n; k++) s += k % 7; state.calls++; return s; };`)({ base: i * 10, calls: 0 }) as (n: number) => number);
    const first = made.map((f) => f(50));
    native.lowMemory(6);
    expect(made.map((f) => f(50))).toEqual(first);
  });
});

describe('shutdownListen (a stop refuses new connections)', () => {
  /** What a connect() gets: 'connected' (the socket kept open, to see its fate later) or the error code. */
  const connect = (opts: net.NetConnectOpts) => new Promise<{ result: string; sock: net.Socket }>((resolve) => {
    const sock = net.connect(opts);
    sock.once('connect', () => resolve({ result: 'connected', sock }));
    sock.once('error', (e: NodeJS.ErrnoException) => resolve({ result: e.code ?? String(e), sock }));
  });
  /** How a connected socket ended within ms: its error code, 'end' (a FIN), or 'open'. */
  const fate = (sock: net.Socket, ms: number) => new Promise<string>((resolve) => {
    const errored = (sock as net.Socket & { errored?: NodeJS.ErrnoException | null }).errored;
    if (errored) return resolve(errored.code ?? String(errored)); // (came already)
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    sock.once('end', () => resolve('end'));
    sock.resume();
    setTimeout(() => resolve('open'), ms);
  });

  it('TCP: a connect() is refused from then on; a connection still in the accept queue is reset', async () => {
    const fd = native.listenTcp('127.0.0.1', 0, 8);
    const port = native.sockPort(fd);
    const queued = await connect({ port, host: '127.0.0.1' });
    expect(queued.result).toBe('connected'); // (in the queue: nobody accepts)
    queued.sock.resume();
    native.shutdownListen(fd);
    expect((await connect({ port, host: '127.0.0.1' })).result).toBe('ECONNREFUSED');
    expect(await fate(queued.sock, 1000)).toBe('ECONNRESET');
    native.closeFd(fd);
  });

  it('unix: a connect() is refused from then on; the queue stays and can still be accepted', async () => {
    const file = path.join(dir, 'refuse.sock');
    const fd = native.listenUnix(file, 8);
    const queued = await connect({ path: file });
    expect(queued.result).toBe('connected');
    native.shutdownListen(fd);
    expect((await connect({ path: file })).result).toBe('ECONNREFUSED');
    // a server on the fd (a worker) still takes the queued connection
    const server = net.createServer((c) => c.end('served\n'));
    await new Promise<void>((ok) => server.listen({ fd }, ok));
    const body = await new Promise<string>((ok) => { let b = ''; queued.sock.on('data', (d) => (b += d)); queued.sock.on('end', () => ok(b)); });
    expect(body).toBe('served\n');
    await new Promise((ok) => server.close(ok));
  });
});
