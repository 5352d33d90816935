// The boot gate (src/master/boot-gate.ts): a generation's workers start at
// most one CPU-bound boot per core at a time, and a boot that waits (I/O)
// does not hold the others back. Observed from the order of the app's own
// marks ("load" when a worker loads it, "listen" when it is about to accept).
import * as os from 'node:os';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, lines, scratch, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const cores = Math.max(1, os.availableParallelism());

async function serve(processes: number, env: Record<string, string>) {
  const marks = path.join(scratch(), 'marks');
  const port = await freePort();
  const p = startLiege(['--master', '-p', String(processes), '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'boot-mark.js')], { env: { ...env, BOOT_MARKS: marks, PORT: String(port) } });
  started.push(p);
  await until(() => get(port), 30_000);
  // every worker has loaded and listened
  await until(() => (lines(marks).filter((l) => l.startsWith('listen')).length === processes ? true : undefined), 30_000);
  return lines(marks);
}

describe('boot gate', () => {
  it.skipIf(cores > 8)('starts a further worker only once a CPU-bound boot is done', async () => {
    const marks = await serve(cores + 1, { BOOT_BUSY_MS: '1500' });
    const firstListen = marks.findIndex((l) => l.startsWith('listen'));
    const loads = marks.flatMap((l, i) => (l.startsWith('load') ? [i] : []));
    expect(loads).toHaveLength(cores + 1);
    // the last worker loaded the app after the first one was done with its boot
    expect(loads[cores]!).toBeGreaterThan(firstListen);
  }, 60_000);

  it('does not hold workers back behind boots that wait on I/O', async () => {
    const marks = await serve(cores + 2, { BOOT_WAIT_MS: '4000' });
    const firstListen = marks.findIndex((l) => l.startsWith('listen'));
    // every worker loaded the app while the first ones were still waiting
    expect(marks.slice(0, firstListen).filter((l) => l.startsWith('load'))).toHaveLength(cores + 2);
  }, 60_000);
});
