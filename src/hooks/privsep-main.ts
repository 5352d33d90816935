// The privileged helper (see privsep.ts): root, forked before the drop,
// reads `{id, role}` lines on fd 3 and answers `{status}` lines. It runs an
// entry only if its own copy of the registry (read once, now, from a file
// it checked is root's) marks it escalateprivs, and a check or rollback
// only if the entry has one. It exits when the master closes the socket.
import * as net from 'node:net';
import { onLines } from '../ipc/lines';
import { log } from '../log';
import { checkTrusted, escalated } from './privsep';
import { runEntryHere } from './registry/run';
import { loadRegistry } from './registry/store';
import { keepInspectorShut } from '../os/inspector-signal';

keepInspectorShut(); // root's: SIGUSR1 must not open a debugger here

const registry = process.argv[2]!;
checkTrusted(registry);
const allowed = new Map(escalated(loadRegistry(registry)).map((e) => [e.id, e]));
process.title = 'liege privsep';
for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.on(s, () => undefined); // the master decides; EOF ends us

const sock = new net.Socket({ fd: 3, readable: true, writable: true });
let queue: Promise<void> = Promise.resolve();
onLines(sock, (line) => {
  queue = queue.then(() => answer(line));
});
sock.on('end', () => process.exit(0));
sock.on('error', () => process.exit(0));

async function answer(line: string): Promise<void> {
  let status = 126;
  try {
    const { id, role } = JSON.parse(line) as { id: string; role: 'check' | 'hook' | 'rollback' };
    const e = allowed.get(id);
    if (!e || (role === 'check' && !e.check) || (role === 'rollback' && !e.rollback) || !['check', 'hook', 'rollback'].includes(role)) {
      log('hooks').error({ id, role }, 'privileged helper: refused a request for a hook that is not an escalated registry hook');
    } else {
      status = await runEntryHere(e, role);
    }
  } catch (err) {
    log('hooks').error({ error: (err as Error).message }, 'privileged helper: bad request');
  }
  sock.write(JSON.stringify({ status }) + '\n');
}
