// A log reopen after a rotation in a master that dropped its privileges:
// `logto` was opened as root, and the master (now nobody) may not create a
// file in a root-owned log directory. That is said in one clear line (the
// reason, the way out: logto2), not as a stack trace, and the instance keeps
// serving and logging (to the old file); with `logto2` the reopen works.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

async function rotate(option: string, logDir: string): Promise<{ p: ResultPromise; logfile: string }> {
  const port = await freePort();
  const logfile = path.join(logDir, 'app.log');
  const trigger = path.join(dir, `${option}.touch`);
  fs.writeFileSync(trigger, '');
  const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, `--${option}`, logfile, '--touch-logreopen', trigger, '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir });
  started.push(p);
  await until(() => get(port));
  await until(() => (read(logfile).includes('master started') ? true : undefined));
  fs.renameSync(logfile, `${logfile}.1`);
  fs.utimesSync(trigger, new Date(), new Date(Date.now() + 5000));
  return { p, logfile };
}

describe('log reopen after the privileges drop', () => {
  it('logto in a root-owned directory: one clear line naming the reason and logto2, no stack trace; still serving and logging', async () => {
    const { p, logfile } = await rotate('logto', dir);
    const old = `${logfile}.1`;
    await until(() => (/touched file=.*command=reopen-logs/.test(read(old)) && /ERROR/.test(read(old)) ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const text = read(old);
    expect(text).toMatch(/unable to reopen the log file \S+app\.log: EACCES: the master runs as nobody since the privileges drop .*logto2/);
    // before: "command reopen-logs failed (survived)" with the stack of openSync
    expect(text).not.toMatch(/\bat (Object\.openSync|\S+ \()/);
    expect(text).not.toMatch(/survived/);
    expect(fs.existsSync(logfile)).toBe(false);
    process.kill(p.pid!, 'SIGTERM');
    await p;
    expect(read(old)).toMatch(/graceful shutdown/);
  });

  it('log-reopen with logto and a dropped master: a reload goes through (new workers) and keeps logging to the file it had, saying why (before: every reload failed)', async () => {
    const port = await freePort();
    const logfile = path.join(dir, 'reload.log');
    const p = startLiege(['--master', '--processes', '1', '--node-app', `${FIXTURES}/apps/echo.js`, '--http-socket', `127.0.0.1:${port}`, '--logto', logfile, '--log-reopen', '--uid', 'nobody', '--gid', 'nogroup'], { cwd: dir });
    started.push(p);
    const before = await until(() => get(port));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => (/reload done|reload failed|could not start/.test(read(logfile)) ? true : undefined));
    const text = read(logfile);
    expect(text).not.toMatch(/could not start|reload failed/);
    expect(text).toMatch(/unable to reopen the log file \S+reload\.log: EACCES: the master runs as nobody/);
    const after = await until(() => get(port));
    expect(after.pid).not.toBe(before.pid);
  });

  it('logto2 in a directory the user may write: reopened at the path', async () => {
    const logDir = path.join(dir, 'userlogs');
    fs.mkdirSync(logDir);
    fs.chownSync(logDir, 65534, 65534);
    const { p, logfile } = await rotate('logto2', logDir);
    await until(() => (read(logfile).includes('log file reopened') ? true : undefined));
    process.kill(p.pid!, 'SIGTERM');
    await p;
    expect(read(logfile)).toMatch(/graceful shutdown/);
  });
});
