// Where vassal configs come from. Each monitor scan yields the desired set:
// config path → mtime. `dir://DIR` (or a plain directory): the *.ini files
// in it; `glob://PATTERN` (or a pattern): the matching files, sorted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { globPaths } from '../config/logic';

export type VassalSet = Map<string, number>;

const VASSAL_EXT = /\.ini$/; // liege reads INI configs only

function statMtime(p: string): number | undefined {
  try {
    const st = fs.statSync(p);
    return st.isFile() ? st.mtimeMs : undefined;
  } catch {
    return undefined;
  }
}

/** One scan of one monitor spec. */
export function scanMonitor(spec: string): VassalSet {
  const out: VassalSet = new Map();
  let files: string[];
  if (spec.startsWith('glob://')) files = globPaths(spec.slice(7));
  else if (spec.startsWith('dir://')) files = listDir(spec.slice(6));
  else if (/[*?[]/.test(spec)) files = globPaths(spec);
  else files = listDir(spec);
  for (const f of files) {
    if (!VASSAL_EXT.test(f)) continue;
    const m = statMtime(f);
    if (m !== undefined) out.set(path.resolve(f), m);
  }
  return out;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** The union of every monitor's scan (first monitor wins a name). */
export function scanAll(specs: string[]): VassalSet {
  const out: VassalSet = new Map();
  for (const s of specs) for (const [p, m] of scanMonitor(s)) if (!out.has(p)) out.set(p, m);
  return out;
}
