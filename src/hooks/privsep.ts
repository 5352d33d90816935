// Escalated registry hooks (`--escalateprivs`), privilege-separated as
// OpenSSH does: while still root, before the jail and the uid drop, the
// master forks a small helper (privsep-main.ts) and keeps a socket to it.
// The helper loads the registry itself and runs, as root, only the entries
// that file marks escalateprivs, one request at a time, by id. The master
// asks it for exactly those; nothing else crosses the socket. The file
// must be owned by root and writable by nobody else (nor its directory),
// else the instance refuses to start. The socket survives a reload (its fd
// is passed across the re-exec); the helper exits when the master is gone.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { onLines } from '../ipc/lines';
import { log } from '../log';
import { native } from '../os/native';
import type { RegistryEntry } from './registry/entry';
import { setEscalator } from './registry/run';
import { loadRegistry } from './registry/store';

export const PRIVSEP_FD_ENV = 'LIEGE_PRIVSEP_FD';
const HELPER = path.resolve(__dirname, '..', 'hooks', 'privsep-main.js');

/** Refuses a registry that someone other than root could have written. */
export function checkTrusted(file: string): void {
  for (const p of [file, path.dirname(file)]) {
    const st = fs.statSync(p);
    const why = st.uid !== 0 ? `is owned by uid ${st.uid}, not root` : st.mode & 0o022 ? `is writable by ${st.mode & 0o020 ? 'its group' : 'others'} (mode ${(st.mode & 0o7777).toString(8)})` : undefined;
    if (why) throw new LiegeError('LIEGE_ERR_ESCALATION', `refusing to start: the hook registry has escalateprivs hooks and ${p} ${why}`, { text: file, expected: 'a registry file and directory owned by root, not writable by group or others (chown root; chmod go-w)' });
  }
}

/** Escalated entries of a registry (any: the helper is needed). */
export function escalated(entries: readonly RegistryEntry[]): RegistryEntry[] {
  return entries.filter((e) => e.escalateprivs);
}

/** The master's side: one request at a time, JSON lines. */
function useChannel(sock: net.Socket): void {
  const waiting: Array<(status: number) => void> = [];
  onLines(sock, (line) => {
    waiting.shift()?.((JSON.parse(line) as { status: number }).status);
  });
  const gone = () => {
    for (const w of waiting.splice(0)) w(125);
  };
  sock.on('close', gone);
  sock.on('error', gone);
  sock.unref();
  setEscalator((e, role) => {
    if (sock.destroyed) {
      log('hooks').error({ id: e.id }, 'the privileged helper is gone: escalated hook not run');
      return 125;
    }
    return new Promise<number>((resolve) => {
      waiting.push(resolve);
      sock.write(JSON.stringify({ id: e.id, role }) + '\n');
    });
  });
}

/** Before the jail and the drop (root only): forks the helper if the registry has escalated hooks. */
export function forkPrivsep(registry: string): void {
  if (!escalated(loadRegistry(registry)).length) return;
  checkTrusted(registry);
  const child = spawn(process.execPath, [HELPER, registry], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  child.unref();
  const sock = child.stdio[3] as net.Socket;
  // kept across a reload's re-exec (the socket's fd loses CLOEXEC)
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd !== undefined && fd >= 0) {
    native.setCloexec(fd, false);
    process.env[PRIVSEP_FD_ENV] = String(fd);
  }
  log('hooks').info({ pid: child.pid, registry }, 'privileged helper forked for escalated hooks');
  connected = true;
  useChannel(sock);
}

/** After a reload's re-exec: the helper of the first start is still there. */
let connected = false;

export function reconnectPrivsep(): void {
  const fd = Number(process.env[PRIVSEP_FD_ENV]);
  if (connected || !Number.isInteger(fd) || fd < 0) return;
  connected = true;
  try {
    useChannel(new net.Socket({ fd, readable: true, writable: true }));
  } catch (e) {
    log('hooks').error({ error: (e as Error).message }, 'unable to reach the privileged helper after the reload');
  }
}
