// Pure parts of master/: the `cap` option → capability masks.
import { describe, expect, it } from 'vitest';
import { capMask } from '../../../src/master/as-root';

describe('capMask', () => {
  it('names (with or without cap_, any case) → bits of the low and high words', () => {
    expect(capMask(undefined)).toBeUndefined();
    expect(capMask('chown')).toEqual({ lo: 1, hi: 0 }); // CAP_CHOWN = 0
    expect(capMask('CAP_SETUID,net_bind_service')).toEqual({ lo: (1 << 7) | (1 << 10), hi: 0 });
    // CAP_SYSLOG = 34 lives in the high word
    expect(capMask('syslog')).toEqual({ lo: 0, hi: 1 << 2 });
    // CAP_SETPCAP = 8 … the low word stays unsigned when bit 31 is set (CAP_SETFCAP = 31)
    expect(capMask('setfcap')!.lo).toBe(2 ** 31);
  });
});
