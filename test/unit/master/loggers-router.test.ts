// Where a line goes among the loggers: every matching route's logger and
// nowhere else, else every unnamed logger, else not taken (stderr).
import { describe, expect, it } from 'vitest';
import { compileEncoders } from '../../../src/master/log-encoders';
import { router } from '../../../src/master/loggers/router';

const sink = (label: string) => {
  const lines: string[] = [];
  return { label, lines, write: (l: string) => void lines.push(l), flushSync: () => undefined };
};

describe('logger router', () => {
  it('routes, unnamed loggers, stderr', () => {
    const a = sink('a');
    const b = sink('b');
    const errs = sink('errs');
    const route = router({ all: [{ sink: a }, { sink: b }], routes: [{ re: /ERROR$/, out: { sink: errs, encode: compileEncoders(['prefix:errs ! ', 'prefix x'], 'errs') } }] });
    expect(route('all is well')).toBe(true);
    expect(route('it failed: ERROR')).toBe(true);
    expect(a.lines).toEqual(['all is well\n']);
    expect(b.lines).toEqual(['all is well\n']);
    // the encoders for every line and those of that logger, in order; `$` before no newline
    expect(errs.lines).toEqual(['x! it failed: ERROR\n']);
    expect(router({ all: [], routes: [{ re: /ERROR/, out: { sink: errs } }] })('fine')).toBe(false);
  });

  it('a NAME:LOGGER encoder is for that logger only', () => {
    expect(compileEncoders(['prefix:errs !'])).toBeUndefined();
    expect(compileEncoders(['prefix:errs !', 'suffix ?'])!('l\n')).toBe('l\n?');
  });
});
