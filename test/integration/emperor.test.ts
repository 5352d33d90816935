// The emperor with a directory of vassal configs: spawn, reload on a newer
// mtime (same pid, UWSGI_RELOADS=1), stop when the config goes, respawn a
// vassal that dies, stop everything on SIGTERM with nothing left behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { alive, FIXTURES, getUnix, killGroup, scratch, startLiege, until } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => { for (const p of started.splice(0)) killGroup(p); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('emperor', () => {
  it('spawns, reloads, stops and respawns vassals from a directory', async () => {
    const vassals = path.join(dir, 'vassals');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'trace');
    const vassal = (name: string) => fs.writeFileSync(path.join(vassals, `${name}.ini`), [
      '[uwsgi]',
      'attach-daemon = sleep 60',
      `hook-master-start = exec:echo %n start $PPID $UWSGI_RELOADS >> ${trace}`,
      `hook-emperor-stop = exec:echo %n stop $PPID >> ${trace}`,
      '',
    ].join('\n'));
    vassal('a');
    vassal('b');
    fs.writeFileSync(path.join(vassals, 'ignored.txt'), 'not a config');
    const p = startLiege(['--emperor', vassals, '--emperor-freq', '1', '--emperor-throttle', '100', '--hook-as-emperor', `exec:echo emperor spawned >> ${trace}`], { cwd: dir });
    started.push(p);

    const starts = await until(() => { const s = lines(trace).filter((l) => / start /.test(l)); return s.length === 2 ? s : undefined; });
    const pidOf = (n: string) => Number(starts.find((l) => l.startsWith(`${n} `))!.split(' ')[2]);
    const [a, b] = [pidOf('a'), pidOf('b')];
    expect(lines(trace).filter((l) => l === 'emperor spawned')).toHaveLength(2);

    // a newer mtime reloads the vassal in place
    const future = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(vassals, 'a.ini'), future, future);
    expect(await until(() => lines(trace).find((l) => l === `a start ${a} 1`))).toBeTruthy();

    // a config that goes away stops its vassal (emperor-stop hook, then exit)
    fs.rmSync(path.join(vassals, 'b.ini'));
    expect(await until(() => lines(trace).find((l) => l === `b stop ${b}`))).toBeTruthy();
    await until(() => !alive(b));

    // a vassal that dies on its own is respawned
    process.kill(a, 'SIGKILL');
    const again = await until(() => lines(trace).find((l) => l.startsWith('a start ') && !l.includes(` ${a} `)));
    const a2 = Number(again.split(' ')[2]);

    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
    expect(lines(trace)).toContain(`a stop ${a2}`);
    expect(alive(a2)).toBe(false);
  });

  it('a vassal of a directory starts in that directory, as under uWSGI: `node-app = app.js` and a relative socket are beside its config (before: the emperor\'s cwd, "node-app not found")', async () => {
    const vassals = path.join(dir, 'rel-vassals');
    fs.mkdirSync(vassals);
    fs.copyFileSync(path.join(FIXTURES, 'apps', 'handler.js'), path.join(vassals, 'app.js'));
    fs.writeFileSync(path.join(vassals, 'rel.ini'), '[uwsgi]\nhttp-socket = ./rel.sock\nnode-app = app.js\n');
    const p = startLiege(['--emperor', vassals], { cwd: dir });
    started.push(p);
    expect(await until(() => getUnix(path.join(vassals, 'rel.sock'), 5000))).toBeGreaterThan(0);
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
  });

  it('a config name that is no vassal (a directory, a dangling symlink, a symlink loop, a uWSGI yaml vassal) is said once, not in silence; the others run', async () => {
    const vassals = path.join(dir, 'odd-vassals');
    fs.mkdirSync(vassals);
    const trace = path.join(dir, 'odd-trace');
    fs.writeFileSync(path.join(vassals, 'good.ini'), ['[uwsgi]', 'attach-daemon = sleep 60', `hook-master-start = exec:echo %n start >> ${trace}`, ''].join('\n'));
    fs.mkdirSync(path.join(vassals, 'dir.ini'));
    fs.symlinkSync('/nonexistent/app.ini', path.join(vassals, 'dangling.ini'));
    fs.symlinkSync('loop.ini', path.join(vassals, 'loop.ini'));
    fs.writeFileSync(path.join(vassals, 'shop.yaml'), 'uwsgi:\n  master: true\n'); // uWSGI's emperor runs it
    fs.writeFileSync(path.join(vassals, 'app.js'), ''); // an app beside the configs: no vassal, nothing said
    const p = startLiege(['--emperor', vassals, '--emperor-freq', '1'], { cwd: dir });
    started.push(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    await until(() => (lines(trace).includes('good start') ? true : undefined));
    await new Promise((r) => setTimeout(r, 2500)); // two more scans: said once each
    process.kill(p.pid!, 'SIGTERM');
    expect((await p).exitCode).toBe(0);
    const said = err.split('\n').filter((l) => /vassal config skipped/.test(l));
    // before: nothing said (uWSGI is silent too)
    expect(said).toHaveLength(4);
    expect(said.find((l) => l.includes('shop.yaml'))).toMatch(/vassal config skipped: a uWSGI yaml config: liege reads INI only \(write it as shop\.ini\)/);
    expect(said.find((l) => l.includes('dir.ini'))).toMatch(/vassal config skipped: a directory, not a file/);
    expect(said.find((l) => l.includes('dangling.ini'))).toMatch(/vassal config skipped: a dangling symlink \(to \/nonexistent\/app\.ini\)/);
    expect(said.find((l) => l.includes('loop.ini'))).toMatch(/vassal config skipped: a symlink loop/);
  });
});
