// The stats and metrics servers' listening sockets survive the master's
// re-exec like the serving sockets (sockets.ts): a scrape during a reload
// waits in the kernel's backlog for the new image instead of being refused
// (the re-exec takes ~200 ms). The old image does not close them: libuv
// would unlink a unix socket's path on close.
import type * as net from 'node:net';
import { native } from '../../os/native';

const ENV = 'LIEGE_CONTROL_FDS';

/** A control server's socket kept across the exec. */
interface Kept {
  name: string; // 'stats' | 'metrics'
  addr: string;
  fd: number;
}

export interface ControlServer {
  name: string;
  addr: string;
  server: net.Server;
}

/** Keep the servers' sockets open across the execve and say which is which. */
export function keepAcrossExec(servers: ControlServer[]): void {
  const kept: Kept[] = [];
  for (const s of servers) {
    const fd = (s.server as net.Server & { _handle?: { fd?: number } | null })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) continue;
    native.setCloexec(fd, false);
    kept.push({ name: s.name, addr: s.addr, fd });
  }
  process.env[ENV] = JSON.stringify(kept);
}

let inherited: Kept[] | undefined;

function inheritedList(): Kept[] {
  if (!inherited) {
    try {
      inherited = JSON.parse(process.env[ENV] ?? '[]') as Kept[];
    } catch {
      inherited = [];
    }
    delete process.env[ENV];
  }
  return inherited;
}

/** The socket the previous image served `name` on at `addr`, if any. */
export function takeInherited(name: string, addr: string): number | undefined {
  const list = inheritedList();
  const i = list.findIndex((k) => k.name === name && k.addr === addr);
  if (i < 0) return undefined;
  const fd = list.splice(i, 1)[0]!.fd;
  native.setCloexec(fd, true);
  return fd;
}

/** Close what the new config no longer serves (a unix path stays as a
 * stale socket file: the next bind of that path replaces it). */
export function closeUnclaimed(): void {
  for (const k of inheritedList()) {
    try {
      native.closeFd(k.fd);
    } catch { /* already closed */ }
  }
  inherited = [];
}
