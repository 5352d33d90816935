import { describe, expect, it } from 'vitest';
import { expandEnv, expandPlaceholders } from '../../../src/config/expand';
import { substituteMagic } from '../../../src/config/magic';

const table: Record<string, string> = { num: '17', name: 'first', empty: '' };
const lookup = (k: string) => table[k];

describe('placeholder expansion', () => {
  it.each([
    ['%(name)', 'first'],
    ['%(num + 3)', '20'],
    ['%(num + 3 * 2)', '40'],
    ['%(num - 20)', '-3'],
    ['%(num / 2)', '8'],
    ['%(num / 0)', '0'],
    ['%(num ++)', '18'],
    ['%(num --)', '16'],
    ['%(name num)', 'first17'],
    ['%(missing)', '%(missing)'],
    ['a %(name) b %(num)', 'a first b 17'],
  ])('%s → %s', (input, out) => {
    expect(expandPlaceholders(input, lookup)).toBe(out);
  });
});

describe('$(ENV)', () => {
  it('substitutes set variables and leaves unknown ones verbatim', () => {
    expect(expandEnv('$(A)-$(B)-$()', { A: 'x' })).toBe('x-$(B)-$()');
  });
});

describe('magic variables', () => {
  it('substitutes known ones, eats unknown ones, keeps %( and %%', () => {
    expect(substituteMagic('%d|%n|%q|%%|%(x)|a% b', { d: '/etc/', n: 'app' })).toBe('/etc/|app||%|%(x)|ab');
  });
});
