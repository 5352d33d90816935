// Listening sockets: bound by the master as root before the privilege drop
// (native, so the master itself never accepts), inherited across a reload
// through LIEGE_SOCKET_FDS or from systemd (LISTEN_FDS), and passed to
// every worker as fds 4, 5, ... with the protocol each speaks:
// `socket`/`uwsgi-socket` uWSGI's binary protocol (as in uWSGI),
// `http-socket` HTTP/1.1, `https-socket = ADDR,CERT,KEY[,CIPHERS]` HTTPS.
// A unix socket path is only ever replaced when it is a stale socket.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config, Setting } from '../config/config';
import { formatOrigin, LiegeError } from '../errors';
import type { SocketInfo, SocketProtocol } from '../ipc/worker';
import { log } from '../log';
import { isLiveUnixSocket } from '../os/live-socket';
import { native } from '../os/native';
import { tcpAddress } from '../os/tcp-address';
import { heldBy } from './socket-holders';
import { lookupGroup, lookupUser } from '../os/privileges';

export interface BoundSocket extends SocketInfo {
  fd: number;
  unixPath?: string; // a socket file we created (vacuum removes it)
  pemFiles?: string; // https: "CERT,KEY" the tls material was read from
  // also held by a process that listens on it after we end (systemd's
  // socket unit, an on-demand emperor): a stop only closes our copy
  external?: boolean;
}

const INHERITED = 'LIEGE_SOCKET_FDS';
const SD_FIRST_FD = 3;

interface Wanted {
  addr: string;
  proto: SocketProtocol;
  setting: Setting;
  tls?: { cert: string; key: string; ciphers?: string };
  pemFiles?: string; // https: "CERT,KEY" as configured
  unreadable?: LiegeError; // https: the PEM files this user may not read (a reload after the drop)
}

const SOCKET_PROTOS: Record<string, SocketProtocol> = { socket: 'uwsgi', 'http-socket': 'http', 'https-socket': 'https' };

/** What `socket` lines speak: uWSGI's `protocol` (http, http11: HTTP), else uwsgi. */
const defaultProto = (cfg: Config): SocketProtocol => (cfg.str('protocol')?.startsWith('http') ? 'http' : 'uwsgi');

/** The configured sockets, in the order workers see them: the config's
 * order, whatever their kind (as uWSGI; an app's first listen() takes the
 * first one). */
function wantedSockets(cfg: Config): Wanted[] {
  const out: Wanted[] = [];
  const abstract = cfg.bool('abstract-socket');
  const addr = (v: string) => (abstract && v.includes('/') && !v.startsWith('@') ? `@${v}` : v);
  for (const s of cfg.settings) {
    const proto = s.key === 'socket' ? defaultProto(cfg) : SOCKET_PROTOS[s.key];
    if (proto === 'https') out.push(httpsSocket(s, addr));
    else if (proto) out.push({ addr: addr(s.value), proto, setting: s });
  }
  return out;
}

/** Each address once, checked at load: a port given as http-socket and as
 * socket (or a unix path twice) would fail to bind against the instance's
 * own first socket ("EADDRINUSE", "a live socket" held by itself) after the
 * asap hooks ran. Shared-socket references (`=N`) may repeat. */
export function checkSocketsOnce(cfg: Config): void {
  const abstract = cfg.bool('abstract-socket');
  const seen = new Map<string, { key: string } & Setting>();
  for (const s of cfg.settings) {
    if (!SOCKET_PROTOS[s.key]) continue;
    let a = s.key === 'https-socket' ? (s.value.split(',')[0] ?? '') : s.value;
    if (a === '' || a.startsWith('=')) continue;
    if (abstract && a.includes('/') && !a.startsWith('@')) a = `@${a}`;
    const key = canonical(a);
    const first = seen.get(key);
    if (first) {
      throw new LiegeError('LIEGE_ERR_BAD_VALUE', `${a} is configured twice`, { origin: s.origin, text: s.value, expected: `an address not given before: ${formatOrigin(first.origin)} has it (${first.key})` });
    }
    seen.set(key, s);
  }
}

