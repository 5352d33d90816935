import { describe, expect, it } from 'vitest';
import { reloadStep, type SlotHolds } from '../../../src/master/reload-steps';

// a walk asked when 10 workers had been started: serial 11 and up started since
const MARK = 10;
const old = { serial: 4, status: 'accepting' as const };
const fresh = { serial: 12, status: 'accepting' as const };

describe('a workers or chain reload, slot by slot', () => {
  const table: Array<[string, SlotHolds, string]> = [
    ['a worker started before the request', { current: old, pending: false }, 'replace'],
    ['an adopted worker (no serial)', { current: { status: 'accepting' }, pending: false }, 'replace'],
    ['a worker started since (respawned mid-reload)', { current: fresh, pending: false }, 'done'],
    ['a respawn still starting', { current: { serial: 12, status: 'starting' }, pending: false }, 'wait'],
    ['a worker started before the request, still starting', { current: { serial: 3, status: 'starting' }, pending: false }, 'wait'],
    ['its replacement starting', { current: old, next: {}, pending: false }, 'wait'],
    ['a recycling begun before the request', { current: old, next: {}, pending: false }, 'wait'],
    ['a retry waiting for its backoff', { current: old, pending: true }, 'wait'],
    ['an empty slot waiting for its backoff', { pending: true }, 'wait'],
    ['nothing at all', { pending: false }, 'replace'],
    ['the worker started just at the request', { current: { serial: MARK, status: 'accepting' }, pending: false }, 'replace'],
  ];
  for (const [what, slot, step] of table) {
    it(`${what}: ${step}`, () => {
      expect(reloadStep(slot, MARK)).toBe(step);
    });
  }
});
