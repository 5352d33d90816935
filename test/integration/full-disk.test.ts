// A full disk under the files liege writes at start: the start fails with
// the option's error and leaves each file as it found it (nothing
// half-done), not an empty pidfile that `liege --stop` then reads as no pid.
// The tmpfs exists only in a private mount namespace (never on the host).
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, LIEGE, scratch } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');

/** Runs `before` then liege ARGS then `after` in sh, on a full 64k tmpfs at MNT. */
async function onFullDisk(mnt: string, before: string, args: string, after: string) {
  fs.mkdirSync(mnt, { recursive: true });
  const cmd = [
    `mount -t tmpfs -o size=64k,mode=755 liege-test ${mnt}`,
    before,
    `dd if=/dev/zero of=${mnt}/filler bs=4k count=64 2>/dev/null`, // ENOSPC: the disk is full now
    `timeout -s KILL 20 ${LIEGE} ${args}; echo "status=$?"`, // (a liege that started after all is not left running)
    after,
  ].join('; ');
  return execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', cmd], { reject: false, stdin: 'ignore', env: { TEST_LIEGE: '1' }, timeout: 30_000 });
}

describe('a full disk at start', () => {
  it('a pidfile that cannot be written: exit 1 naming it, no empty pidfile left', async () => {
    const mnt = path.join(dir, 'pid');
    const port = await freePort();
    const r = await onFullDisk(mnt, 'true', `--master -p 1 --http-socket 127.0.0.1:${port} --node-app ${app} --pidfile ${mnt}/new.pid`, `ls ${mnt}`);
    expect(r.stderr).toMatch(/unable to write the pidfile \S+new\.pid: ENOSPC/);
    // before: new.pid stayed, empty
    expect(r.stdout.split('\n')).toEqual(['status=1', 'filler']);
  });

  it('a safe-pidfile: exit 1, its temp file removed, the old pid kept', async () => {
    const mnt = path.join(dir, 'safe');
    const port = await freePort();
    const r = await onFullDisk(mnt, `echo 4242 > ${mnt}/safe.pid`, `--master -p 1 --http-socket 127.0.0.1:${port} --node-app ${app} --safe-pidfile ${mnt}/safe.pid`, `ls ${mnt}; cat ${mnt}/safe.pid`);
    expect(r.stderr).toMatch(/unable to write the pidfile \S+safe\.pid: ENOSPC/);
    // before: safe.pid.PID.tmp stayed, empty
    expect(r.stdout.split('\n')).toEqual(['status=1', 'filler', 'safe.pid', '4242']);
  });
});
