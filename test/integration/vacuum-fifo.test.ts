// vacuum removes the master fifos at exit, as uWSGI's vacuum does (after a
// reload too: the fifo crossed the exec), but only the fifo this instance
// read: not one another process holds open (a second instance given the
// same path), not a file put at the path since. Without vacuum it stays.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
const fds: number[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
  for (const fd of fds.splice(0)) fs.closeSync(fd);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');

async function serve(fifo: string, extra: string[]) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--master-fifo', fifo, ...extra], { cwd: dir });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  return { p, log: () => err };
}

describe('vacuum and the master fifo', () => {
  it('vacuum removes the master fifo at exit, after a reload too (a relative path: in the chdir)', async () => {
    fs.mkdirSync(path.join(dir, 'elsewhere'), { recursive: true });
    const fifo = path.join(dir, 'elsewhere', 'vac.fifo');
    const { p, log } = await serve('vac.fifo', ['--vacuum', '--chdir', path.join(dir, 'elsewhere')]);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    fs.writeFileSync(fifo, 'r');
    await until(() => (/reload done/.test(log()) ? true : undefined), 30_000);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    // before: the fifo stayed
    expect(fs.existsSync(fifo)).toBe(false);
  }, 60_000);

  it('without vacuum the fifo stays', async () => {
    const fifo = path.join(dir, 'kept.fifo');
    const { p } = await serve(fifo, []);
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
  }, 60_000);

  it('a fifo another process holds open (a second instance reads it too) is left, and said', async () => {
    const fifo = path.join(dir, 'shared.fifo');
    const { p, log } = await serve(fifo, ['--vacuum']);
    fds.push(fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK));
    fs.writeFileSync(fifo, 'q');
    expect((await p).exitCode).toBe(0);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    expect(log()).toMatch(/vacuum: the master fifo is left: other processes hold it open/);
  }, 60_000);

  it('a file put at the fifo\'s path while the instance ran is not removed', async () => {
    const fifo = path.join(dir, 'replaced.fifo');
    const { p } = await serve(fifo, ['--vacuum']);
    const keep = `${fifo}.new`;
    fs.writeFileSync(keep, 'not the fifo\n');
    // the master reads on the old inode; the path now names a regular file
    const fd = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    fs.renameSync(keep, fifo);
    fs.writeSync(fd, 'q');
    fs.closeSync(fd);
    expect((await p).exitCode).toBe(0);
    expect(fs.readFileSync(fifo, 'utf8')).toBe('not the fifo\n');
  }, 60_000);
});
