// The master fifo's path over the instance's life: removed while it runs
// (made again within a second, as uWSGI makes its fifo again), replaced by
// a plain file (said once, left alone), removed or named relatively across
// a reload's re-exec (no fd on a stale fifo left in the master or handed to
// the workers), dropped from the config by a reload (vacuum removes it, as
// it does a socket file the reload no longer binds).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'handler.js');

async function serve(args: string[], cwd = dir) {
  const port = await freePort();
  const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, ...args], { cwd });
  started.push(p);
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await until(() => get(port));
  return { p, port, log: () => err };
}

/** An O_NONBLOCK write: undefined when written, else the error code (ENXIO: nobody reads). */
function write(fifo: string, text: string): string | undefined {
  try {
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, text);
    fs.closeSync(fd);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

/** The fifos `pid` has open, as /proc shows them ("… (deleted)" for a removed one). */
function fifosOf(pid: number): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (fs.statSync(`/proc/${pid}/fd/${fd}`).isFIFO() && target.startsWith('/')) out.push(target);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

const isFifo = (f: string) => { try { return fs.lstatSync(f).isFIFO(); } catch { return false; } };

async function reloaded(p: ResultPromise, log: () => string, n: number) {
  await until(() => (log().split('reload done').length > n ? true : undefined), 30_000);
}

describe('the master fifo path while the instance runs', () => {
  it('a fifo removed is made again and read; vacuum removes it at exit', async () => {
    const fifo = path.join(dir, 'removed.fifo');
    const { p, log } = await serve(['--master-fifo', fifo, '--vacuum']);
    fs.rmSync(fifo);
    // before: never made again (an `echo q > FIFO` then wrote a plain file nobody read)
    // (the line is said once the fifo is open: waiting for the file alone raced it)
    await until(() => (isFifo(fifo) && /master fifo \S+removed\.fifo was removed: made again/.test(log())) || undefined, 5000);
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
    expect(fs.existsSync(fifo)).toBe(false);
  }, 60_000);

  it('a plain file put in its place is said once and left alone; once removed, the fifo is made again', async () => {
    const fifo = path.join(dir, 'plain.fifo');
    const { p, log } = await serve(['--master-fifo', fifo, '--vacuum']);
    fs.rmSync(fifo);
    fs.writeFileSync(fifo, 'r\n'); // what `echo r > FIFO` does to a missing fifo
    await until(() => (/replaced by a file that is not a fifo/.test(log()) ? true : undefined), 5000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(log().split('replaced by a file that is not a fifo')).toHaveLength(2); // once, not each second
    expect(fs.readFileSync(fifo, 'utf8')).toBe('r\n');
    fs.rmSync(fifo);
    // open for reading once this is said (made, then opened: a write between the two meets ENXIO)
    await until(() => (isFifo(fifo) && /plain\.fifo was removed: made again/.test(log())) || undefined, 5000);
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 60_000);
});

describe('the master fifo after the privilege drop', () => {
  it('a directory only root may write: exit 1, and the error says the master makes it as the dropped user', async () => {
    const root = path.join(dir, 'root-only');
    fs.mkdirSync(root, { mode: 0o755 });
    const port = await freePort();
    const r = await runLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--uid', 'nobody', '--gid', 'nogroup', '--master-fifo', path.join(root, 'x.fifo')], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // before: "Permission denied" only, as if root could not
    expect(r.stderr).toMatch(/unable to create the master fifo \S+x\.fifo: .*Permission denied \(the master makes it after the privilege drop, as uid 65534: give it \S+root-only, e\.g\. a \/run\/NAME directory it owns\)/);
  }, 60_000);

  it('a fifo of root\'s left at the path (mode 600): exit 1, and the error says whose it is and what to do', async () => {
    const fifo = path.join(dir, 'roots.fifo');
    await runLiege(['--no-server', '--hook-asap', `exec:mkfifo -m 600 ${fifo}`]); // root's, as a run as root leaves it
    const port = await freePort();
    const r = await runLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--uid', 'nobody', '--gid', 'nogroup', '--master-fifo', fifo], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // before: "EACCES" only
    expect(r.stderr).toMatch(/unable to open the master fifo \S+roots\.fifo: EACCES \(it is uid 0's, mode 600: the master opens it after the privilege drop, as uid 65534; remove it, liege makes it again, or give it to that user\)/);
  }, 60_000);
});

describe('the master fifo across a reload', () => {
  it('a relative fifo under chdir: after the re-exec the master holds it once, the workers never', async () => {
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub, { recursive: true });
    const fifo = path.join(sub, 'rel.fifo');
    const { p, log } = await serve(['--master-fifo', 'rel.fifo', '--chdir', sub]);
    expect(write(fifo, 'r')).toBeUndefined();
    await reloaded(p, log, 1);
    // before: the kept fd was not recognised before the chdir: left open,
    // not close-on-exec, in the master and every worker started since
    expect(fifosOf(p.pid!)).toEqual([fifo]);
    for (const w of childrenOf(p.pid!)) expect(fifosOf(w)).toEqual([]);
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('a fifo removed during the re-exec: made again, the old fd closed', async () => {
    const fifo = path.join(dir, 'gone.fifo');
    const { p, log } = await serve(['--master-fifo', fifo]);
    // the commands carried across, then the path removed before the new image looks
    expect(write(fifo, 'r')).toBeUndefined();
    await until(() => (/graceful reload requested/.test(log()) ? true : undefined));
    fs.rmSync(fifo, { force: true });
    await reloaded(p, log, 1);
    await until(() => isFifo(fifo) || undefined, 5000);
    await until(() => (fifosOf(p.pid!).length === 1 ? true : undefined), 5000);
    expect(fifosOf(p.pid!)).toEqual([fifo]); // before: a "(deleted)" one too
    for (const w of childrenOf(p.pid!)) expect(fifosOf(w)).toEqual([]);
    expect(write(fifo, 'q')).toBeUndefined();
    expect((await p).exitCode).toBe(0);
  }, 60_000);

  it('a fifo the new config no longer names is removed with vacuum (as a socket file), kept without', async () => {
    for (const vacuum of [true, false]) {
      const keep = path.join(dir, `keep-${vacuum}.fifo`);
      const drop = path.join(dir, `drop-${vacuum}.fifo`);
      const port = await freePort();
      const base = ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`, `vacuum = ${vacuum}`, `master-fifo = ${keep}`];
      const ini = writeIni(dir, [...base, `master-fifo = ${drop}`], `drop-${vacuum}.ini`);
      const p = startLiege([ini], { cwd: dir });
      started.push(p);
      let err = '';
      p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await until(() => get(port));
      expect(isFifo(drop)).toBe(true);
      writeIni(dir, base, `drop-${vacuum}.ini`);
      process.kill(p.pid!, 'SIGHUP');
      await reloaded(p, () => err, 1);
      // before: left behind even with vacuum (a dropped unix socket's file was removed)
      expect(isFifo(drop)).toBe(!vacuum);
      expect(fifosOf(p.pid!)).toEqual([keep]);
      expect(write(keep, 'q')).toBeUndefined();
      expect((await p).exitCode).toBe(0);
    }
  }, 90_000);
});
