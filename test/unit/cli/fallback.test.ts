// Pure parts of cli/: the fallback chain, the hook context.
import { describe, expect, it } from 'vitest';
import { failedChain, FALLBACK_CHAIN_ENV } from '../../../src/cli/fallback';

describe('fallback chain', () => {
  it('adds the current config once to the configs that already ended with 1', () => {
    expect(failedChain({}, undefined)).toEqual([]);
    expect(failedChain({}, '/a.ini')).toEqual(['/a.ini']);
    expect(failedChain({ [FALLBACK_CHAIN_ENV]: '/a.ini' }, '/b.ini')).toEqual(['/a.ini', '/b.ini']);
    expect(failedChain({ [FALLBACK_CHAIN_ENV]: '/a.ini\n/b.ini' }, '/a.ini')).toEqual(['/a.ini', '/b.ini']);
  });
});
