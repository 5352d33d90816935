// liege attach NAME|PID [--socket PATH] [--attach-dir DIR]: connect this
// terminal to a pty daemon (attach-daemon-pty). Keys go to the daemon;
// Ctrl-\ then d detaches and leaves it running (Ctrl-\ twice sends one).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { findOption } from '../config/options';
import { LiegeError } from '../errors';
import { ATTACH_FRAME, DETACH_KEY, DETACH_PREFIX, frame } from '../ipc/attach';
import { parseArgs } from './bundle-args';

const attachError = (message: string, text: string, expected: string) => new LiegeError('LIEGE_ERR_ATTACH', message, { text, expected });

/** NAME → <dir>/NAME.<pid>.sock; PID → <dir>/*.PID.sock. */
export function findSocket(dir: string, target: string): string {
  let names: string[] = [];
  try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.sock')); } catch { /* none */ }
  const byPid = /^\d+$/.test(target);
  const hits = names.filter((n) => (byPid ? n.endsWith(`.${target}.sock`) : n.replace(/\.\d+\.sock$/, '') === target));
  if (hits.length === 1) return path.join(dir, hits[0]!);
  const running = names.map((n) => n.replace(/\.sock$/, '')).join(', ') || 'none';
  if (hits.length === 0) throw attachError(`no pty daemon ${target} in ${dir}`, target, `a daemon name or pid (running: ${running})`);
  throw attachError(`several pty daemons are named ${target}`, target, `one of their pids: ${hits.map((n) => n.split('.').at(-2)).join(', ')}`);
}

export async function attachCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['socket', 'attach-dir']);
  const dir = a.flags.get('attach-dir') ?? process.env.LIEGE_ATTACH_DIR ?? findOption('attach-dir')!.default!;
  const target = a.words[0];
  if (!a.flags.has('socket') && !target) throw attachError('missing argument', '', 'liege attach NAME|PID [--socket PATH]');
  const sock = a.flags.get('socket') ?? findSocket(dir, target!);
  const c = net.createConnection(sock);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', (e) => reject(attachError(`unable to connect to ${sock}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, sock, 'a running pty daemon\'s socket you may open')));
  });
  return session(c);
}

/** Pipes the terminal until detach (0) or the daemon's end (0 too). */
function session(c: net.Socket): Promise<number> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  if (tty) stdin.setRawMode(true);
  const resize = () => { if (process.stdout.columns) c.write(frame(ATTACH_FRAME.resize, Buffer.from(JSON.stringify({ cols: process.stdout.columns, rows: process.stdout.rows })))); };
  resize();
  process.stdout.on('resize', resize);
  process.stderr.write('[attached: Ctrl-\\ then d detaches]\r\n');
  return new Promise((resolve) => {
    let prefix = false;
    let done = false;
    const end = (why: string) => {
      if (done) return;
      done = true;
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onKeys);
      process.stdout.off('resize', resize);
      c.destroy();
      process.stderr.write(`\r\n[${why}]\r\n`);
      resolve(0);
    };
    const onKeys = (chunk: Buffer) => {
      const out: number[] = [];
      for (const byte of chunk) {
        if (prefix) {
          prefix = false;
          if (byte === DETACH_KEY) {
            if (out.length) c.write(frame(ATTACH_FRAME.input, Buffer.from(out)));
            return end('detached, the daemon keeps running');
          }
          if (byte !== DETACH_PREFIX) out.push(DETACH_PREFIX);
          out.push(byte);
        } else if (byte === DETACH_PREFIX) {
          prefix = true;
        } else {
          out.push(byte);
        }
      }
      if (out.length) c.write(frame(ATTACH_FRAME.input, Buffer.from(out)));
    };
    stdin.on('data', onKeys);
    c.on('data', (b: Buffer) => process.stdout.write(b));
    c.on('close', () => end('the daemon closed the connection'));
    c.on('error', () => undefined);
  });
}
