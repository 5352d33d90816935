// The master fifo across a reload's re-exec: the fifo stays open (uWSGI
// closes it, so an O_NONBLOCK writer meets ENXIO while no image reads, and a
// command written and not read yet is dropped), and a command the old image
// read but had not run goes to the new image.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, LIEGE, scratch, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An O_NONBLOCK write (a script's `echo r > fifo` that must not hang):
 * the errno code when it fails. */
function write(fifo: string, text: string): string | undefined {
  try {
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

async function serve() {
  const dir = scratch();
  const fifo = path.join(dir, 'master.fifo');
  const port = await freePort();
  const p = startLiege(['--master', '-p', '2', '--master-fifo', fifo, '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')]);
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  await until(() => (fs.existsSync(fifo) && fs.statSync(fifo).isFIFO() ? true : undefined));
  return { p, fifo, port, log: () => err };
}

describe('master fifo across a reload', () => {
  it('a writer never meets ENXIO during the re-exec (before: ~80 ms without a reader)', async () => {
    const { p, fifo, port, log } = await serve();
    expect(write(fifo, 'r')).toBeUndefined();
    const failures: string[] = [];
    // open-and-close (no command) until the new generation serves
    while (!/reload done/.test(log())) {
      const fd = (() => {
        try {
          return fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        } catch (e) {
          failures.push((e as NodeJS.ErrnoException).code ?? String(e));
          return undefined;
        }
      })();
      if (fd !== undefined) fs.closeSync(fd);
      await sleep(2);
      if (p.exitCode !== null) break;
    }
    expect(failures).toEqual([]);
    expect(await get(port)).toMatchObject({ status: 200 });
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('`q` written right after `r` stops the instance (before: lost in the re-exec, it kept serving)', async () => {
    for (const gap of [0, 30, 100]) {
      const { p, fifo, log } = await serve();
      expect(write(fifo, 'r')).toBeUndefined();
      await sleep(gap);
      expect(write(fifo, 'q')).toBeUndefined();
      const exited = await Promise.race([p.then(() => true), sleep(20_000).then(() => false)]);
      expect(exited, `gap ${gap} ms: ${log()}`).toBe(true);
      expect((await p).exitCode).toBe(0);
      expect(log()).toMatch(/graceful shutdown/);
    }
  }, 90_000);
});

describe('a reload that fails on its master fifo', () => {
  it('keeps the running generation with its stats and touch-reload (the fix goes through a touch), the fifo left off with a clear error', async () => {
    const dir = scratch();
    const fifo = path.join(dir, 'master.fifo');
    const touch = path.join(dir, 'reload.touch');
    const stats = path.join(dir, 'stats.sock');
    fs.writeFileSync(touch, '');
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--master-fifo', fifo, '--touch-reload', touch, '--stats', stats, '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')]);
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => get(port));
    await until(() => (fs.existsSync(fifo) ? true : undefined));
    // someone put a plain file at the fifo's path
    fs.rmSync(fifo);
    fs.writeFileSync(fifo, 'not a fifo');
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/LIEGE_ERR_RELOAD/.test(err) ? true : undefined), 20_000);
    await until(() => (/this fifo is left off/.test(err) ? true : undefined), 10_000);
    expect(err).toMatch(/unable to create the master fifo \S+master\.fifo: the path exists and is not a fifo/);
    // the stats answer (before: the whole control side was gone, touch files too)
    const text = await until(() => statsText(stats), 10_000);
    expect(JSON.parse(text)).toHaveProperty('workers');
    // the fix: the file removed, the reload deployed by touching
    fs.rmSync(fifo);
    fs.utimesSync(touch, new Date(), new Date(Date.now() + 5000));
    await until(() => (/reload done/.test(err) ? true : undefined), 20_000);
    await until(() => (fs.existsSync(fifo) && fs.statSync(fifo).isFIFO() ? true : undefined));
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});

function statsText(sock: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const c = net.connect(sock);
    c.on('data', (d) => (text += d));
    c.on('end', () => resolve(text || undefined));
    c.on('error', () => resolve(undefined));
  });
}

describe('master fifo feedback', () => {
  it('`l` and `P` with no log file and no pidfile say so (before: silence, the operator could not tell it was read)', async () => {
    const { p, fifo, log } = await serve();
    expect(write(fifo, 'l')).toBeUndefined();
    expect(write(fifo, 'P')).toBeUndefined();
    await until(() => (/log reopen asked: no log file/.test(log()) && /pidfiles asked: none configured/.test(log()) ? true : undefined));
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 30_000);

  it('`echo hello`: one warning naming the unknown bytes (before: one line per byte); the two `l`s still run, as in uWSGI', async () => {
    const { p, fifo, log } = await serve();
    expect(write(fifo, 'hello\n')).toBeUndefined();
    await until(() => (/unknown master fifo/.test(log()) && (log().match(/log reopen asked/g) ?? []).length === 2 ? true : undefined));
    // the write's bytes come in one read, so one line (a later read would be another)
    expect(log().match(/unknown master fifo/g)).toHaveLength(1);
    expect(log()).toMatch(/unknown master fifo commands ignored: "heo" \(each byte is a command: rRqQwWclLpPs, 0-9 selects a fifo\)/);
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 30_000);
});

describe('a master fifo with the descriptor table full', () => {
  it('EMFILE (a low ulimit -n): the error names the fifo, the errno and the fix, exit 1, no stack trace (before: "spawnSync mkfifo EMFILE … expected a free path")', async () => {
    // (the master's own fds at that point vary a little; both limits leave
    // it none for mkfifo after the workers started)
    for (const limit of [22, 27]) {
      const fifo = path.join(scratch(), 'master.fifo');
      const args = ['--master', '-p', '2', '--http-socket', `127.0.0.1:${await freePort()}`, '--master-fifo', fifo, '--node-app', path.join(FIXTURES, 'apps', 'handler.js')];
      const r = await execa('bash', ['-c', 'ulimit -n "$0" && exec "$@"', String(limit), LIEGE, ...args], { env: { TEST_LIEGE: '1' }, reject: false, timeout: 30_000, stdin: 'ignore' });
      expect(r.exitCode, `ulimit -n ${limit}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`unable to create the master fifo ${fifo}: EMFILE, too many open files: raise the limit (LimitNOFILE= in the systemd unit, ulimit -n in the shell) code=LIEGE_ERR_SOCKET`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(fs.existsSync(fifo)).toBe(false);
    }
  }, 60_000);
});