function httpsSocket(s: Setting, addr: (v: string) => string): Wanted {
  const [a, cert, key, ciphers] = s.value.split(',');
  if (!a || !cert || !key) throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'bad https-socket', { origin: s.origin, text: s.value, expected: 'ADDR,CERT,KEY[,CIPHERS]' });
  const wanted: Wanted = { addr: addr(a), proto: 'https', setting: s, pemFiles: `${cert},${key}` };
  try {
    wanted.tls = { cert: readPem(cert, s), key: readPem(key, s), ciphers };
  } catch (e) {
    // a reload re-execs as the user the master dropped to: a key only root
    // reads (the usual 0600) is refused to it. bindWanted keeps the running
    // generation's copy of the same files, if it has one
    const code = ((e as LiegeError).cause as NodeJS.ErrnoException | undefined)?.code;
    if ((code !== 'EACCES' && code !== 'EPERM') || process.getuid?.() === 0) throw e;
    wanted.unreadable = e as LiegeError;
    return wanted;
  }
  checkTls(wanted.tls, s);
  return wanted;
}

function readPem(file: string, s: Setting): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', `unable to read ${file}: ${(e as NodeJS.ErrnoException).code}`, { origin: s.origin, text: s.value, expected: 'a readable PEM certificate and key', cause: e });
  }
}

// The workers build their TLS context from these: a file that is no PEM, a
// key that does not match the certificate or unknown ciphers would
// otherwise fail in every worker, after the instance said it started
function checkTls(t: { cert: string; key: string; ciphers?: string }, s: Setting): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('node:tls') as typeof import('node:tls')).createSecureContext(t);
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', `bad https-socket certificate or key: ${(e as Error).message}`, { origin: s.origin, text: s.value, expected: 'a PEM certificate and its private key (and ciphers OpenSSL knows)', cause: e });
  }
}

function isUnix(addr: string): boolean {
  return addr.startsWith('@') || !/:\d+$/.test(addr);
}

/** Refuses anything at a unix socket path but a stale socket, which it removes. */
async function clearUnixPath(path: string, s: Setting): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return; // nothing there
  }
  const refuse = (why: string) => new LiegeError('LIEGE_ERR_SOCKET', `unable to bind ${path}: ${why}`, { origin: s.origin, text: s.value, expected: 'a free path, or a stale socket left by a dead instance' });
  if (!st.isSocket()) throw refuse('the path exists and is not a socket (refusing to remove it)');
  if (await isLiveUnixSocket(path)) throw refuse(`a live socket: another process is listening on it${heldBy({ path })}`);
  fs.unlinkSync(path);
}

