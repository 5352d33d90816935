// Deploying by symlink (releases/r1, releases/r2, `current` → one of them;
// Capistrano's layout, and uWSGI users' `chdir = /srv/app/current`): the
// app path and the workers' directory are kept as named, so a worker that
// starts after the link moved — a chain reload, a respawn — loads the new
// release, as a full reload does. Before: the master resolved the link once
// (require.resolve, getcwd), chain reloads kept serving the old release, and
// once that was pruned a killed worker crash-looped on a missing file.
// Also: `liege app.ini` (a relative config path) with `chdir` elsewhere
// reloads; before, the reload read app.ini from `chdir` and was refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { childrenOf, cmdlineOf, freePort, killGroup, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// releases under root/rel, `current` pointing at the first one
function releases(root: string, names: string[]): string {
  for (const r of names) {
    fs.mkdirSync(path.join(root, 'rel', r), { recursive: true });
    fs.writeFileSync(path.join(root, 'rel', r, 'app.js'), `module.exports = (req, res) => res.end('${r} ' + process.cwd() + '\\n');\n`);
  }
  fs.symlinkSync(path.join('rel', names[0]!), path.join(root, 'current'));
  return path.join(root, 'current');
}

// atomically, as deploy tools do (ln -sfn + mv -T)
function pointTo(root: string, release: string): void {
  const tmp = path.join(root, 'current.new');
  fs.symlinkSync(path.join('rel', release), tmp);
  fs.renameSync(tmp, path.join(root, 'current'));
}

async function body(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3000) });
    return (await r.text()).trim();
  } catch {
    return undefined;
  }
}

// every one of `n` answers in a row says `want`
async function allSay(port: number, want: string, n = 8): Promise<true | undefined> {
  for (let i = 0; i < n; i++) if ((await body(port)) !== want) return undefined;
  return true;
}

// the master's live workers (by command line: not a spawn failing in its
// child, nor a zombie; by parent pid: whichever thread forked them)
const workersOf = (pid: number): number[] => childrenOf(pid).filter((c) => /worker\/main\.js/.test(cmdlineOf(c))).sort((a, b) => a - b);

describe('deploying by symlink', () => {
  it('chdir = …/current: a chain reload loads the new release; with the old one pruned, a killed worker comes back on the new one', async () => {
    const root = path.join(dir, 'chdir');
    const current = releases(root, ['r1', 'r2']);
    const port = await freePort();
    const fifo = path.join(root, 'fifo');
    const ini = writeIni(root, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `chdir = ${current}`, 'node-app = app.js', `master-fifo = ${fifo}`]);
    const p = startLiege(['--ini', ini], { cwd: root });
    started.push(p);
    await until(() => allSay(port, `r1 ${path.join(root, 'rel', 'r1')}`));
    pointTo(root, 'r2');
    fs.writeFileSync(fifo, 'c');
    await until(() => allSay(port, `r2 ${path.join(root, 'rel', 'r2')}`), 30_000);
    fs.rmSync(path.join(root, 'rel', 'r1'), { recursive: true });
    const [victim] = workersOf(p.pid!);
    process.kill(victim!, 'SIGKILL');
    await until(() => (workersOf(p.pid!).length === 2 && !workersOf(p.pid!).includes(victim!) ? true : undefined));
    expect(await until(() => allSay(port, `r2 ${path.join(root, 'rel', 'r2')}`, 12))).toBe(true);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/failed to load|Cannot find module/);
  }, 60_000);

  it('current → a missing release: a killed worker is not respawned and the log says why; fixed, it comes back', async () => {
    const root = path.join(dir, 'missing');
    const current = releases(root, ['r1', 'r2']);
    const port = await freePort();
    const ini = writeIni(root, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `chdir = ${current}`, 'node-app = app.js']);
    const p = startLiege(['--ini', ini], { cwd: root });
    started.push(p);
    await until(() => allSay(port, `r1 ${path.join(root, 'rel', 'r1')}`));
    pointTo(root, 'r9');
    const [victim] = workersOf(p.pid!);
    process.kill(victim!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    // not respawned while the link points nowhere; the other one serves on
    // (under a loaded CI run it could still be loading its app when the link
    // moved: it loads r1, the release it was started in)
    expect(workersOf(p.pid!)).not.toContain(victim);
    expect(workersOf(p.pid!)).toHaveLength(1);
    expect(await body(port)).toBe(`r1 ${path.join(root, 'rel', 'r1')}`);
    pointTo(root, 'r2');
    await until(() => (workersOf(p.pid!).length === 2 ? true : undefined), 20_000);
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`unable to spawn a worker: the workers' directory ${current} does not exist`);
  }, 60_000);

  it('the link moved while a worker starts (before its app loads): it runs the release it was started in, code and directory', async () => {
    const root = path.join(dir, 'flip');
    const current = releases(root, ['r1', 'r2']);
    const port = await freePort();
    // the first worker's post-fork hook (after the spawn, before the app
    // loads) deploys r2, as a deploy landing at that moment would
    const flip = `[ -e ${root}/flipped ] || { ln -s rel/r2 ${root}/current.new && mv -T ${root}/current.new ${current} && touch ${root}/flipped; }`;
    const ini = writeIni(root, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `chdir = ${current}`, 'node-app = app.js', `hook-post-fork = exec:${flip}`]);
    const p = startLiege(['--ini', ini], { cwd: root });
    started.push(p);
    await until(() => (fs.existsSync(path.join(root, 'flipped')) ? true : undefined));
    // before: "r2 …/rel/r1" (r2's code, r1's directory)
    expect(await until(() => body(port))).toBe(`r1 ${path.join(root, 'rel', 'r1')}`);
    expect(fs.readlinkSync(current)).toBe(path.join('rel', 'r2'));
  }, 60_000);

  it('started inside `current` (its PWD), node-app relative: a chain reload loads the new release', async () => {
    const root = path.join(dir, 'pwd');
    const current = releases(root, ['r1', 'r2']);
    const port = await freePort();
    const fifo = path.join(root, 'fifo');
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', 'app.js', '--master-fifo', fifo], { cwd: current, env: { PWD: current } });
    started.push(p);
    await until(() => allSay(port, `r1 ${path.join(root, 'rel', 'r1')}`));
    pointTo(root, 'r2');
    fs.writeFileSync(fifo, 'c');
    await until(() => allSay(port, `r2 ${path.join(root, 'rel', 'r2')}`), 30_000);
  }, 60_000);

  it('`liege app.ini` (a relative config path) with chdir elsewhere: a SIGHUP reloads (before: refused, app.ini not found)', async () => {
    const root = path.join(dir, 'relative');
    const appDir = path.join(root, 'app');
    fs.mkdirSync(appDir, { recursive: true });
    fs.writeFileSync(path.join(appDir, 'app.js'), "module.exports = (req, res) => res.end(process.env.UWSGI_RELOADS + '\\n');\n");
    const port = await freePort();
    writeIni(root, ['master = true', 'processes = 1', `http-socket = 127.0.0.1:${port}`, `chdir = ${appDir}`, 'node-app = app.js'], 'app.ini');
    const p = startLiege(['app.ini'], { cwd: root });
    started.push(p);
    await until(() => allSay(port, '0', 1));
    process.kill(p.pid!, 'SIGHUP');
    await until(() => allSay(port, '1', 2));
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/reload refused/);
  }, 60_000);
});
