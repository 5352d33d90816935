// Where an ES module's SyntaxError is. Node's import() rejects with a stack
// of its loader's own frames only (the `FILE:LINE` Node prints when it runs
// `node app.mjs` itself is kept off the error object), so on that failure,
// and only then, the app's static imports are checked file by file with
// `node --check`, whose first line of output is FILE:LINE. Nothing of the
// app runs: --check only compiles.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_FILES = 200;
// import x from './a.mjs' · export * from "./b.js" · import './c.mjs' · import('./d.mjs')
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"\n]+)\1/g;

/** `FILE:LINE` of the first module of the app's import graph (local files)
 * that does not compile, or undefined. */
export function locateSyntaxError(entry: string): string | undefined {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const where = checkFile(file);
    if (where) return where;
    for (const dep of localImports(file)) {
      if (seen.has(dep) || seen.size >= MAX_FILES) continue;
      seen.add(dep);
      queue.push(dep);
    }
  }
  return undefined;
}

function checkFile(file: string): string | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status === 0 || !r.stderr) return undefined;
  // "/app/lib.mjs:3" (or file:///app/lib.mjs:3) then the line and a caret
  const m = /^(?:file:\/\/)?(\/.+:\d+)$/m.exec(r.stderr);
  return m?.[1];
}

/** The files `file` imports by a relative or absolute path (packages are
 * left out: their code is seldom the one with the typo). */
function localImports(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[2]!;
    let target: string;
    if (spec.startsWith('file://')) target = fileURLToPath(spec);
    else if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/')) target = path.resolve(path.dirname(file), spec);
    else continue;
    if (fs.existsSync(target) && fs.statSync(target).isFile()) out.push(target);
  }
  return out;
}
