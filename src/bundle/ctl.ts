// The channel between a configure hook and `liege set`: a unix socket in a
// fresh private directory (mode 0700, owned by the hook's uid) and a random
// token, both passed to that hook alone in LIEGE_CTL_SOCKET/LIEGE_CTL_TOKEN.
// The socket lives only while the hook runs. One JSON line each way:
//   {"token":…, "op":"get", "key":"db.port"} → {"ok":true, "value":5432}
//   {"token":…, "op":"set", "key":…, "value":…} / "unset" (snapctl set)
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { checkKey, getPath, withPath, type Settings } from './settings';
import { pidAlive } from './state';

export const CTL_SOCKET_ENV = 'LIEGE_CTL_SOCKET';
export const CTL_TOKEN_ENV = 'LIEGE_CTL_TOKEN';

export interface CtlRequest { token: string; op: 'get' | 'set' | 'unset'; key?: string; value?: unknown }
export interface CtlReply { ok: boolean; value?: unknown; error?: string }

export interface CtlChannel {
  env: Record<string, string>;
  /** The proposed settings, as the hook may have changed them. */
  settings(): Settings;
  close(): void;
}

/** Opens the channel serving `proposed`; `ids` own the private dir. */
export async function openCtl(proposed: Settings, ids: { uid?: number; gid?: number }): Promise<CtlChannel> {
  let current = proposed;
  const token = crypto.randomBytes(24).toString('hex');
  cleanStale();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `liege-ctl-${process.pid}-`));
  fs.chmodSync(dir, 0o700);
  if (ids.uid !== undefined) fs.chownSync(dir, ids.uid, ids.gid ?? -1);
  const sock = path.join(dir, 'ctl.sock');
  const answer = (req: CtlRequest): CtlReply => {
    if (req.token !== token) return { ok: false, error: 'bad token' };
    const keyPath = req.key ? checkKey(req.key) : [];
    if (req.op === 'get') return { ok: true, value: keyPath.length ? getPath(current, keyPath) : current };
    if (!keyPath.length) return { ok: false, error: `${req.op} needs a key` };
    current = withPath(current, keyPath, req.op === 'set' ? req.value : undefined);
    return { ok: true };
  };
  const server = net.createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('error', () => undefined);
    c.on('data', (d: string) => {
      buf += d;
      if (buf.length > 1 << 20) return c.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let reply: CtlReply;
      try {
        reply = answer(JSON.parse(buf.slice(0, nl)) as CtlRequest);
      } catch (e) {
        reply = { ok: false, error: e instanceof LiegeError ? e.describe() : 'bad request' };
      }
      c.end(JSON.stringify(reply) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(sock, resolve); });
  fs.chmodSync(sock, 0o600);
  if (ids.uid !== undefined) fs.chownSync(sock, ids.uid, ids.gid ?? -1);
  return {
    env: { [CTL_SOCKET_ENV]: sock, [CTL_TOKEN_ENV]: token },
    settings: () => current,
    close: () => {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Channel dirs of a `liege set` that was killed (its pid is gone). */
function cleanStale(): void {
  for (const n of fs.readdirSync(os.tmpdir())) {
    const m = /^liege-ctl-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(os.tmpdir(), n), { recursive: true, force: true });
  }
}

/** The hook side (`liege ctl`): one request over the channel in the env. */
export function ctlRequest(op: CtlRequest['op'], key?: string, value?: unknown): Promise<unknown> {
  const sock = process.env[CTL_SOCKET_ENV];
  const token = process.env[CTL_TOKEN_ENV];
  if (!sock || !token) {
    return Promise.reject(new LiegeError('LIEGE_ERR_CTL', 'liege ctl works only inside a bundle configure hook (outside one, the applied settings: liege get NAME [KEY])', { expected: `${CTL_SOCKET_ENV} and ${CTL_TOKEN_ENV} in the environment` }));
  }
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    let buf = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ token, op, key, value } satisfies CtlRequest) + '\n'));
    c.on('data', (d: string) => { buf += d; });
    c.on('error', (e) => reject(new LiegeError('LIEGE_ERR_CTL', `unable to reach the configure channel ${sock}: ${e.message}`)));
    c.on('end', () => {
      try {
        const r = JSON.parse(buf) as CtlReply;
        if (r.ok) resolve(r.value);
        else reject(new LiegeError('LIEGE_ERR_CTL', `liege ctl ${op}: ${r.error ?? 'refused'}`));
      } catch {
        reject(new LiegeError('LIEGE_ERR_CTL', 'bad reply on the configure channel'));
      }
    });
  });
}
