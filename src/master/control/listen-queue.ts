// The accept queue of each liege socket: connections the kernel accepted
// that no worker took yet (uWSGI's listen_queue, the first sign that every
// worker is busy). For a TCP socket in LISTEN, /proc/net/tcp{,6} gives the
// queue's length as rx_queue; the socket is found by its inode. A unix
// socket's queue is not there: it reads 0.
import * as fs from 'node:fs';

/** The queue length of each fd's listening socket, in the same order. */
export function listenQueues(fds: number[]): number[] {
  const inodes = fds.map(inodeOf);
  const found = new Map<string, number>();
  if (inodes.some((i) => i)) {
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) readTable(table, found);
  }
  return inodes.map((i) => (i ? found.get(i) ?? 0 : 0));
}

// "socket:[12345]" → "12345"
function inodeOf(fd: number): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
}

const LISTEN = '0A';

// columns: sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode
function readTable(table: string, found: Map<string, number>): void {
  let text: string;
  try {
    text = fs.readFileSync(table, 'latin1');
  } catch {
    return; // no IPv6
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] !== LISTEN || f[9] === undefined) continue;
    const queue = parseInt(f[4]?.split(':')[1] ?? '', 16);
    if (Number.isFinite(queue)) found.set(f[9], queue);
  }
}
