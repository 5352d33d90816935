import { describe, expect, it } from 'vitest';
import { findOption } from '../../../src/config/options';
import { hintedOptions, ignoredHint } from '../../../src/config/uwsgi-hints';

describe('hints for ignored uWSGI options', () => {
  it('name only options liege ignores (an option it implements would be told to use something else)', () => {
    for (const name of hintedOptions()) expect(findOption(name)?.ignored, name).toBe(true);
  });

  it('send a migrated config\'s app and router lines to node-app and http-socket', () => {
    for (const name of ['module', 'wsgi-file', 'callable']) expect(ignoredHint(name)).toMatch(/node-app = app\.js/);
    expect(ignoredHint('http')).toMatch(/http-socket = ADDR/);
    expect(ignoredHint('ksm')).toBeUndefined();
  });
});
