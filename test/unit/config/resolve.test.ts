import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve';
import type { Valued } from '../../../src/config/expand';

const at = (line: number) => ({ file: 'a.ini', line });
const resolve = (entries: Valued[], placeholders: string[] = [], dormant: Valued[] = []) => resolveConfig({ entries, placeholders: new Set(placeholders), dormant });

describe('resolveConfig', () => {
  it('keeps every value of a repeatable option in order, the last of a scalar', () => {
    const cfg = resolve([
      { key: 'env', value: 'A=1', origin: at(1) },
      { key: 'processes', value: '2', origin: at(2) },
      { key: 'env', value: 'B=2', origin: at(3) },
      { key: 'workers', value: '3', origin: at(4) },
    ]);
    expect(cfg.list('env').map((s) => s.value)).toEqual(['A=1', 'B=2']);
    expect(cfg.int('processes')).toBe(3);
    expect(cfg.origin('processes')).toEqual(at(4));
  });

  it('drops ignored uWSGI options (after checking them) and custom placeholders', () => {
    const cfg = resolve([{ key: 'ksm', value: 'true', origin: at(1) }, { key: 'mine', value: 'x', origin: at(2) }], ['mine']);
    expect(cfg.settings).toEqual([]);
    expect(() => resolve([{ key: 'harakiri', value: '-5', origin: at(1) }])).toThrow(/bad value for `harakiri`/);
  });

  it('quotes the argument as typed when there is one', () => {
    expect(() => resolve([{ key: 'processes', value: 'abc', origin: { file: 'command line', line: 0, arg: '-p abc' } }])).toThrow(expect.objectContaining({ text: '-p abc' }));
  });

  it('checks dormant lines: name always, value when nothing is left to expand', () => {
    expect(() => resolve([], [], [{ key: 'procesess', value: '1', origin: at(5) }])).toThrow(/unknown option `procesess`/);
    expect(() => resolve([], [], [{ key: 'processes', value: 'x', origin: at(5) }])).toThrow(/bad value/);
    expect(resolve([], [], [{ key: 'processes', value: '%(n)', origin: at(5) }]).dormantHookLines).toEqual([]);
    expect(resolve([], [], [{ key: 'hook-asap', value: 'exec:x', origin: at(5) }]).dormantHookLines.map((h) => h.value)).toEqual(['exec:x']);
  });
});
