import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load';
import { resolveConfig } from '../../../src/config/resolve';
import { LiegeError } from '../../../src/errors';

const FIX = path.resolve(__dirname, '../../fixtures/inc');
const start = { cwd: process.cwd(), binary: 'liege', startMs: 0 };
const load = (argv: string[], env: NodeJS.ProcessEnv = {}, reloads = 0) => resolveConfig(loadConfig({ argv, env, start, reloads }));
const hooks = (argv: string[], env: NodeJS.ProcessEnv = {}) => load(argv, env).hookLines.map((h) => h.value);

describe('loadConfig', () => {
  it('expands includes in place, logic blocks, and inherit last and unexpanded', () => {
    expect(hooks(['--ini', `${FIX}/main.ini`], { TEST_FLAG_LIEGE: 'on' })).toEqual([
      'exec:echo main-1',
      'exec:echo part n=part',
      'exec:echo main-2',
      'exec:echo part-extra x=extra',
      'exec:echo for-a',
      'exec:echo for-b',
      'exec:echo flag=on',
      'exec:echo no-nope',
      'exec:echo main-3 main',
      'exec:echo template %(marker) $(HOME)',
    ]);
  });

  it('reads a file saved with a byte order mark and CRLF lines (a Windows editor): before, the BOM hid [uwsgi] and every line of it', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bom-')), 'bom.ini');
    fs.writeFileSync(f, '\uFEFF[uwsgi]\r\nprocesses = 3\r\nno-server = true\r\n');
    const cfg = load([f]);
    expect(cfg.int('processes')).toBe(3);
    expect(cfg.origin('processes')).toMatchObject({ line: 2 });
    fs.rmSync(path.dirname(f), { recursive: true });
  });

  it('reads env first, then argv in order; scalars: last wins', () => {
    const cfg = load(['--processes', '3', '-p', '5'], { UWSGI_PROCESSES: '2' });
    expect(cfg.int('processes')).toBe(5);
    expect(cfg.origin('processes')).toEqual({ file: 'command line', line: 0, arg: '-p 5' });
  });

  it('accepts --opt=value, short flags and boolean flags without a value', () => {
    const cfg = load(['--no-server', '-M', '--uid=nobody']);
    expect([cfg.bool('no-server'), cfg.bool('master'), cfg.str('uid')]).toEqual([true, true, 'nobody']);
  });

  it('if-reload / if-not-reload follow UWSGI_RELOADS', () => {
    const args = ['--if-reload', '--hook-asap', 'exec:reloaded', '--endif', '--if-not-reload', '--hook-asap', 'exec:first', '--end'];
    expect(load(args, {}, 0).hookLines.map((h) => h.value)).toEqual(['exec:first']);
    expect(load(args, {}, 1).hookLines.map((h) => h.value)).toEqual(['exec:reloaded']);
  });

  it('treats unknown keys referenced as %(key) as placeholders, others as errors', () => {
    expect(load(['--set', 'mine=1', '--hook-asap', 'exec:echo %(mine)']).hookLines[0]!.value).toBe('exec:echo 1');
    expect(() => load(['--set', 'procesess=1'])).toThrow(/did you mean `processes`/);
  });

  it('rejects nested logic blocks', () => {
    const err = (() => { try { load(['--for', 'a', '--if-env', 'X', '--end']); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(LiegeError);
    expect((err as LiegeError).code).toBe('LIEGE_ERR_LOGIC');
  });
});

describe('loadConfig bounds and uWSGI details', () => {
  const err = (f: () => unknown): LiegeError => {
    try { f(); } catch (e) { return e as LiegeError; }
    throw new Error('no error');
  };

  it('UWSGI_* env that is not an option defines a placeholder', () => {
    expect(hooks(['--hook-asap', 'exec:%(foo-bar)'], { UWSGI_FOO_BAR: 'baz' })).toEqual(['exec:baz']);
  });

  it('keeps lines of false if-* blocks as dormant, their hooks checked not run', () => {
    const cfg = load(['--if-env', 'LIEGE_NEVER', '--hook-asap', 'exec:x', '--endif']);
    expect(cfg.hookLines).toEqual([]);
    expect(cfg.dormantHookLines.map((h) => h.value)).toEqual(['exec:x']);
  });

  it('for-times is bounded and checked when the block opens', () => {
    expect(err(() => load(['--for-times', '99999999999999999999', '--endfor'])).describe()).toMatch(/an integer from 0 to 100000/);
    expect(err(() => load(['--for-readline', '/nonexistent', '--endfor'])).describe()).toMatch(/unable to read \/nonexistent: ENOENT/);
  });

  it('20k repeated options keep every value, in order', () => {
    const argv = Array.from({ length: 20000 }, (_, i) => ['--env', `K${i}=v`]).flat();
    const env = load(argv).list('env');
    expect(env).toHaveLength(20000);
    expect(env[19999]!.value).toBe('K19999=v');
  });

  it('a self-inherit is an error, not a loop', () => {
    expect(err(() => load([`${FIX}/../logic/sub/x.ini`, '--inherit', `${FIX}/../logic/sub/x.ini`, '--inherit', `${FIX}/../logic/sub/x.ini`])).describe()).toMatch(/`inherit` loop/);
  });
});
