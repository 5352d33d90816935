import { describe, expect, it } from 'vitest';
import { checkEntries } from '../../../src/bundle/unpack';

const check = (...entries: Array<{ path: string; type: string; linkpath?: string; mode?: number }>) => () => checkEntries('b.tgz', entries);

describe('checkEntries', () => {
  it('accepts files, dirs and links that stay inside', () => {
    expect(check({ path: './', type: 'Directory' }, { path: './a/b.js', type: 'File', mode: 0o755 }, { path: './a/l', type: 'SymbolicLink', linkpath: '../c' }, { path: './h', type: 'Link', linkpath: 'a/b.js' })).not.toThrow();
  });
  it('refuses each way out', () => {
    expect(check({ path: '../x', type: 'File' })).toThrow('has a `..` component');
    expect(check({ path: 'a/../../x', type: 'File' })).toThrow('has a `..` component');
    expect(check({ path: '/etc/x', type: 'File' })).toThrow('is an absolute path');
    expect(check({ path: 'l', type: 'SymbolicLink', linkpath: '/etc' })).toThrow('outside the bundle');
    expect(check({ path: 'a/l', type: 'SymbolicLink', linkpath: '../../x' })).toThrow('outside the bundle');
    expect(check({ path: 'h', type: 'Link', linkpath: '../x' })).toThrow('hard link');
    expect(check({ path: 'l', type: 'SymbolicLink', linkpath: 'd' }, { path: 'l/x', type: 'File' })).toThrow('written through a symlink');
    expect(check({ path: 'dev', type: 'BlockDevice' })).toThrow('is a BlockDevice');
    expect(check({ path: 'p', type: 'FIFO' })).toThrow('is a FIFO');
    expect(check({ path: 's', type: 'File', mode: 0o4755 })).toThrow('set-uid');
  });
});
