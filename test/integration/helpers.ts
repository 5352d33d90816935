// Spawning the real bin/liege (as root) for integration tests, in a private
// mount namespace, with scratch dirs and a cleanup of every process started.
import { execa, type ResultPromise } from 'execa';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const LIEGE = path.join(ROOT, 'bin', 'liege');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** A scratch dir (mode 755, so hooks dropped to nobody can enter it). */
export function scratch(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-test-'));
  fs.chmodSync(d, 0o755);
  return d;
}

/** Writes `[uwsgi]` + lines to dir/config.ini and returns its path. */
export function writeIni(dir: string, lines: string[], name = 'config.ini'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, ['[uwsgi]', ...lines, ''].join('\n'));
  return f;
}

/** Runs liege to completion inside `unshare --mount` (private mounts). */
export async function runLiege(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}) {
  return execa('unshare', ['--mount', '--propagation', 'private', '--', LIEGE, ...args], {
    cwd: opts.cwd,
    env: { TEST_LIEGE: '1', ...opts.env },
    reject: false,
    timeout: opts.timeout ?? 30_000,
    stdin: 'ignore',
  });
}

/** Starts a long-running liege (its own process group) for master tests. */
export function startLiege(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): ResultPromise {
  return execa(LIEGE, args, { cwd: opts.cwd, env: { TEST_LIEGE: '1', ...opts.env }, reject: false, detached: true, stdin: 'ignore', buffer: true });
}

/** Kills a started liege's whole process group, and anything left behind. */
export function killGroup(p: ResultPromise): void {
  try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
}

// Ports for the tests' listeners come from a range of this vitest worker's
// own (VITEST_POOL_ID), below Linux's ephemeral range (32768–60999): a port
// listen(0) picked and freed could be picked again by another test file's
// probe before the test bound it (an etcd member once took the port a
// liege under test was about to bind), and an ephemeral port may be any
// client connection's.
// LIEGE_TEST_PORT_BASE: this run's slot (test/port-slot.ts), apart from any
// other run's on the machine
const PORT_BASE = Number(process.env.LIEGE_TEST_PORT_BASE ?? 20_000) + (Number(process.env.VITEST_POOL_ID ?? 0) % 8) * 1000;
let portCursor = 0;

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// the ports fetch() refuses at once (the Fetch standard's "bad ports")
// within reach of a slot (test/port-slot.ts, LIEGE_TEST_PORT_BASE by hand)
const FETCH_BAD_PORTS = new Set([1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080]);

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = PORT_BASE + (portCursor++ % 1000);
    if (FETCH_BAD_PORTS.has(port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${PORT_BASE}-${PORT_BASE + 999}`);
}

/** GET http://127.0.0.1:port/ → status and headers, or undefined. */
export async function get(port: number): Promise<{ status: number; pid: string | undefined; body: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2000) });
    return { status: r.status, pid: r.headers.get('x-pid') ?? undefined, body: await r.text() };
  } catch {
    return undefined;
  }
}

export async function until<T>(f: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string; // R, S, Z …
  argv: string[];
}

/** Every process of the machine (from /proc). */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid: Number(p), ppid: Number(f[1]), pgid: Number(f[2]), state: f[0]!, argv });
    } catch { /* exited */ }
  }
  return out;
}

/** Child pids of a process (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(p));
    } catch { /* exited */ }
  }
  return out;
}

/** The write system calls a process made so far (all its threads; /proc/PID/io). */
export const writeCalls = (pid: number): number => Number(/^syscw: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

/** `sig` to each of `pids` one by one, then SIGCONT to each, as systemd's
 * KillMode=control-group does (one already gone is skipped: an earlier
 * signal of the same round may have ended it). */
export function signalEach(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) { try { process.kill(pid, sig); } catch { /* gone */ } }
  for (const pid of pids) { try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ } }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** A file's text once something wrote it, undefined before (a file is
 * created empty, then written: reading in between gives ''). */
export const written = (f: string): string | undefined => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') || undefined : undefined);

/** The non-empty lines of a file (a trace hooks append to), [] while it does not exist. */
export const lines = (f: string): string[] => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

/** GET / over a unix socket → the serving pid (X-Pid), or undefined. */
export function getUnix(sock: string, timeoutMs = 2000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: sock, path: '/', headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? Number(res.headers['x-pid']) : undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
  });
}

/** One stats dump of a `stats` server (127.0.0.1:PORT, or a unix socket path), parsed (undefined until it answers). */
export function statsAt<T = unknown>(where: number | string): Promise<T | undefined> {
  return new Promise((resolve) => {
    const c = typeof where === 'number' ? net.connect(where, '127.0.0.1') : net.connect(where);
    let out = '';
    c.on('data', (d) => { out += d; });
    c.on('end', () => { try { resolve(JSON.parse(out) as T); } catch { resolve(undefined); } });
    c.on('error', () => resolve(undefined));
  });
}

/** A process's command line, spaces between the arguments; '' once it is gone (no race with its exit). */
export function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** A uwsgi request packet (modifiers 0): the vars block, then the body. */
export function uwsgiPacket(vars: Record<string, string>, body = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(vars)) {
    for (const s of [k, v]) {
      const b = Buffer.from(s, 'latin1');
      const n = Buffer.alloc(2);
      n.writeUInt16LE(b.length);
      parts.push(n, b);
    }
  }
  const block = Buffer.concat(parts);
  const head = Buffer.from([0, 0, 0, 0]);
  head.writeUInt16LE(block.length, 1);
  return Buffer.concat([head, block, body]);
}

/** SIGKILL every living process whose command line holds `mark` (the tag a
 * test gives the jobs its apps and hooks start: its cleanup). */
export function killMarked(mark: string): void {
  for (const x of processes()) {
    if (x.state === 'Z' || !x.argv.join(' ').includes(mark)) continue;
    try { process.kill(x.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** A daemon command that, on SIGTERM, appends `what` to `trace` and exits
 * with `status` (daemons under KillMode=control-group). */
export const trapDaemon = (trace: string, what: string, status: number): string =>
  `sh -c 'trap "echo ${what} >> ${trace}; exit ${status}" TERM; while :; do sleep 0.1; done'`;
