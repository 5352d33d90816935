import { describe, expect, it } from 'vitest';
import { FIFO_COMMANDS } from '../../../../src/master/control/fifo';
import { carriedName, commandOf, SIGNAL_COMMANDS, STOPS, type MasterEvent } from '../../../../src/master/loop/events';
import { HANDLERS, TABLES } from '../../../../src/master/loop/handlers';
import { TO_VASSAL } from '../../../../src/ipc/vassal';

// what pushes events that are not commands: timers, workers, the emperor, a control daemon
const EVENTS: MasterEvent[] = [
  { type: 'tick', lateMs: 0 },
  { type: 'watchdog' },
  { type: 'control-daemon-died', status: 0 },
  { type: 'emperor-lost' },
  { type: 'fatal', id: 1, detail: '', replacement: false },
  { type: 'accepting', id: 1, pid: 2 },
  { type: 'worker-exit', id: 1, pid: 2, failedReplacement: false },
  { type: 'app-load-failed', id: 1, pid: 2, replacement: false, serial: 1, error: '' },
  { type: 'stats', id: 1, pid: 2 },
  { type: 'signalled', id: 1, pid: 2, signal: 'SIGTERM', from: 3, at: 0 },
];

describe('the master loop\'s handler table', () => {
  it('has no name in two concerns\' tables (one would override the other)', () => {
    const seen = new Map<string, string>();
    for (const [table, handlers] of Object.entries(TABLES)) {
      for (const name of Object.keys(handlers)) {
        expect(seen.get(name), `${name} in ${table}`).toBeUndefined();
        seen.set(name, table);
      }
    }
    expect(Object.keys(HANDLERS).sort()).toEqual([...seen.keys()].sort());
  });

  it('handles every signal, fifo letter, touch file, emperor byte and event', () => {
    const names = [
      ...Object.values(SIGNAL_COMMANDS),
      ...Object.values(FIFO_COMMANDS),
      'reload', 'workers-reload', 'chain-reload', // touch-*
      ...STOPS,
      ...Object.values(TO_VASSAL).map((byte) => commandOf({ type: 'emperor', byte })[0]),
      ...EVENTS.map((e) => commandOf(e)[0]),
      commandOf({ type: 'signal', signal: 'SIGWINCH' })[0], // not the loop's: ignored
    ];
    expect(names.filter((n) => !HANDLERS[n])).toEqual([]);
  });

  it('splits a command\'s argument off its name', () => {
    expect(commandOf({ type: 'command', name: 'kill-worker:3' })).toEqual(['kill-worker', '3']);
    expect(commandOf({ type: 'command', name: 'reload' })).toEqual(['reload', undefined]);
    expect(commandOf({ type: 'signal', signal: 'SIGHUP' })).toEqual(['reload', undefined]);
  });

  it('carries commands and the emperor\'s across a reload\'s exec, not signals or worker events', () => {
    expect(carriedName({ type: 'command', name: 'kill-worker:3' })).toEqual(['kill-worker:3']);
    expect(carriedName({ type: 'emperor', byte: TO_VASSAL.stop })).toEqual(['emperor-stop']);
    expect(carriedName({ type: 'signal', signal: 'SIGHUP' })).toEqual([]);
    expect(carriedName({ type: 'accepting', id: 1, pid: 2 })).toEqual([]);
  });
});