async function bindOne(w: Wanted, cfg: Config, shared: BoundSocket[]): Promise<BoundSocket> {
  const backlog = cfg.int('listen');
  const info = { addr: w.addr, proto: w.proto, tls: w.tls, pemFiles: w.pemFiles, backlog };
  const ref = /^=(\d+)$/.exec(w.addr);
  if (ref) {
    const s = shared[Number(ref[1])];
    if (!s) throw new LiegeError('LIEGE_ERR_BAD_VALUE', `no shared-socket number ${ref[1]}`, { origin: w.setting.origin, text: w.setting.value, expected: `=0 … =${shared.length - 1} (a shared-socket index)` });
    return { ...info, fd: s.fd, port: s.port };
  }
  try {
    if (isUnix(w.addr)) {
      const unixPath = w.addr.startsWith('@') ? undefined : w.addr;
      // checked before the file exists: a bad owner leaves nothing behind
      const owner = unixPath ? ownershipOf(cfg) : undefined;
      if (unixPath) await clearUnixPath(unixPath, w.setting);
      const fd = native.listenUnix(w.addr, backlog);
      if (unixPath) applyOwnership(unixPath, owner!);
      return { ...info, fd, port: 0, unixPath };
    }
    const { host, port } = tcpAddress(w.addr);
    const fd = native.listenTcp(host, port, backlog, cfg.bool('reuse-port') ? 1 : 0);
    return { ...info, fd, port: native.sockPort(fd) };
  } catch (e) {
    if (e instanceof LiegeError) throw e;
    const err = e as NodeJS.ErrnoException;
    // the step that failed (getaddrinfo, socket, bind, listen) and its code (EADDRINUSE, EAI_NONAME ...)
    const holders = err.code === 'EADDRINUSE' && !isUnix(w.addr) ? heldBy({ port: tcpAddress(w.addr).port }) : '';
    const why = holders || missingDir(w.addr, err.code);
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to ${err.syscall ?? 'bind'} ${w.addr}: ${err.code}${why}`, { origin: w.setting.origin, text: w.setting.value, expected: 'a free address this user may bind', cause: e });
  }
}

interface Ownership {
  mode?: number;
  uid?: number;
  gid?: number;
}

/** chmod-socket (bare: 666, as uWSGI; the value is checked at load) and chown-socket, resolved. */
function ownershipOf(cfg: Config): Ownership {
  const out: Ownership = {};
  const mode = cfg.setting('chmod-socket');
  if (mode) {
    const v = mode.value.trim();
    out.mode = /^[0-7]+$/.test(v) ? parseInt(v, 8) : 0o666;
  }
  const own = cfg.setting('chown-socket');
  if (own) {
    const [u, g] = own.value.split(':');
    const user = lookupUser(u ?? '');
    const gid = g ? lookupGroup(g) : user?.gid;
    if (!user || gid === undefined) throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'bad chown-socket', { origin: own.origin, text: own.value, expected: 'USER[:GROUP] that exist' });
    out.uid = user.uid;
    out.gid = gid;
  }
  return out;
}

function applyOwnership(path: string, o: Ownership): void {
  if (o.mode !== undefined) fs.chmodSync(path, o.mode);
  if (o.uid !== undefined) fs.chownSync(path, o.uid, o.gid!);
}

/** A reload keeps a unix socket's file (inherited, not bound again): a
 * changed chmod-socket or chown-socket is applied to it now. The master may
 * have dropped root: what it may not change is said, not skipped in silence. */
function reapplyOwnership(path: string, cfg: Config, s: Setting): void {
  const want = ownershipOf(cfg);
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return; // the file is gone: the socket still serves, nothing to change
  }
  const modeDiffers = want.mode !== undefined && (st.mode & 0o7777) !== want.mode;
  const ownerDiffers = want.uid !== undefined && (st.uid !== want.uid || st.gid !== want.gid);
  if (!modeDiffers && !ownerDiffers) return;
  try {
    if (ownerDiffers) fs.chownSync(path, want.uid!, want.gid!);
    if (modeDiffers) fs.chmodSync(path, want.mode!);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    log('master').warn({ socket: path, errno: code }, `${formatOrigin(s.origin)}: unable to apply chmod-socket/chown-socket to ${path}, kept from the running generation: ${code} (the master runs as uid ${process.getuid?.()} since the privilege drop; a restart applies them)`);
  }
}

/** Sockets systemd passed (LISTEN_FDS for this pid), by their bound address. */
function systemdSockets(): Map<string, number> {
  const out = new Map<string, number>();
  const n = Number(process.env.LISTEN_FDS);
  if (!Number.isInteger(n) || n <= 0) return out;
  const owner = process.env.LISTEN_PID;
  // (as sd_listen_fds(1): read once, not by a reload's image or our children)
  delete process.env.LISTEN_FDS;
  delete process.env.LISTEN_PID;
  delete process.env.LISTEN_FDNAMES;
  if (owner !== String(process.pid)) {
    // (they are another process's; said, or the EADDRINUSE that follows
    // names the wrapper as the holder and nothing more). Their fds are left
    // open, as sd_listen_fds() leaves them (the wrapper holds its copy:
    // closing ours would free nothing); no child of ours gets them: Node
    // made the fds it inherited close-on-exec as it started (libuv's
    // uv_disable_stdio_inheritance: from 0 up to the first closed one past
    // 15; LISTEN_FDS's run from 3 without a gap), so no worker, hook,
    // daemon or vassal keeps the port listening with nobody to accept
    // (sockets.test.ts)
    if (owner) log('master').warn({ listen_pid: owner, listen_fds: n }, `LISTEN_FDS is set for pid ${owner}, not this process (pid ${process.pid}): the ${n} socket(s) systemd passed are not used (a wrapper between systemd and liege, \`sh -c\` without \`exec\` or \`npm start\`, is the unit's main process: start bin/liege itself, or exec it)`);
    return out;
  }
  for (let fd = SD_FIRST_FD; fd < SD_FIRST_FD + n; fd++) {
    const name = native.sockName(fd);
    if (name) out.set(name, fd);
  }
  return out;
}

/** The socket systemd passed for a configured address: its own, else, for
 * every interface (`:8080`, `0.0.0.0:8080`), the IPv6 one on every
 * interface: `ListenStream=8080` binds `[::]:8080`, which (systemd's
 * default BindIPv6Only=default, net.ipv6.bindv6only 0) takes IPv4 clients
 * too. Before, `:8080` missed it and binding again failed: EADDRINUSE. */
