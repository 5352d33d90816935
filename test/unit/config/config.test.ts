import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load';
import { resolveConfig } from '../../../src/config/resolve';

const start = { cwd: process.cwd(), binary: 'liege', startMs: 0 };
const load = (argv: string[]) => resolveConfig(loadConfig({ argv, env: {}, start, reloads: 0 }));

describe('Config reads fall back to the registry defaults', () => {
  it('an unset option reads its default', () => {
    const cfg = load([]);
    expect(cfg.int('processes')).toBe(1);
    expect(cfg.int('emperor-freq')).toBe(3);
    expect(cfg.str('log-format')).toBe('text');
    expect(cfg.has('processes')).toBe(false);
  });

  it('unset without a default: int 0, str undefined, flag false', () => {
    const cfg = load([]);
    expect(cfg.str('chroot')).toBeUndefined();
    expect(cfg.bool('master')).toBe(false);
  });

  it('a set value wins, and uWSGI booleans read false/off/no/0 as false', () => {
    const cfg = load(['--processes', '4', '--master=off', '--namespace-net', 'yes']);
    expect(cfg.int('processes')).toBe(4);
    expect(cfg.bool('master')).toBe(false);
    expect(cfg.bool('namespace-net')).toBe(true);
  });
});
