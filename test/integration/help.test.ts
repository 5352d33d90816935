// `liege --help` is a golden file: every option with its arity. After a
// deliberate change (a new option), regenerate it with `npm run docs`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { uwsgiOptions } from '../../src/config/uwsgi-table';
import { runLiege } from './helpers';

const GOLDEN = path.resolve(__dirname, '../golden/help.txt');

describe('liege --help', () => {
  it('prints the golden file (run `npm run docs` after adding an option)', async () => {
    const r = await runLiege(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(fs.readFileSync(GOLDEN, 'utf8').replace(/\n$/, '')); // execa strips the last newline
  });

  it('is the help wherever --help comes: after a config, with words to look up; no config is read', async () => {
    const r = await runLiege(['--ini', '/nonexistent.ini', '--help', 'harakiri']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/--harakiri VALUE +seconds a request may run/);
    const none = await runLiege(['/nonexistent.ini', '-h', 'nosuchoption']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('no option has `nosuchoption` in its name');
  });

  it('lists every uWSGI 2.0.21 option with its arity', () => {
    const help = fs.readFileSync(GOLDEN, 'utf8');
    const suffix = { flag: '', value: ' VALUE', optional: '[=VALUE]' };
    for (const [name, arity] of uwsgiOptions()) {
      // `--name SUFFIX`, or `--name, --alias SUFFIX` (aliases share the suffix)
      const re = new RegExp(`--${name.replace(/[.+]/g, '\\$&')}(, --[^\\s,]+)*${suffix[arity].replace(/[[\]=]/g, '\\$&')}(?![,[]| VALUE)(\\s|$)`);
      expect(help, name).toMatch(re);
    }
  });
});
