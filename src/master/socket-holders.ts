// Who holds a listening socket that liege may not take (a live unix socket,
// EADDRINUSE), named in the error: most often liege's own workers, of a
// second copy of the instance, or of a SIGKILLed master (they drain, for
// their death grace at most). Read from /proc (the
// socket's inode, then the processes with an fd on it), only on that
// failure path.
import * as fs from 'node:fs';
import { statFields } from '../os/proc-identity';

const MAX_NAMED = 3;

/** " (held by pid 123: node …/worker/main.js …)", or '' when /proc does not say. */
export function heldBy(where: { path: string } | { port: number }): string {
  const inodes = 'path' in where ? unixInodes(where.path) : tcpInodes(where.port);
  if (inodes.size === 0) return '';
  const pids = pidsWith(inodes);
  if (pids.length === 0) return '';
  const named = pids.slice(0, MAX_NAMED).map((p) => `pid ${p}: ${commandOf(p)}`);
  const more = pids.length > MAX_NAMED ? ` and ${pids.length - MAX_NAMED} more` : '';
  return ` (held by ${named.join(', ')}${more}${workersHint(pids)})`;
}

// liege workers hold it: those of a running instance (a second copy was
// started), or of a master that died (they drain, then exit)
function workersHint(pids: number[]): string {
  const workers = pids.filter((p) => /worker\/main\.js|^liege worker/.test(commandOf(p)));
  if (workers.length === 0) return '';
  const masters = [...new Set(workers.map(parentOf))].filter((m) => m > 1 && /liege/.test(commandOf(m)));
  if (masters.length > 0) return `; the workers of another liege instance, master pid ${masters.join(', ')}: stop it first (liege --stop PIDFILE), or give this one another address`;
  return '; liege workers whose master died: they drain and exit within their death grace, 3 s: start again then';
}

function parentOf(pid: number): number {
  try {
    return Number(statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))[1]);
  } catch {
    return 0;
  }
}

// /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; a listening socket has __SO_ACCEPTCON (0x10000) in Flags
function unixInodes(path: string): Set<string> {
  const out = new Set<string>();
  for (const line of readLines('/proc/net/unix')) {
    const f = line.trim().split(/\s+/);
    if (f[7] === path && (parseInt(f[3] ?? '0', 16) & 0x10000) !== 0) out.add(f[6]!);
  }
  return out;
}

// /proc/net/tcp{,6}: sl local rem st …; LISTEN is 0A, the inode is column 9
function tcpInodes(port: number): Set<string> {
  const out = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readLines(table)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && f[1]?.endsWith(`:${hex}`) && f[9]) out.add(f[9]);
    }
  }
  return out;
}

/** The other processes with an fd whose target (readlink of /proc/PID/fd/N)
 * `matches`: a socket's holders here, a master fifo's (vacuum.ts). */
export function pidsWithFd(matches: (target: string) => boolean): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (fds.some((fd) => matches(readLink(`/proc/${p}/fd/${fd}`)))) out.push(Number(p));
  }
  return out;
}

function pidsWith(inodes: Set<string>): number[] {
  return pidsWithFd((target) => {
    const m = /^socket:\[(\d+)\]$/.exec(target);
    return m !== null && inodes.has(m[1]!);
  });
}

function commandOf(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const text = argv.join(' ');
    return text.length > 80 ? `${text.slice(0, 79)}…` : text || '?';
  } catch {
    return '?';
  }
}

function readLink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '';
  }
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'latin1').split('\n').slice(1);
  } catch {
    return [];
  }
}
