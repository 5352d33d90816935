import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSource, TooLarge } from '../../../src/config/sources';

describe('readSource (bounded)', () => {
  it('reads files, data:// and exec:// within the limit', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'liege-src-')), 'a.ini');
    fs.writeFileSync(f, 'hello');
    expect(readSource(f, 100)).toBe('hello');
    expect(readSource(`file://${f}`, 5)).toBe('hello');
    expect(readSource('data://x=1', 100)).toBe('x=1');
    expect(readSource('exec://printf abc', 100)).toBe('abc');
    fs.rmSync(path.dirname(f), { recursive: true });
  });

  it('stops endless sources at the limit', () => {
    expect(() => readSource('/dev/zero', 1000)).toThrow(TooLarge);
    expect(() => readSource('exec://yes 2>/dev/null', 1000)).toThrow(TooLarge);
    expect(() => readSource('data://abcdef', 3)).toThrow(TooLarge);
  });

  it('throws the fs error as is', () => {
    expect(() => readSource('/nonexistent-liege', 100)).toThrow(/ENOENT/);
  });
});
