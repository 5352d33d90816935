// The vassal state table and the respawn throttle, without processes.
import { describe, expect, it } from 'vitest';
import { TABLE, throttleDelay, transition } from '../../../src/emperor/states';

describe('vassal state table', () => {
  it('walks a vassal through its life', () => {
    expect(transition('waiting', 'slot')).toEqual(['starting', 'spawn']);
    expect(transition('starting', 'ready')).toEqual(['running', 'none']);
    expect(transition('running', 'changed')).toEqual(['reloading', 'reload']);
    expect(transition('reloading', 'ready')).toEqual(['running', 'none']);
    expect(transition('running', 'gone')).toEqual(['stopping', 'stop']);
    expect(transition('stopping', 'exit')).toEqual(['removed', 'remove']);
  });

  it('respawns early deaths later, exiles invalid configs until they change', () => {
    expect(transition('running', 'exit')).toEqual(['throttled', 'respawn-later']);
    expect(transition('throttled', 'timer')).toEqual(['waiting', 'queue']);
    expect(transition('throttled', 'changed')).toEqual(['waiting', 'queue']); // touch: respawn now
    expect(transition('throttled', 'force')).toEqual(['waiting', 'queue']); // SIGURG
    expect(transition('starting', 'exile')).toEqual(['exiled', 'none']);
    expect(transition('exiled', 'timer')).toEqual(['exiled', 'none']);
    expect(transition('exiled', 'changed')).toEqual(['waiting', 'queue']);
  });

  it('restarts a vassal whose owner changed, or that came back while stopping', () => {
    expect(transition('running', 'owner-changed')).toEqual(['stopping', 'stop-restart']);
    expect(transition('stopping', 'wanted')).toEqual(['stopping', 'restart-after-stop']);
    expect(transition('stopping', 'gone')).toEqual(['stopping', 'no-restart']);
    expect(transition('stopping', 'stopped-restart')).toEqual(['waiting', 'queue']);
  });

  it('kills a silent vassal (its exit respawns it) and ignores events that do not apply', () => {
    expect(transition('running', 'silent')).toEqual(['running', 'kill']);
    expect(transition('waiting', 'ready')).toEqual(['waiting', 'none']);
    for (const [status, row] of Object.entries(TABLE)) if (status !== 'stopping') expect(row.gone).toBeDefined();
  });

  it('reloads (SIGHUP or a new config) one at a time: one more asked meanwhile waits for the answer', () => {
    expect(transition('running', 'reload')).toEqual(['reloading', 'reload']);
    expect(transition('starting', 'reload')).toEqual(['reloading', 'reload']);
    expect(transition('reloading', 'reload')).toEqual(['reloading', 'reload-again']);
    expect(transition('reloading', 'changed')).toEqual(['reloading', 'reload-again']);
    expect(transition('reloading', 'reload-failed')).toEqual(['running', 'none']);
    expect(transition('reloading', 'exit')).toEqual(['throttled', 'respawn-later']);
    expect(transition('reloading', 'gone')).toEqual(['stopping', 'stop']);
    for (const s of ['waiting', 'stopping', 'throttled', 'exiled', 'on-demand'] as const) expect(transition(s, 'reload')).toEqual([s, 'none']);
  });

  it('throttles the respawn: immediate first, then +step each early death, capped', () => {
    expect([1, 2, 3, 4].map((n) => throttleDelay(n, 1000, 2500))).toEqual([0, 1000, 2000, 2500]);
  });
});
