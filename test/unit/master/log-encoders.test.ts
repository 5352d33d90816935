// log-encoder's chain (uWSGI's encoders): each takes what the previous gave;
// a line enters with its newline.
import { describe, expect, it } from 'vitest';
import { compileEncoders } from '../../../src/master/log-encoders';

describe('log-encoder chain', () => {
  it('none: no encoder at all', () => {
    expect(compileEncoders([])).toBeUndefined();
  });

  it('prefix and suffix wrap the line as it is (the suffix after its newline, as uWSGI)', () => {
    expect(compileEncoders(['prefix [app] '])!('hello\n')).toBe('[app] hello\n');
    expect(compileEncoders(['suffix !'])!('hello\n')).toBe('hello\n!');
  });

  it('format: ${msg} without the newline, ${msgnl} with it; nl adds one; unknown variables give nothing', () => {
    expect(compileEncoders(['format <${msg}>${nope}', 'nl'])!('hi\n')).toBe('<hi>\n');
    expect(compileEncoders(['format [${msgnl}]'])!('hi\n')).toBe('[hi\n]');
  });

  it('json escapes the line (quotes, backslashes, tabs); times are numbers', () => {
    const out = compileEncoders(['json {"msg":"${msg}","unix":${unix},"ms":${millis},"us":${micros}}'])!('a "b" \\ c\td\n');
    const o = JSON.parse(out) as Record<string, unknown>;
    expect(o.msg).toBe('a "b" \\ c\td');
    expect(Math.abs((o.unix as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(String(o.us).length).toBe(String(o.ms).length + 3);
  });

  it('strftime: the local date in the given format', () => {
    expect(compileEncoders(['format ${strftime:%Y} ${msg}'])!('x\n')).toBe(`${new Date().getFullYear()} x`);
  });
});
