// Listening sockets: bound by the master as root before the privilege drop
// (native, so the master itself never accepts), inherited across a reload
// through LIEGE_SOCKET_FDS, and passed to every worker as fds 4, 5, ...
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { native } from '../os/native';

export interface BoundSocket {
  addr: string; // as configured
  fd: number;
  port: number; // the real TCP port (for :0), 0 for unix sockets
}

const INHERITED = 'LIEGE_SOCKET_FDS';

function bindOne(addr: string): BoundSocket {
  if (addr.includes('/') || addr.startsWith('@')) return { addr, fd: native.listenUnix(addr, 511), port: 0 };
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  const fd = native.listenTcp(host === '' || host === '*' ? '0.0.0.0' : host, Number(addr.slice(colon + 1)), 511);
  return { addr, fd, port: native.sockPort(fd) };
}

/** The configured sockets: inherited ones after a reload, else bound now. */
export async function bindSockets(cfg: Config): Promise<BoundSocket[]> {
  const inherited = JSON.parse(process.env[INHERITED] ?? '[]') as BoundSocket[];
  delete process.env[INHERITED];
  const out: BoundSocket[] = [];
  for (const s of [...cfg.list('socket'), ...cfg.list('http-socket')]) {
    const old = inherited.find((i) => i.addr === s.value);
    if (old) {
      native.setCloexec(old.fd, true);
      out.push(old);
      continue;
    }
    try {
      out.push(bindOne(s.value));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      // the step that failed (getaddrinfo, socket, bind, listen) and its code (EADDRINUSE, EAI_NONAME ...)
      throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to ${err.syscall ?? 'bind'} ${s.value}: ${err.code}`, { origin: s.origin, text: s.value, expected: 'a free address this user may bind', cause: e });
    }
  }
  for (const old of inherited) if (!out.includes(old)) native.closeFd(old.fd); // removed from the config
  return out;
}

/** Make the sockets survive execve and tell the next generation about them. */
export function handOverSockets(sockets: BoundSocket[]): void {
  for (const s of sockets) native.setCloexec(s.fd, false);
  process.env[INHERITED] = JSON.stringify(sockets);
}