function systemdNameFor(addr: string, fromSystemd: Map<string, number>): string | undefined {
  const name = canonical(addr);
  if (fromSystemd.has(name)) return name;
  const any = /^0\.0\.0\.0:(\d+)$/.exec(name);
  if (any && fromSystemd.has(`[::]:${any[1]}`)) return `[::]:${any[1]}`;
  return undefined;
}

/** The configured address as getsockname spells it ("*:80" → "0.0.0.0:80"). */
function canonical(addr: string): string {
  if (isUnix(addr)) return addr;
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon);
  return `${host === '' || host === '*' ? '0.0.0.0' : host}:${addr.slice(colon + 1)}`;
}

/** The configured sockets: inherited ones after a reload or from systemd, else bound now. */
let inheritedList: BoundSocket[] | undefined;

/** The sockets the previous image handed over (read once from the env). */
export function inheritedSockets(): BoundSocket[] {
  inheritedList ??= JSON.parse(process.env[INHERITED] ?? '[]') as BoundSocket[];
  delete process.env[INHERITED];
  return inheritedList;
}

export async function bindSockets(cfg: Config): Promise<BoundSocket[]> {
  const inherited = inheritedSockets();
  const fromSystemd = systemdSockets();
  const shared: BoundSocket[] = [];
  const out: BoundSocket[] = [];
  try {
    for (const s of cfg.list('shared-socket')) {
      shared.push(await bindOne({ addr: s.value, proto: 'uwsgi', setting: s }, cfg, []));
    }
    await bindWanted(cfg, inherited, fromSystemd, shared, out);
  } catch (e) {
    // nothing half-done: the sockets bound (and socket files created) before
    // the one that failed go; a reload's fallback keeps only the inherited ones
    releaseSockets([...shared, ...out], inherited);
    throw e;
  }
  // systemd sockets no option names: served like uWSGI's default sockets (uwsgi protocol)
  for (const [name, fd] of fromSystemd) {
    native.setCloexec(fd, true);
    // (an HTTP client on a uwsgi socket waits for nothing: say how to change it)
    const hint = defaultProto(cfg) === 'uwsgi' ? `; no socket line names ${name}: for HTTP clients, add \`http-socket = ${name}\` or \`protocol = http\`` : '';
    log('master').info({ socket: name, fd }, `serving a socket passed by systemd (${defaultProto(cfg)} protocol${hint})`);
    out.push({ addr: name, proto: defaultProto(cfg), fd, port: isUnix(name) ? 0 : native.sockPort(fd), external: true });
  }
  // the inherited sockets the config no longer names stay open until the
  // new image commits (closeRemovedSockets): a later failure falls back to
  // the running generation, whose respawns still need them
  return out;
}

/** Once the new image serves: close the inherited sockets its config no
 * longer names (and, with vacuum, unlink their socket files). */
export function closeRemovedSockets(cfg: Config, kept: BoundSocket[]): void {
  for (const old of inheritedSockets()) {
    if (kept.some((k) => k.fd === old.fd)) continue;
    native.closeFd(old.fd);
    if (old.unixPath && cfg.bool('vacuum')) unlinkSocket(old.unixPath);
  }
}

/** A reload that failed after binding: release what the failed image bound
 * (added ports, new socket files), keeping the running generation's. */
export function releaseSockets(bound: BoundSocket[], running: BoundSocket[]): void {
  const closed = new Set(running.map((r) => r.fd)); // a shared socket's fd appears twice: closed once
  for (const s of bound) {
    if (closed.has(s.fd)) continue;
    closed.add(s.fd);
    native.closeFd(s.fd);
    if (s.unixPath) unlinkSocket(s.unixPath);
  }
}

function unlinkSocket(path: string): void {
  try {
    if (fs.lstatSync(path).isSocket()) fs.unlinkSync(path);
  } catch { /* already gone */ }
}

