// Hook directories (p2, run-parts): `hook-dir = DIR` runs every executable
// of DIR/<phase>/ in that phase, in name order (byte order, like run-parts
// in the C locale). Skipped as run-parts does: dotfiles, backups (`*~`),
// package manager leftovers (`*.dpkg-*`, `*.rpm*`), non-executables and
// anything that is not a file (a symlink to an executable file counts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PHASES } from '../phases';

export interface DirHook {
  phase: string;
  file: string;
}

/** Why run-parts would skip this name, or undefined. */
export function skipReason(name: string): string | undefined {
  if (name.startsWith('.')) return 'dotfile';
  if (name.endsWith('~')) return 'backup file';
  if (name.includes('.dpkg-')) return 'dpkg leftover';
  if (name.includes('.rpm')) return 'rpm leftover';
  return undefined;
}

function runnable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The hooks of one DIR/<phase>/, in run order. */
export function listPhaseDir(dir: string, phase: string): DirHook[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(dir, phase));
  } catch {
    return [];
  }
  return names
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .filter((n) => !skipReason(n) && runnable(path.join(dir, phase, n)))
    .map((n) => ({ phase, file: path.join(dir, phase, n) }));
}

/** Every phase of every hook dir, dirs in config order. */
export function listHookDirs(dirs: readonly string[]): DirHook[] {
  return dirs.flatMap((d) => PHASES.flatMap((p) => listPhaseDir(path.resolve(d), p.name)));
}
