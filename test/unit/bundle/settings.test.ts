import { describe, expect, it } from 'vitest';
import { configEnvNames, vassalIni } from '../../../src/bundle/instance';
import { envName, flatten, getPath, parseAssignment, withPath } from '../../../src/bundle/settings';

describe('settings', () => {
  it('parses KEY=VALUE with JSON values where they parse', () => {
    expect(parseAssignment('db.port=5432')).toEqual([['db', 'port'], 5432]);
    expect(parseAssignment('a={"b":[1,true]}')).toEqual([['a'], { b: [1, true] }]);
    expect(parseAssignment('name=hello world')).toEqual([['name'], 'hello world']);
    expect(parseAssignment('x="quoted"')).toEqual([['x'], 'quoted']);
    expect(() => parseAssignment('novalue')).toThrow('KEY=VALUE');
    expect(() => parseAssignment('a..b=1')).toThrow('bad setting key');
    expect(() => parseAssignment('a="x\\ny"')).toThrow('newline');
  });
  it('sets, removes and flattens dotted paths without touching the input', () => {
    const s = { db: { host: 'a' } };
    const t = withPath(withPath(s, ['db', 'port'], 1), ['tls'], true);
    expect(s).toEqual({ db: { host: 'a' } });
    expect(t).toEqual({ db: { host: 'a', port: 1 }, tls: true });
    expect(getPath(t, ['db', 'port'])).toBe(1);
    expect(withPath(t, ['db'], undefined)).toEqual({ tls: true });
    expect(flatten(t)).toEqual([['db.host', 'a'], ['db.port', '1'], ['tls', 'true']]);
    expect(envName('db.max-conns')).toBe('LIEGE_CONFIG_DB_MAX_CONNS');
  });
  it('a setting removed since the last generation is unset in the next', () => {
    const base = { name: 'web', version: '1', root: '/s/web/1', data: '/s/web/data' };
    const first = vassalIni({ ...base, settings: { a: 1, b: 2 } });
    const second = vassalIni({ ...base, settings: { a: 1 }, staleEnv: configEnvNames(first) });
    expect(second).toContain('env = LIEGE_CONFIG_A=1');
    expect(second).toContain('unenv = LIEGE_CONFIG_B');
    expect(second).not.toContain('unenv = LIEGE_CONFIG_A');
    expect(second.trim().split('\n').at(-1)).toBe('ini = /s/web/1/meta/liege.ini');
  });
});
