// etcd://HOST:PORT[,HOST:PORT…]/PREFIX → an etcd3 client and the key prefix.
// TLS and user/password come from the emperor-etcd-* options, as etcdctl's
// --cacert/--cert/--key/--user take them.
import * as fs from 'node:fs';
import type { Etcd3, IOptions } from 'etcd3';
import { LiegeError, type Origin } from '../../errors';

export interface EtcdTarget {
  hosts: string[]; // host:port
  prefix: string; // no trailing slash, never empty
}

export interface EtcdAuth {
  user?: string;
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

const EXPECTED = 'etcd://HOST:PORT[,HOST:PORT…]/PREFIX';

/** Parses an `etcd://` spec; `undefined` when the spec is another monitor's. */
export function parseEtcdSpec(spec: string, origin: Origin = { file: 'command line', line: 0 }): EtcdTarget | undefined {
  if (!spec.startsWith('etcd://')) return undefined;
  const rest = spec.slice('etcd://'.length);
  const slash = rest.indexOf('/');
  const hostPart = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  const hosts = hostPart.split(',').filter(Boolean);
  const bad = hosts.find((h) => !/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(h));
  if (hosts.length === 0 || bad !== undefined) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'bad etcd endpoint list', { origin, text: spec, expected: EXPECTED });
  }
  if (!prefix || prefix.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new LiegeError('LIEGE_ERR_BAD_VALUE', 'bad etcd key prefix', { origin, text: spec, expected: EXPECTED });
  }
  return { hosts, prefix };
}

function readPem(what: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_CONFIG_READ', `unable to read the etcd ${what}: ${(e as Error).message}`, { text: file, cause: e });
  }
}

/** etcd3 client options: short per-call deadlines so a partition never hangs a call. */
export function clientOptions(target: EtcdTarget, auth: EtcdAuth, callTimeoutMs: number): IOptions {
  const tls = auth.cacert !== undefined;
  const opts: IOptions = {
    hosts: target.hosts.map((h) => `${tls ? 'https' : 'http'}://${h}`),
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    // a dead connection is noticed by the lease's own deadlines; gRPC pings only
    // find half-open streams (the watch) after a partition, slowly enough not
    // to drop a connection to a merely busy server
    // reconnect soon after a partition heals (gRPC's default backoff reaches 2 min)
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 10_000, 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
  };
  if (tls) {
    opts.credentials = {
      rootCertificate: readPem('CA certificate', auth.cacert!),
      certChain: auth.cert ? readPem('client certificate', auth.cert) : undefined,
      privateKey: auth.key ? readPem('client key', auth.key) : undefined,
    };
  }
  if (auth.user) opts.auth = { username: auth.user, password: auth.password ?? '' };
  return opts;
}

/** A connected-on-demand client (etcd3 is loaded only by etcd users). */
export function connect(target: EtcdTarget, auth: EtcdAuth, callTimeoutMs: number): Etcd3 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Etcd3: Client } = require('etcd3') as typeof import('etcd3');
  return new Client(clientOptions(target, auth, callTimeoutMs));
}
