import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../../../src/hooks/dirs';
import { addHooks } from '../../../src/hooks/registry/edit';
import { categoryOf, checkDescriptor } from '../../../src/hooks/registry/entry';
import { parseRegistry } from '../../../src/hooks/registry/store';

const check = (o: unknown, kind: 'script' | 'module' = 'script') => {
  try {
    return checkDescriptor(o, kind);
  } catch (e) {
    return `error: ${String(e)}`;
  }
};

describe('registry descriptors', () => {
  it('guesses the category, defaults the stage, validates events per category', () => {
    expect(check({ event: 'as-user' })).toEqual({ category: 'Phase', event: 'as-user', stage: 'pre' });
    expect(check({ event: 'as-vassal', stage: 'post', weight: '20' })).toEqual({ category: 'Vassal', event: 'as-vassal', stage: 'post', weight: 20 });
    expect(categoryOf('pre-route')).toBe('Request');
    expect(check({ category: 'Vassal', event: 'as-user' })).toMatch(/unknown Vassal event `as-user` \(expected one of: emperor-start, as-vassal/);
    expect(check({ event: 'as-user', stage: 'middle' })).toMatch(/stage/);
    expect(check({ event: 'as-user', weight: 1.5 })).toMatch(/weight/);
    expect(check({ event: 'as-user', colour: 'red' })).toMatch(/unknown descriptor `colour`/);
    expect(check({ event: 'pre-route' })).toMatch(/register a module/);
    expect(check({ event: 'pre-route', check: 'x' }, 'module')).toMatch(/no check/);
    expect(check({ event: 'accepting', escalateprivs: true })).toMatch(/not in the worker phase/);
    expect(check([])).toMatch(/descriptor object/);
  });

  it('weights: 100, 200, 300 per event; after an explicit 455, 555', () => {
    const db = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'liege-unit-')), 'h.json');
    const w = (action: string, weight?: number, event = 'pre-app') => addHooks(db, 'script', '/bin/true', [{ category: 'Phase', event, stage: 'pre', action, weight }])[0]!.entry.weight;
    expect([w('a'), w('b'), w('c'), w('d', 455), w('e'), w('x', undefined, 'as-user')]).toEqual([100, 200, 300, 455, 555, 100]);
    expect(w('b')).toBe(200); // re-adding keeps the weight
  });

  it('parseRegistry names the line of the bad field', () => {
    const text = 'version: 1\nhooks:\n  - id: abc\n    kind: script\n    ref: /bin/true\n    category: Phase\n    event: nope\n    stage: pre\n    weight: 100\n';
    expect(() => parseRegistry('/r.yaml', text)).toThrow(/unknown Phase event `nope`/);
    try { parseRegistry('/r.yaml', text); } catch (e) { expect((e as { origin: { line: number } }).origin.line).toBe(3); }
    try { parseRegistry('/r.yaml', text.replace('kind: script', 'kind: binary')); } catch (e) { expect((e as { origin: { line: number } }).origin.line).toBe(4); }
    expect(parseRegistry('/r.json', '{"version":1,"hooks":[]}')).toEqual([]);
    expect(() => parseRegistry('/r.json', '{"hooks": [1, 2]')).toThrow(/unable to parse/);
  });
});

describe('run-parts names', () => {
  it('skips dotfiles, backups and package leftovers', () => {
    expect(['10-ok', 'a_b', '.x', 'y~', 'z.dpkg-old', 'z.dpkg-dist', 'w.rpmnew', 'w.rpmsave'].map((n) => skipReason(n) ?? 'run')).toEqual(['run', 'run', 'dotfile', 'backup file', 'dpkg leftover', 'dpkg leftover', 'rpm leftover', 'rpm leftover']);
  });
});
