// `liege top ADDR`: a live view of a stats server (`stats = ADDR`), like
// uwsgitop: one line for the instance, one per worker, refreshed every
// second; `q` or Ctrl-C quits. `--once` prints one frame and exits. An
// instance that stops (its stats address refuses connections, or its unix
// socket is gone) for GONE_MS in a row ends the view with status 1, as
// uwsgitop exits on a refused connection (the grace covers a restart by a
// service manager; a reload keeps the stats socket open); other failures (a
// master that does not answer in time) are shown and retried. On an
// emperor's stats (`emperor-stats = ADDR`) it shows the vassals, and for
// etcd emperors the cluster (top-emperor.ts).
import * as net from 'node:net';
import { LiegeError } from '../errors';
import { emperorFrame, isEmperorStats, type EmperorStats } from './top-emperor';

interface Worker { id: number; pid: number; requests: number; exceptions: number; status: string; rss: number; avg_rt: number; respawn_count: number; tx: number; last_spawn: number }
interface Draining { id: number; pid: number; reason: string; draining_ms: number; busy: number; request: string | null; rss: number }
interface Stats { pid: number; version: string; workers: Worker[]; draining?: Draining[]; sockets: Array<{ name: string; proto: string }> }

/** How long a stats server may take to speak first (plain stats answer at
 * once) before it is taken for a stats-http one and sent a request. */
const HTTP_PROBE_MS = 300;

/** Reads one stats dump (plain JSON or behind HTTP headers) from ADDR.
 * The request line goes only to a server that has not spoken: a plain one
 * closes once it wrote, and a request written then meets EPIPE (a unix
 * socket: `liege top` failed on most tries). */
export function readStats(addr: string): Promise<Stats | EmperorStats> {
  return new Promise((resolve, reject) => {
    // `http://HOST:PORT[/]` as uwsgitop takes it for a stats-http server: the address is what counts
    const m = /^(.*):(\d+)$/.exec(addr.replace(/^http:\/\/([^/]+)\/?$/, '$1'));
    const c = m ? net.connect(Number(m[2]), m[1] || '127.0.0.1') : net.connect({ path: addr });
    let text = '';
    let probe: NodeJS.Timeout | undefined;
    c.setTimeout(3000, () => c.destroy(new Error('timed out')));
    c.on('connect', () => { probe = setTimeout(() => c.write('GET / HTTP/1.0\r\n\r\n'), HTTP_PROBE_MS); }); // stats-http waits for a request
    c.on('data', (d) => { clearTimeout(probe); text += d; });
    c.on('error', (e) => { clearTimeout(probe); reject(e); });
    c.on('end', () => {
      clearTimeout(probe);
      const body = text.startsWith('HTTP/') ? text.slice(text.indexOf('\r\n\r\n') + 4) : text;
      try {
        resolve(JSON.parse(body) as Stats | EmperorStats);
      } catch {
        reject(new Error('not a stats document'));
      }
    });
  });
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)}M`;

/** One frame of the view; `prev` gives per-second rates. */
export function frame(s: Stats | EmperorStats, prev: Stats | EmperorStats | undefined, seconds: number): string {
  if (isEmperorStats(s)) return emperorFrame(s);
  if (prev && isEmperorStats(prev)) prev = undefined;
  const total = s.workers.reduce((a, w) => a + w.requests, 0);
  const before = prev ? prev.workers.reduce((a, w) => a + w.requests, 0) : total;
  const rps = prev ? Math.max(0, (total - before) / seconds) : 0;
  const lines = [
    `liege ${s.version} - master pid ${s.pid} - ${s.sockets.map((x) => `${x.name} (${x.proto})`).join(', ')}`,
    `requests: ${total}  req/s: ${rps.toFixed(1)}  workers: ${s.workers.length}`,
    '',
    'WID  PID      REQ        RPS     EXC   STATUS  AVG(ms)  RSS       RESP  TX',
  ];
  for (const w of s.workers) {
    const p = prev?.workers.find((x) => x.id === w.id);
    const wr = p && p.pid === w.pid ? Math.max(0, (w.requests - p.requests) / seconds) : 0;
    lines.push([String(w.id).padEnd(4), String(w.pid).padEnd(8), String(w.requests).padEnd(10), wr.toFixed(1).padEnd(7), String(w.exceptions).padEnd(5), w.status.padEnd(7), (w.avg_rt / 1000).toFixed(2).padEnd(8), mb(w.rss).padEnd(9), String(w.respawn_count).padEnd(5), mb(w.tx)].join(' '));
  }
  // what a reload or a stop waits for
  const draining = s.draining ?? [];
  if (draining.length) lines.push('', 'draining:', 'WID  PID      FOR(s)  BUSY  RSS       WHY / OLDEST REQUEST');
  for (const d of draining) {
    lines.push([String(d.id).padEnd(4), String(d.pid).padEnd(8), (d.draining_ms / 1000).toFixed(0).padEnd(7), String(d.busy).padEnd(5), mb(d.rss).padEnd(9), d.request ? `${d.reason} / ${d.request}` : d.reason].join(' '));
  }
  return lines.join('\n') + '\n';
}

const GONE_MS = 3000;

/** A failure that says nothing listens at the address any more. */
const isGone = (e: unknown) => ['ECONNREFUSED', 'ENOENT'].includes((e as NodeJS.ErrnoException).code ?? '');

export async function topCommand(argv: string[]): Promise<number> {
  const once = argv.includes('--once');
  const addr = argv.find((a) => !a.startsWith('--'));
  if (!addr) throw new LiegeError('LIEGE_ERR_USAGE', 'usage: liege top ADDR [--once]', { expected: 'the address of a stats server (stats = ADDR or emperor-stats = ADDR)' });
  const unreadable = (e: unknown) => new LiegeError('LIEGE_ERR_USAGE', `unable to read stats from ${addr}: ${(e as Error).message}`, { text: addr, expected: 'a running liege with stats = ADDR or emperor-stats = ADDR' });
  let prev: Stats | EmperorStats;
  try {
    prev = await readStats(addr);
  } catch (e) {
    throw unreadable(e);
  }
  if (once) {
    process.stdout.write(frame(prev, undefined, 1));
    return 0;
  }
  const tty = process.stdin.isTTY;
  if (tty) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
  }
  return new Promise<number>((resolve, reject) => {
    let ended = false;
    const end = () => {
      ended = true;
      clearInterval(timer);
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stdout.write('\n');
    };
    const quit = () => {
      end();
      resolve(0);
    };
    process.stdin.on('data', (d: Buffer) => { if (d[0] === 0x71 || d[0] === 0x03) quit(); }); // q, Ctrl-C
    process.once('SIGINT', quit);
    let goneSince: number | undefined;
    const draw = async () => {
      try {
        const now = await readStats(addr);
        if (ended) return;
        process.stdout.write(`\x1b[H\x1b[2J${frame(now, prev, 1)}`);
        prev = now;
        goneSince = undefined;
      } catch (e) {
        if (ended) return;
        if (!isGone(e)) goneSince = undefined;
        else goneSince ??= Date.now();
        if (goneSince !== undefined && Date.now() - goneSince >= GONE_MS) {
          end();
          reject(new LiegeError('LIEGE_ERR_SYSCALL', `the instance at ${addr} is gone: no stats server there for ${GONE_MS / 1000} s (${(e as Error).message})`));
          return;
        }
        process.stdout.write(`\x1b[H\x1b[2J${unreadable(e).message}\n`);
      }
    };
    const timer = setInterval(() => void draw(), 1000);
    void draw();
  });
}
