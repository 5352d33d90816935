import { describe, expect, it } from 'vitest';
import { parseIni } from '../../../src/config/ini';

describe('parseIni (uWSGI core/ini.c semantics)', () => {
  const text = ['# comment', '[other]', 'a = NO', '[uwsgi]', '  bare', 'k=v', '\tk2\t=\tx = y  ', '; c', 'empty =', '[liege]', 'l = 1', '[uwsgi]', 'again = 2'].join('\n');

  it('keeps only the requested sections, in file order, with line numbers', () => {
    const lines = parseIni(text, 'f.ini', ['uwsgi']);
    expect(lines.map((l) => [l.key, l.value, l.origin.line])).toEqual([
      ['bare', '', 5],
      ['k', 'v', 6],
      ['k2', 'x = y', 7],
      ['empty', '', 9],
      ['again', '2', 13],
    ]);
  });

  it('reads [uwsgi] and [liege] together by default', () => {
    expect(parseIni(text, 'f.ini', ['uwsgi', 'liege']).map((l) => l.key)).toContain('l');
  });

  it('strips CR and ignores comment lines only at line start', () => {
    expect(parseIni('[uwsgi]\r\nx = a # not a comment\r\n', 'f', ['uwsgi'])[0]!.value).toBe('a # not a comment');
  });
});
