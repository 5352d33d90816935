// logrotate's usual shape (mv, then tell the master: fifo `l`, touch-logreopen)
// in a production setup: uid/gid nobody, logto in a directory the dropped
// master may write. Every line after the reopen goes to the fresh file — the
// running workers' request log and the app's own output too, and a warm
// spare's once it takes a slot — without replacing a worker.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { childrenOf, cmdlineOf, FIXTURES, freePort, get, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');

async function getPath(port: number, p: string): Promise<number | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3000) });
    await r.text();
    return r.status === 200 ? Number(r.headers.get('x-pid')) : undefined;
  } catch {
    return undefined;
  }
}

const workersOf = (pid: number) => childrenOf(pid).filter((c) => cmdlineOf(c).includes('worker/main.js'));

describe('log rotation', () => {
  it('after mv and fifo `l`, the running workers (request log, console.log) and a spare that takes a slot later write to the fresh file; no worker replaced', async () => {
    const logDir = path.join(dir, 'run');
    fs.mkdirSync(logDir);
    fs.chownSync(logDir, 65534, 65534);
    const logfile = path.join(logDir, 'app.log');
    const fifo = path.join(logDir, 'fifo');
    const port = await freePort();
    const p = startLiege(['--master', '--processes', '2', '--spare-workers', '1', '--node-app', `${FIXTURES}/apps/console.js`, '--http-socket', `127.0.0.1:${port}`,
      '--uid', 'nobody', '--gid', 'nogroup', '--logto', logfile, '--master-fifo', fifo], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    // both workers and the spare are up before the rotation
    await until(() => workersOf(p.pid!).length === 3 || undefined, 30_000);
    await until(() => (fs.existsSync(fifo) && fs.statSync(fifo).isFIFO()) || undefined);
    await getPath(port, '/before-rotation');
    await until(() => (/GET \/before-rotation/.test(read(logfile)) ? true : undefined));
    const before = workersOf(p.pid!);

    fs.renameSync(logfile, `${logfile}.1`);
    fs.writeFileSync(fifo, 'l');
    await until(() => (read(logfile).includes('log file reopened') ? true : undefined));
    // at least 8 requests, and until both workers served: which worker
    // accepts a fresh connection is the kernel's choice (under load all 8
    // can go to one), so more may be needed to hear from both
    const served = new Set<number>();
    let sent = 0;
    while (sent < 8 || (served.size < 2 && sent < 200)) {
      const pid = await getPath(port, `/after-rotation-${sent++}`);
      if (pid) served.add(pid);
    }
    expect(served.size).toBe(2);
    for (const pid of served) expect(before).toContain(pid);
    await until(() => ((read(logfile).match(/GET \/after-rotation-\d+ /g) ?? []).length === sent ? true : undefined));
    const fresh = read(logfile);
    // the app's own output of those requests too (console.log, console.error, stdout.write)
    for (let i = 0; i < sent; i++) expect(fresh).toContain(`request /after-rotation-${i}`);
    for (let i = 0; i < sent; i++) expect(fresh).toContain(`raw /after-rotation-${i}`);

    // a spare started before the rotation takes the slot of a killed worker
    const victim = [...served][0]!;
    process.kill(victim, 'SIGKILL');
    const spare = before.find((w) => !served.has(w))!;
    await until(async () => ((await getPath(port, '/from-spare')) === spare ? true : undefined), 20_000);
    await until(() => (/GET \/from-spare/.test(read(logfile)) ? true : undefined));

    process.kill(p.pid!, 'SIGTERM');
    await p;
    // before: every line of the workers went on to the moved file until they were replaced
    expect(read(`${logfile}.1`)).not.toMatch(/after-rotation|from-spare/);
    expect(read(`${logfile}.1`)).toMatch(/GET \/before-rotation/);
  });
});
