// The emperor's reload bookkeeping and what STATUS= says after it, without processes.
import { describe, expect, it } from 'vitest';
import { reloadNote, ReloadRound } from '../../../src/emperor/reload-round';
import { Vassal } from '../../../src/emperor/vassal';

const vassal = (name: string) => new Vassal({ name: `/etc/v/${name}`, config: `/etc/v/${name}`, version: '1' } as never, 'dir:///etc/v');

describe('emperor reload round', () => {
  it('waits for each vassal once; a second SIGHUP waits again for one that answered', () => {
    const r = new ReloadRound();
    const [a, b] = [vassal('a.ini'), vassal('b.ini')];
    r.wait(a);
    r.wait(b);
    expect(r.settle(b, 'failed')).toBe(true);
    expect(r.settle(b, 'reloaded')).toBe(false); // (not waited for any more)
    expect(r.left()).toEqual([a]);
    r.wait(b);
    expect(r.total).toBe(2);
    r.settle(a, 'reloaded');
    r.settle(b, 'died');
    expect([r.left(), r.named('reloaded'), r.named('died'), r.named('failed')]).toEqual([[], ['a.ini'], ['b.ini'], []]);
  });

  it('names what did not come through', () => {
    expect(reloadNote([], [])).toBe('');
    expect(reloadNote(['a.ini', 'b.ini'], ['c.ini'], ['d.ini'])).toBe('; reload failed in a.ini, b.ini (the running generation serves); still reloading: c.ini; died during the reload: d.ini (respawned)');
  });
});