async function bindWanted(cfg: Config, inherited: BoundSocket[], fromSystemd: Map<string, number>, shared: BoundSocket[], out: BoundSocket[]): Promise<void> {
  for (const w of wantedSockets(cfg)) {
    const old = inheritedFor(w, inherited, out);
    if (w.unreadable) keepInheritedTls(w, old);
    if (old) {
      native.setCloexec(old.fd, true);
      if (old.unixPath) reapplyOwnership(old.unixPath, cfg, w.setting);
      out.push({ ...old, proto: w.proto, tls: w.tls, pemFiles: w.pemFiles });
      continue;
    }
    const sdName = systemdNameFor(w.addr, fromSystemd);
    const sd = sdName === undefined ? undefined : fromSystemd.get(sdName);
    if (sd !== undefined) {
      fromSystemd.delete(sdName!);
      log('master').info({ socket: w.addr, fd: sd }, `${formatOrigin(w.setting.origin)}: serving the socket systemd passed on ${sdName}`);
      native.setCloexec(sd, true);
      out.push({ addr: w.addr, proto: w.proto, tls: w.tls, fd: sd, port: isUnix(w.addr) ? 0 : native.sockPort(sd), external: true });
      continue;
    }
    out.push(await bindOne(w, cfg, shared));
  }
}

/** An https socket whose PEM files the master's user cannot read (a reload
 * after the privilege drop) serves on with the certificate and key the
 * running generation read from the same files; without them, the error. */
function keepInheritedTls(w: Wanted, old: BoundSocket | undefined): void {
  if (!old?.tls || old.pemFiles !== w.pemFiles) throw w.unreadable!;
  w.tls = old.tls;
  const user = process.getuid?.();
  log('master').warn({ socket: w.addr }, `${formatOrigin(w.setting.origin)}: ${w.unreadable!.message} as uid ${user} (the master dropped root at start): serving with the certificate and key read before; a renewed file is loaded only by a restart, or make the files readable by uid ${user} (e.g. group ssl-cert, mode 640)`);
}

/** The inherited socket bound to w's address, not yet taken: matched by
 * address only, so a reload that switches the protocol spoken on a port
 * (`http-socket` → `socket`) keeps the listening socket (binding it again
 * would fail with EADDRINUSE while the old one is open); the old workers
 * drain in the old protocol, the new ones speak the new one. */
function inheritedFor(w: Wanted, inherited: BoundSocket[], taken: BoundSocket[]): BoundSocket | undefined {
  const free = inherited.filter((i) => i.addr === w.addr && !taken.some((t) => t.fd === i.fd));
  return free.find((i) => i.proto === w.proto) ?? free[0];
}

/** Make the sockets survive execve and tell the next generation about them. */
export function handOverSockets(sockets: BoundSocket[]): void {
  for (const s of sockets) native.setCloexec(s.fd, false);
  // (the tls material too: a next image that may not read the PEM files
  // any more, having dropped root, serves on with it)
  process.env[INHERITED] = JSON.stringify(sockets);
}

/** A stop: every listening socket refuses new connections from now on, for
 * the workers too (they share it): shutdown(SHUT_RD). A connect() then fails
 * with ECONNREFUSED, and a proxy in front (nginx) tries its next upstream at
 * once, instead of a connection queued in the backlog that no worker takes
 * and that is reset when the instance exits: a 502 for a request already
 * sent, which nginx does not retry when it is a POST. TCP: the socket leaves
 * LISTEN, the connections still in its accept queue are reset (as at the
 * exit, only sooner); unix: the queue stays, workers may still take it. Not
 * a socket another process listens on after us (`external`). Never on a
 * reload: its sockets keep accepting across the re-exec. */
export function refuseConnections(sockets: BoundSocket[]): void {
  const done = new Set<number>(); // a shared socket (`=N`) appears twice
  for (const s of sockets) {
    if (s.external || done.has(s.fd)) continue;
    done.add(s.fd);
    try {
      native.shutdownListen(s.fd);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      log('master').warn({ socket: s.addr, errno: err.code }, `unable to shut down ${s.addr} at the stop: ${err.code} (new connections wait in its backlog until the instance exits)`);
    }
  }
}

/** What a worker needs to know of each socket. */
export function socketInfos(sockets: BoundSocket[]): SocketInfo[] {
  return sockets.map((s) => ({ addr: s.addr, proto: s.proto, port: s.port, tls: s.tls, backlog: s.backlog }));
}

// a unix socket's ENOENT: its directory is missing (named, with the way to make it)
function missingDir(addr: string, code: string | undefined): string {
  if (code !== 'ENOENT' || !isUnix(addr) || addr.startsWith('@')) return '';
  const dir = path.dirname(addr);
  if (fs.existsSync(dir)) return '';
  return ` (the directory ${dir} does not exist: create it first, e.g. hook-asap = mkdir:${dir}, or RuntimeDirectory= under systemd)`;
}
