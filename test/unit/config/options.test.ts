import { describe, expect, it } from 'vitest';
import { allOptions, arityOf, findOption, findShort } from '../../../src/config/options';
import { uwsgiHelp, uwsgiOptions } from '../../../src/config/uwsgi-table';

describe('the option registry', () => {
  it('knows every uWSGI 2.0.21 option (core, http, python3: 893 names)', () => {
    expect(uwsgiOptions().length).toBe(893);
    for (const [name] of uwsgiOptions()) expect(findOption(name), name).toBeDefined();
  });

  it('gives each uWSGI option its uWSGI arity, also where liege implements it', () => {
    for (const [name, arity] of uwsgiOptions()) expect(`${name}: ${arityOf(findOption(name)!)}`).toBe(`${name}: ${arity}`);
  });

  it('maps uWSGI short letters, liege declarations first', () => {
    expect(findShort('p')!.name).toBe('processes');
    expect(findShort('L')!.name).toBe('disable-logging');
    expect(findShort('M')!.name).toBe('master');
  });

  it('finds an ignored uWSGI option by its short letter, and only whole names', () => {
    expect(findShort('H')!.name).toBe('home');
    expect(findShort('H')!.ignored).toBe(true);
    expect(findShort('\u00e9')).toBeUndefined();
    expect(findOption('home')).toBe(findShort('H')); // one def per option
    expect(findOption('socket v')).toBeUndefined();
    expect(findOption('sock')).toBeUndefined();
    expect(findOption('')).toBeUndefined();
  });

  it('has the help text of every uWSGI option (uwsgi-help.txt)', () => {
    const help = uwsgiHelp();
    for (const [name] of uwsgiOptions()) expect(help.get(name), name).toBeTruthy();
  });

  it('declares each name once', () => {
    const names = allOptions().flatMap((o) => [o.name, ...(o.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('keeps defaults in the registry', () => {
    expect(findOption('processes')!.default).toBe('1');
    expect(findOption('emperor-freq')!.default).toBe('3');
  });
});
