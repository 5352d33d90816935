// `liege pack DIR`: validate the bundle tree, then write a gzipped tar of it
// (portable: no owners, no device files, no links leaving the tree).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { LiegeError } from '../errors';
import { readManifest, type Manifest } from './manifest';
import { verifyArchive } from './unpack';

export interface Packed extends Manifest { file: string }

export async function pack(dir: string, out?: string): Promise<Packed> {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new LiegeError('LIEGE_ERR_USAGE', 'not a directory', { text: dir, expected: 'the app directory to pack (with package.json and meta/liege.ini)' });
  }
  const m = readManifest(path.resolve(dir));
  const file = path.resolve(out ?? `${m.name}-${m.version}.tar.gz`);
  const skip = (p: string, st: fs.Stats | tar.ReadEntry) => {
    if (p === './.git' || p.startsWith('./.git/')) return false;
    if (path.resolve(dir, p) === file) return false; // packing into the tree
    return !('isFile' in st) || st.isFile() || st.isDirectory() || st.isSymbolicLink();
  };
  try {
    await tar.c({ gzip: true, file, cwd: path.resolve(dir), portable: true, filter: skip }, ['.']);
  } catch (e) {
    // a read-only working directory: was an internal error
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new LiegeError('LIEGE_ERR_BUNDLE', `unable to write ${file}: ${code}`, { text: file, expected: 'a file this user may write (-o FILE.tar.gz)', cause: e });
  }
  try {
    verifyArchive(file); // e.g. a symlink in the tree that points outside it
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  }
  return { ...m, file };
}
