// No input crashes the loader: random configs built from every option name
// and hostile values either load or fail with a LiegeError (file:line,
// text, expected) — never another exception (that would be a stack trace).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load';
import { allOptions } from '../../../src/config/options';
import { resolveConfig } from '../../../src/config/resolve';
import { LiegeError } from '../../../src/errors';
import { buildPlan } from '../../../src/hooks/spec';

const OPTIONS = allOptions();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-fuzz-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// (no `-` token: it would read stdin)
// a small deterministic PRNG (mulberry32): the same cases on every run
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = ['', ' ', '0', '-1', '1', '99999999999999999999', 'abc', 'true', 'x=y', '=', ':', '%(', '%(x', '%()', '$(', '@(', '@()', '%(_)', '$(HOME)', '%(a + )', '%(1 / 0)',
  'exec:true', 'write:/dev/null x', '!exec:', 'mount:tmpfs', 'exit:', 'exit:999', '/', '/dev/null', `${dir}/nope`, ':sec', 'a:b:c', '127.0.0.1:', ':0', '\\', '"', '\u00e9\u4e2d', 'a b  c', '[x]', '#', ';'];
const EXTRA_KEYS = ['', '=', 'for', 'endfor', 'if-env', 'endif', 'ini', 'inherit', 'set', 'set-ph', 'unknown-key', '%(x)'];

describe('fuzzed configs fail only with LiegeError', () => {
  it('600 random configs', () => {
    const r = rng(6);
    const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const names = OPTIONS.map((o) => o.name);
    const crashes: string[] = [];
    for (let n = 0; n < 600; n++) {
      const lines = ['[uwsgi]'];
      const count = 1 + Math.floor(r() * 8);
      for (let i = 0; i < count; i++) lines.push(`${r() < 0.8 ? pick(names) : pick(EXTRA_KEYS)} = ${pick(VALUES)}${r() < 0.2 ? pick(VALUES) : ''}`);
      const file = path.join(dir, `f${n}.ini`);
      fs.writeFileSync(file, lines.join(r() < 0.1 ? '\r\n' : '\n'));
      try {
        buildPlan(resolveConfig(loadConfig({ argv: [file], env: { HOME: '/root' }, start: { cwd: dir, binary: 'liege', startMs: 0 }, reloads: 0 })));
      } catch (e) {
        if (!(e instanceof LiegeError)) crashes.push(`${lines.join(' | ')} → ${(e as Error).stack}`);
      }
    }
    expect(crashes).toEqual([]);
  });

  it('600 random command lines', () => {
    const r = rng(66);
    const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const tokens = [...OPTIONS.map((o) => `--${o.name}`), ...OPTIONS.filter((o) => o.short).map((o) => `-${o.short}`), '--', '-MLp', '--=', '---x', ...VALUES.map((v) => (v.startsWith('-') || v === '' ? 'x' : v))];
    const crashes: string[] = [];
    for (let n = 0; n < 600; n++) {
      const argv = Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(tokens)).filter((t) => !t.startsWith('/') && t !== 'true' && !t.includes('nope'));
      try {
        buildPlan(resolveConfig(loadConfig({ argv, env: {}, start: { cwd: dir, binary: 'liege', startMs: 0 }, reloads: 0 })));
      } catch (e) {
        if (!(e instanceof LiegeError)) crashes.push(`${JSON.stringify(argv)} → ${(e as Error).stack}`);
      }
    }
    expect(crashes).toEqual([]);
  });
});
