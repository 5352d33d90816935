import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, hooksDoc, optionsDoc } from '../../src/cli/help';
import { allOptions } from '../../src/config/options';
import { ERRORS } from '../../src/errors';
import { ACTIONS } from '../../src/hooks/actions';
import { PHASES } from '../../src/phases';

const ROOT = path.resolve(__dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

describe('docs generated from the registries', () => {
  it('docs/options.md and docs/hooks.md are up to date (run: npm run docs)', () => {
    expect(read('docs/options.md')).toBe(optionsDoc());
    expect(read('docs/hooks.md')).toBe(hooksDoc(read('docs/hooks-intro.md')));
  });

  it('every option name and alias is declared once', () => {
    const names = allOptions().flatMap((o) => [o.name, ...(o.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('--help lists every implemented non-hook option', () => {
    const help = helpText();
    for (const o of allOptions()) if (!o.ignored && !o.hook) expect(help).toContain(`--${o.name}`);
  });

  it('docs/hooks.md documents every phase, every action and every error code', () => {
    const hooks = read('docs/hooks.md');
    for (const p of PHASES) expect(hooks).toContain(`\`${p.name}\``);
    for (const a of ACTIONS) expect(hooks).toContain(`\`${a.name}\``);
    for (const code of Object.keys(ERRORS)) expect(hooks).toContain(`\`${code}\``);
  });
});
