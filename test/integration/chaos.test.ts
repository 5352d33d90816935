// A short seeded chaos run (bench/chaos.js runs long ones): a master with 4
// workers, a spare, max-requests, reload-on-rss, harakiri and touch files,
// under keep-alive and one-shot load, gets every fault at least once —
// SIGHUP (and bursts), touch reload and chain reload, SIGKILL and
// SIGSTOP/SIGCONT of a worker, a request stuck in a busy loop, a leak, a
// reload into a broken app and back, a worker at its open file limit —
// then SIGTERM. No request fails but those in flight in a worker SIGKILLed
// or harakiri'd, the master survives, every fault has its log line, nothing
// is left behind.
import { describe, expect, it } from 'vitest';
import { freePort } from './helpers';
// (plain JS, shared with the bench)
import { KINDS, runChaos } from '../../bench/lib/chaos';

describe('chaos', () => {
  it('a seeded run of every fault under load: only requests in a killed worker fail, the master survives and says each fault, nothing is left', async () => {
    const log: string[] = [];
    const r = await runChaos({ seed: 18, port: await freePort(), durationMs: 12_000, gapMs: [300, 900], log: (l: string) => log.push(l) });
    const context = `\n${log.join('\n')}\n${r.log.join('\n')}`;
    expect(r.survived, context).toBe(true);
    expect(r.unexplained, context).toEqual([]);
    expect(r.unlogged, context).toEqual([]);
    expect(r.exit, context).toMatchObject({ code: 0 });
    expect(r.leftLater, context).toEqual([]);
    expect(r.portFree).toBe(true);
    for (const kind of KINDS) expect(r.injected[kind], kind).toBeGreaterThan(0);
    expect(r.byCause['/ ok']).toBeGreaterThan(500);
  }, 120_000);
});
