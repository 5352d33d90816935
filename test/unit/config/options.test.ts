import { describe, expect, it } from 'vitest';
import { arityOf, findOption, findShort, OPTIONS } from '../../../src/config/options';
import { UWSGI_OPTIONS } from '../../../src/config/uwsgi-options';

describe('the option registry', () => {
  it('knows every uWSGI 2.0.21 option (core, http, python3: 893 names)', () => {
    expect(UWSGI_OPTIONS.length).toBe(893);
    for (const [name] of UWSGI_OPTIONS) expect(findOption(name), name).toBeDefined();
  });

  it('gives each uWSGI option its uWSGI arity, also where liege implements it', () => {
    for (const [name, arity] of UWSGI_OPTIONS) expect(`${name}: ${arityOf(findOption(name)!)}`).toBe(`${name}: ${arity}`);
  });

  it('maps uWSGI short letters, liege declarations first', () => {
    expect(findShort('p')!.name).toBe('processes');
    expect(findShort('L')!.name).toBe('disable-logging');
    expect(findShort('M')!.name).toBe('master');
  });

  it('declares each name once', () => {
    const names = OPTIONS.flatMap((o) => [o.name, ...(o.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps defaults in the registry', () => {
    expect(findOption('processes')!.default).toBe('1');
    expect(findOption('emperor-freq')!.default).toBe('3');
  });
});
