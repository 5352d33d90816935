// The images' build stage (docker/Dockerfile, docker/emperor.Dockerfile)
// builds from what it copies, no more: before, scripts/bundle.js recorded
// the worker's code cache with an app from test/, which the images do not
// copy; the worker failed to load it and the listening server the script
// kept open held `npm run build` (and so `docker build`) forever. There is
// no Docker engine here: the COPY lines of the build stage are read and
// their files copied to a scratch dir, `npm ci` stands as a link to this
// checkout's node_modules and native build, `tsc` as its dist/, then the build's last
// step, `node scripts/bundle.js`, runs there.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childrenOf, freePort, get, LIEGE, ROOT, scratch, until } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The sources of the COPY lines before the second FROM (the build stage). */
function buildStageSources(dockerfile: string): string[] {
  const lines = fs.readFileSync(path.join(ROOT, dockerfile), 'utf8').split('\n');
  const second = lines.findIndex((l, i) => i > 0 && l.startsWith('FROM ') && lines.slice(0, i).some((p) => p.startsWith('FROM ')));
  return lines.slice(0, second).filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
}

/** .dockerignore's entries (plain paths: no patterns are used in it). */
function dockerIgnored(): string[] {
  const lines = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
  return lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

describe('docker images', () => {
  for (const dockerfile of ['docker/Dockerfile', 'docker/emperor.Dockerfile']) {
    it(`${dockerfile}: scripts/bundle.js ends and records the worker's code cache with only the copied files (less .dockerignore's)`, async () => {
      const ctx = path.join(dir, path.basename(dockerfile));
      fs.mkdirSync(ctx);
      const sources = buildStageSources(dockerfile);
      expect(sources).toContain('scripts');
      const ignored = dockerIgnored();
      expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', 'dist', 'native/build']));
      const kept = (from: string) => !ignored.includes(path.relative(ROOT, from));
      for (const s of sources) fs.cpSync(path.join(ROOT, s), path.join(ctx, s), { recursive: true, filter: kept });
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(ctx, 'node_modules'));
      fs.cpSync(path.join(ROOT, 'native', 'build'), path.join(ctx, 'native', 'build'), { recursive: true }); // (npm ci's node-gyp build)
      fs.cpSync(path.join(ROOT, 'dist'), path.join(ctx, 'dist'), { recursive: true });
      fs.rmSync(path.join(ctx, 'dist', 'worker', 'main.bundle.js.v8cache'), { force: true });
      const r = await execa(process.execPath, ['scripts/bundle.js'], { cwd: ctx, reject: false, timeout: 120_000 });
      expect(r.timedOut, 'the build did not end').toBe(false);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stderr)).not.toMatch(/code cache not recorded/);
      expect(fs.existsSync(path.join(ctx, 'dist', 'worker', 'main.bundle.js.v8cache'))).toBe(true);
    }, 150_000);
  }

  // README (Containers): `docker exec CONTAINER liege --reload /run/app.pid`.
  // Before, the image's app.ini wrote no pidfile and `liege` was not on the
  // image's PATH: both halves of the command failed
  it('docker/app/app.ini run as PID 1 (its paths moved here) answers `liege --reload` and `--stop` on its pidfile, `liege` found on PATH', async () => {
    for (const f of ['docker/Dockerfile', 'docker/emperor.Dockerfile']) {
      expect(fs.readFileSync(path.join(ROOT, f), 'utf8')).toMatch(/^RUN ln -s \/opt\/liege\/bin\/liege \/usr\/local\/bin\/liege$/m);
    }
    const port = await freePort();
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(LIEGE, path.join(bin, 'liege')); // (the image's /usr/local/bin/liege)
    const pidfile = path.join(dir, 'app.pid');
    const ini = fs.readFileSync(path.join(ROOT, 'docker', 'app', 'app.ini'), 'utf8');
    expect(ini).toMatch(/^pidfile = \/run\/app\.pid$/m);
    const moved = ini.replaceAll('/srv/app', path.join(ROOT, 'docker', 'app')).replace('0.0.0.0:8080', `127.0.0.1:${port}`)
      .replaceAll('/run/app.pid', pidfile).replace(/^uid = app$/m, 'uid = nobody').replace(/^gid = app$/m, 'gid = nogroup');
    fs.writeFileSync(path.join(dir, 'app.ini'), moved);
    const p = execa('unshare', ['--pid', '--fork', '--mount-proc', LIEGE, '--ini', path.join(dir, 'app.ini')], { reject: false, detached: true, stdin: 'ignore', cwd: dir, env: { TEST_LIEGE: '1' } });
    try {
      const pid1 = await until(() => childrenOf(p.pid!)[0]);
      expect((await until(() => get(port))).body).toMatch(/^hello from worker/);
      expect(fs.readFileSync(pidfile, 'utf8').trim()).toBe('1');
      const exec = (flag: string) => execa('nsenter', ['--target', String(pid1), '--pid', '--mount', '--', 'liege', flag, pidfile], { reject: false, env: { TEST_LIEGE: '1', PATH: `${bin}:${process.env.PATH}` } });
      const reload = await exec('--reload');
      expect(reload.exitCode, String(reload.stderr)).toBe(0);
      let err = '';
      p.stderr?.on('data', (b: Buffer) => { err += b.toString(); });
      await until(() => /reload done/.test(err) || undefined, 20_000);
      const stop = await exec('--stop');
      if (stop.signal !== 'SIGKILL') expect(stop.exitCode, String(stop.stderr)).toBe(0);
      expect((await p).exitCode).toBe(0);
    } finally {
      try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
  }, 60_000);
});
