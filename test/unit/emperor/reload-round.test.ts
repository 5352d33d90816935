// The emperor's reload bookkeeping and what STATUS= says after it, without processes.
import { describe, expect, it } from 'vitest';
import { EmperorReload, reloadNote, ReloadRound } from '../../../src/emperor/reload-round';
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

describe('the emperor reload', () => {
  /** An emperor of `names`, all serving; what it told systemd and the vassals. */
  function setup(names: string[]) {
    const vs = names.map((n) => Object.assign(vassal(n), { child: {} as never, status: 'running' as const }));
    const said: string[] = [];
    const sent: string[] = [];
    const stopped = new Set<string>();
    const silent = { info: () => undefined, warn: () => undefined } as never;
    const reload: EmperorReload = new EmperorReload({
      live: () => vs.filter((v) => v.child),
      stopped: (v) => stopped.has(v.name),
      // (the state table: a vassal reloading already reloads once more after)
      reload: (v) => { if (v.status === 'reloading') v.reloadAgain = true; else { v.status = 'reloading'; sent.push(v.name); } },
      timeout: () => undefined as never,
      statusText: (died = []) => `governing${reloadNote(vs.filter((v) => v.reloadFailed).map((v) => v.name), [], died)}`,
      status: () => undefined,
      notify: (f) => said.push(Object.entries(f).map(([k, v]) => `${k}=${v}`).join('|')),
      reloading: () => ({ RELOADING: 1 }),
    }, 60, silent);
    // (the emperor: 'ready' or 'reload-failed' takes it to running, then it answers)
    const answer = (v: Vassal, outcome: 'reloaded' | 'failed') => {
      v.status = 'running';
      reload.answered(v, outcome);
    };
    return { vs, said, sent, stopped, reload, answer };
  }

  it('READY=1 once every vassal answered, died or was stopped; not before', () => {
    const { vs: [a, b, , d], said, stopped, reload, answer } = setup(['a', 'b', 'c', 'd']);
    reload.start();
    expect(said).toEqual(['RELOADING=1|STATUS=governing']);
    answer(a!, 'reloaded');
    b!.reloadFailed = true;
    answer(b!, 'failed');
    reload.settle();
    expect(said).toHaveLength(1);
    stopped.add('c'); // (its config removed: stopping)
    d!.child = undefined; // (died: respawned later)
    reload.settle();
    expect(said.at(-1)).toBe('READY=1|STATUS=governing; reload failed in b (the running generation serves); died during the reload: d (respawned)');
    expect(reload.round).toBeUndefined();
  });

  it('coalesces a second SIGHUP: one RELOADING=1, one more reload of a vassal still reloading, after its answer', () => {
    const { vs: [a, b], said, sent, reload, answer } = setup(['a', 'b']);
    reload.start();
    answer(b!, 'reloaded');
    reload.start(); // (b reloads now, a once more after its answer)
    expect(sent).toEqual(['a', 'b', 'b']);
    expect(a!.reloadAgain).toBe(true);
    answer(a!, 'reloaded'); // (its first reload's answer: sent again)
    expect(sent).toEqual(['a', 'b', 'b', 'a']);
    answer(b!, 'reloaded');
    reload.settle();
    expect(said).toHaveLength(1);
    answer(a!, 'reloaded');
    reload.settle();
    expect(said).toEqual(['RELOADING=1|STATUS=governing', 'READY=1|STATUS=governing']);
  });

  it('the bound ends it (a later timer of an older round does not); a stop abandons it without READY=1', () => {
    const { vs: [a], said, reload } = setup(['a']);
    reload.start();
    const first = reload.round!;
    reload.timedOut(first);
    expect(said.at(-1)).toBe('READY=1|STATUS=governing');
    expect(a!.overdue).toBe(true);
    reload.start();
    reload.timedOut(first);
    expect(said).toHaveLength(3);
    reload.abandon();
    reload.settle();
    expect(said).toHaveLength(3);
  });
});
