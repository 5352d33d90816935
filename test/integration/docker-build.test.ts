// The images' build stage (docker/Dockerfile, docker/emperor.Dockerfile)
// builds from what it copies, no more: before, scripts/bundle.js recorded
// the worker's code cache with an app from test/, which the images do not
// copy; the worker failed to load it and the listening server the script
// kept open held `npm run build` (and so `docker build`) forever. There is
// no Docker engine here: the COPY lines of the build stage are read and
// their files copied to a scratch dir, `npm ci` stands as a link to this
// checkout's node_modules and `tsc` as its dist/, then the build's last
// step, `node scripts/bundle.js`, runs there.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The sources of the COPY lines before the second FROM (the build stage). */
function buildStageSources(dockerfile: string): string[] {
  const lines = fs.readFileSync(path.join(ROOT, dockerfile), 'utf8').split('\n');
  const second = lines.findIndex((l, i) => i > 0 && l.startsWith('FROM ') && lines.slice(0, i).some((p) => p.startsWith('FROM ')));
  return lines.slice(0, second).filter((l) => l.startsWith('COPY ') && !l.includes('--from')).flatMap((l) => l.split(/\s+/).slice(1, -1));
}

describe('docker build stage', () => {
  for (const dockerfile of ['docker/Dockerfile', 'docker/emperor.Dockerfile']) {
    it(`${dockerfile}: scripts/bundle.js ends and records the worker's code cache with only the copied files`, async () => {
      const ctx = path.join(dir, path.basename(dockerfile));
      fs.mkdirSync(ctx);
      const sources = buildStageSources(dockerfile);
      expect(sources).toContain('scripts');
      for (const s of sources) fs.cpSync(path.join(ROOT, s), path.join(ctx, s), { recursive: true });
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(ctx, 'node_modules'));
      fs.cpSync(path.join(ROOT, 'dist'), path.join(ctx, 'dist'), { recursive: true });
      fs.rmSync(path.join(ctx, 'dist', 'worker', 'main.bundle.js.v8cache'), { force: true });
      const r = await execa(process.execPath, ['scripts/bundle.js'], { cwd: ctx, reject: false, timeout: 120_000 });
      expect(r.timedOut, 'the build did not end').toBe(false);
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(String(r.stderr)).not.toMatch(/code cache not recorded/);
      expect(fs.existsSync(path.join(ctx, 'dist', 'worker', 'main.bundle.js.v8cache'))).toBe(true);
    }, 150_000);
  }
});
