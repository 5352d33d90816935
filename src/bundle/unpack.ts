// Unpacking a bundle archive safely: every entry is checked before anything
// is written. Refused: absolute paths, `..` components, symlinks or hard
// links that point outside the bundle root, entries written through a
// symlink, device files, fifos and set-id modes. Owners from the archive
// are not kept (files belong to whoever installs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { LiegeError } from '../errors';

const OK_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

interface Entry { path: string; type: string; linkpath?: string; mode?: number }

const unsafe = (archive: string, entry: string, why: string) =>
  new LiegeError('LIEGE_ERR_UNSAFE_BUNDLE', `unsafe bundle ${archive}: entry ${JSON.stringify(entry)} ${why}`, { expected: 'relative paths and links that stay inside the bundle, regular files and directories only' });

/** `a/./b/` → `a/b`; undefined when the path leaves the root. */
function inside(p: string): string | undefined {
  if (p.startsWith('/')) return undefined;
  const n = path.posix.normalize(p).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../')) return undefined;
  return n === '.' ? '' : n;
}

/** Throws LIEGE_ERR_UNSAFE_BUNDLE for the first unsafe entry. */
export function checkEntries(archive: string, entries: Entry[]): void {
  const links = new Set<string>();
  for (const e of entries) {
    if (!OK_TYPES.has(e.type)) throw unsafe(archive, e.path, `is a ${e.type}`);
    if (e.path.split('/').includes('..')) throw unsafe(archive, e.path, 'has a `..` component');
    const p = inside(e.path);
    if (p === undefined) throw unsafe(archive, e.path, 'is an absolute path');
    if (((e.mode ?? 0) & 0o6000) !== 0) throw unsafe(archive, e.path, 'is set-uid or set-gid');
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      if (links.has(parts.slice(0, i).join('/'))) throw unsafe(archive, e.path, 'is written through a symlink');
    }
    if (e.type === 'SymbolicLink') {
      const target = e.linkpath ?? '';
      if (target.startsWith('/') || inside(path.posix.join(path.posix.dirname(p), target)) === undefined) throw unsafe(archive, e.path, `is a symlink to ${JSON.stringify(target)} outside the bundle`);
      links.add(p);
    }
    if (e.type === 'Link' && inside(e.linkpath ?? '/') === undefined) throw unsafe(archive, e.path, `is a hard link to ${JSON.stringify(e.linkpath)} outside the bundle`);
  }
}

/** Lists the archive's entries (reading a bad archive is a clear error). */
function listEntries(archive: string): Entry[] {
  const entries: Entry[] = [];
  try {
    tar.t({ file: archive, sync: true, strict: true, onReadEntry: (e) => { entries.push({ path: e.path, type: e.type, linkpath: e.linkpath, mode: e.mode }); } });
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_BUNDLE', `unable to read bundle ${archive}: ${(e as Error).message}`, { text: archive, expected: 'a .tar.gz made by `liege pack`' });
  }
  if (entries.length === 0) throw new LiegeError('LIEGE_ERR_BUNDLE', `bundle ${archive} is empty`, { text: archive, expected: 'a .tar.gz made by `liege pack`' });
  return entries;
}

/** Throws for a bad or unsafe archive. */
export function verifyArchive(archive: string): void {
  checkEntries(archive, listEntries(archive));
}

/** Checks then extracts `archive` into the new directory `dest`. */
export function unpack(archive: string, dest: string): void {
  verifyArchive(archive);
  fs.mkdirSync(dest, { mode: 0o755 });
  tar.x({ file: archive, cwd: dest, sync: true, strict: true, preserveOwner: false, noChmod: false });
}
