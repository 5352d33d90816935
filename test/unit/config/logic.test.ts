import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load';
import { resolveConfig } from '../../../src/config/resolve';

const FIX = path.resolve(__dirname, '../../fixtures/logic');
const start = { cwd: process.cwd(), binary: 'liege', startMs: 0 };
// a block around one hook line, given on the command line
const block = (open: string, data: string, extra: string[] = []) =>
  resolveConfig(loadConfig({ argv: [...extra, `--${open}`, data, '--hook-asap', 'exec:%(_)', '--end'], env: { HOME: '/root' }, start, reloads: 0 })).hookLines.map((h) => h.value);

describe('logic blocks', () => {
  it.each([
    ['for', 'a b  c', [], ['exec:a', 'exec:b', 'exec:c']],
    ['for-times', '3', [], ['exec:1', 'exec:2', 'exec:3']],
    ['for-glob', `${FIX}/sub/*.ini`, [], [`exec:${FIX}/sub/x.ini`, `exec:${FIX}/sub/y.ini`]],
    ['for-readline', `${FIX}/lines.txt`, [], ['exec:one', 'exec:two']],
    ['if-env', 'HOME', [], ['exec:/root']],
    ['if-env', 'HOME=/nope', [], []],
    ['if-not-env', 'NOPE_LIEGE', [], ['exec:']],
    ['if-exists', `${FIX}/lines.txt`, [], [`exec:${FIX}/lines.txt`]],
    ['if-not-exists', `${FIX}/nope`, [], [`exec:${FIX}/nope`]],
    ['if-file', `${FIX}/sub`, [], []],
    ['if-dir', `${FIX}/sub`, [], [`exec:${FIX}/sub`]],
    ['if-not-dir', `${FIX}/lines.txt`, [], [`exec:${FIX}/lines.txt`]],
    ['if-opt', 'processes=4', ['--processes', '4'], ['exec:4']],
    ['if-opt', 'processes', [], []],
    ['if-not-opt', 'processes', [], ['exec:']],
  ])('%s = %s', (open, data, extra, out) => {
    expect(block(open, data, extra)).toEqual(out);
  });
});
