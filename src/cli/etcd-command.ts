// `liege etcd put|rm|ls|get etcd://HOST:PORT[,…]/PREFIX …`: manage the vassal
// configs a cluster of etcd emperors shares (keys PREFIX/vassals/NAME).
//   put URL NAME [FILE]   store FILE (or stdin) as NAME, checked like a vassal config first;
//                         FILE = bundle:BUNDLE stores a reference to a bundle installed on each host
//   rm URL NAME           remove NAME: its owner stops it gracefully
//   ls URL                NAME, owner and lease of every vassal, then the live emperors
//   get URL NAME          print the stored config
//   drain URL ID          ask emperor ID to hand its vassals over, one at a time (as SIGUSR2 does)
// TLS and auth flags as etcdctl spells them: --cacert --cert --key --user USER[:PASSWORD] --password.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { bundleRef } from '../emperor/monitors/etcd-bundle-ref';
import { connect, parseEtcdSpec, type EtcdAuth } from '../emperor/monitors/etcd-connect';
import { nameIn, parseEmperor, VASSAL_NAME } from '../emperor/monitors/etcd-keys';
import { loadAll } from './load-all';
import { COMMAND_USAGE } from './usage';

const USAGE = `usage: ${COMMAND_USAGE.etcd}\n`;
const FLAGS = ['--cacert', '--cert', '--key', '--user', '--password'];

function usage(msg: string, text: string): LiegeError {
  return new LiegeError('LIEGE_ERR_USAGE', msg, { origin: { file: 'command line', line: 0 }, text, expected: USAGE.trim().replace(/^usage: /, '') });
}

function parseArgs(argv: string[]): { verb: string; auth: EtcdAuth; check: boolean; pos: string[] } {
  const auth: EtcdAuth = {};
  const pos: string[] = [];
  let check = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--no-check') check = false;
    else if (FLAGS.includes(flag)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw usage(`option ${flag} needs a value`, a);
      if (flag === '--user') {
        const colon = v.indexOf(':');
        auth.user = colon < 0 ? v : v.slice(0, colon);
        if (colon >= 0) auth.password = v.slice(colon + 1);
      } else auth[flag.slice(2) as 'cacert' | 'cert' | 'key' | 'password'] = v;
    } else if (a.startsWith('--')) throw usage('unknown option', a);
    else pos.push(a);
  }
  const verb = pos.shift() ?? '';
  return { verb, auth, check, pos };
}

/** Checks a vassal config the way its vassal would load it (nothing runs). */
function checkConfig(text: string, name: string, file: string | undefined): void {
  let f = file;
  let tmp: string | undefined;
  if (f === undefined) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-etcd-put-'));
    f = path.join(tmp, `${name}.ini`);
    fs.writeFileSync(f, text);
  }
  try {
    loadAll(['--ini', f], 0);
  } catch (e) {
    // name stdin, not the scratch file, in the error
    if (!(e instanceof LiegeError) || tmp === undefined || e.origin?.file !== f) throw e;
    throw new LiegeError(e.code, e.message, { origin: { file: 'stdin', line: e.origin.line }, text: e.text, expected: e.expected });
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function etcdCommand(argv: string[]): Promise<number> {
  const { verb, auth, check, pos } = parseArgs(argv);
  const arity: Record<string, [number, number]> = { put: [2, 3], rm: [2, 2], get: [2, 2], ls: [1, 1], drain: [2, 2] };
  const want = arity[verb];
  if (!want) {
    process.stderr.write(USAGE);
    return 100;
  }
  if (pos.length < want[0] || pos.length > want[1]) throw usage(`liege etcd ${verb} takes ${want[0] === want[1] ? want[0] : `${want[0]} or ${want[1]}`} arguments`, argv.join(' '));
  const target = parseEtcdSpec(pos[0]!);
  if (!target) throw usage('not an etcd URL', pos[0]!);
  const name = pos[1];
  if (name !== undefined && !VASSAL_NAME.test(name)) throw usage(`bad ${verb === 'drain' ? 'emperor id' : 'vassal name'} (letters, digits, . _ @ -; no slash)`, name);
  let text = '';
  if (verb === 'put') {
    const file = pos[2];
    if (file?.startsWith('bundle:')) {
      // a reference to a bundle installed on the emperors' hosts
      if (bundleRef(file) === undefined) throw usage('bad bundle reference (bundle:NAME: letters, digits, . _ -)', file);
      text = `${file}\n`;
    } else {
      try {
        text = fs.readFileSync(file ?? 0, 'utf8');
      } catch (e) {
        throw new LiegeError('LIEGE_ERR_CONFIG_READ', `unable to read the vassal config: ${(e as Error).message}`, { text: file ?? 'stdin' });
      }
      if (check) checkConfig(text, name!, file);
    }
  }
  const client = connect(target, auth, 5000);
  const root = `${target.prefix}/`;
  try {
    if (verb === 'put') {
      const r = await client.put(`${root}vassals/${name}`).value(text).exec();
      process.stdout.write(`${name}: stored at revision ${r.header.revision}\n`);
    } else if (verb === 'rm') {
      const r = await client.delete().key(`${root}vassals/${name}`).exec();
      if (Number(r.deleted) === 0) throw new LiegeError('LIEGE_ERR_USAGE', 'no such vassal in etcd', { text: name });
      process.stdout.write(`${name}: removed\n`);
    } else if (verb === 'drain') {
      const live = await client.get(`${root}emperors/${name}`).string();
      if (live === null) throw new LiegeError('LIEGE_ERR_USAGE', 'no such live emperor in etcd', { text: name });
      await client.put(`${root}drain/${name}`).value('').exec();
      process.stdout.write(`${name}: asked to drain (liege etcd ls shows its vassals leaving)\n`);
    } else if (verb === 'get') {
      const v = await client.get(`${root}vassals/${name}`).string();
      if (v === null) throw new LiegeError('LIEGE_ERR_USAGE', 'no such vassal in etcd', { text: name });
      process.stdout.write(v);
    } else await list(client, root);
  } catch (e) {
    if (e instanceof LiegeError) throw e;
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to reach etcd at ${target.hosts.join(',')}: ${(e as Error).message}`, { cause: e });
  } finally {
    client.close();
  }
  return 0;
}

async function list(client: import('etcd3').Etcd3, root: string): Promise<void> {
  const res = await client.getAll().prefix(root).exec();
  const owners = new Map<string, { id: string; lease: string }>();
  const vassals: string[] = [];
  const emperors: string[] = [];
  for (const kv of res.kvs) {
    const key = kv.key.toString().slice(root.length);
    let n: string | undefined;
    if ((n = nameIn('vassals', key))) vassals.push(n);
    else if ((n = nameIn('owners', key))) owners.set(n, { id: kv.value.toString(), lease: String(kv.lease) });
    else if ((n = nameIn('emperors', key))) {
      const e = parseEmperor(kv.value.toString());
      if (e) emperors.push(`emperor ${n} host=${e.host} pid=${e.pid} capacity=${e.capacity || 'unlimited'}${e.tags.length ? ` tags=${e.tags.join(',')}` : ''}${e.draining ? ' draining' : ''} lease=${kv.lease}`);
    }
  }
  for (const n of vassals.sort()) {
    const o = owners.get(n);
    process.stdout.write(`${n}\t${o ? o.id : '(unowned)'}\t${o ? o.lease : '-'}\n`);
  }
  for (const e of emperors.sort()) process.stdout.write(`${e}\n`);
}
