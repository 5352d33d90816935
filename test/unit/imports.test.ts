// One-way imports (../shared/DESIGN.md, "Who may import whom"): every import
// of every src/**/*.ts file — static, `export … from`, `import type`,
// inline `import('…')` types, lazy `require('…')` and dynamic `import('…')` —
// is checked against the table, and the runtime graph has no cycle.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

/** Shared leaves: data and helpers every area may import. */
const LEAVES = ['errors', 'log', 'phases', 'event-queue', 'ipc'];

/** area → areas it may import (values and types); `types`: type-only. */
const RULES: Record<string, { may: string[] | '*'; types?: string[]; noLeaves?: boolean }> = {
  cli: { may: '*' },
  config: { may: ['phases', 'ipc', 'errors', 'log'] },
  hooks: { may: ['os', 'phases', 'errors', 'log'], types: ['config'] },
  os: { may: ['errors'], noLeaves: true },
  master: { may: ['config', 'hooks', 'os', 'ipc'] },
  worker: { may: ['hooks', 'os', 'ipc'] },
  emperor: { may: ['config', 'hooks', 'os', 'ipc'] },
  bundle: { may: ['config', 'hooks', 'os'] },
  // what `require('liege')` gives an app: the worker's request-hook seam only
  api: { may: ['worker/request-hooks'], noLeaves: true },
  errors: { may: [], noLeaves: true },
  log: { may: ['errors'], noLeaves: true },
  phases: { may: [], noLeaves: true },
  'event-queue': { may: [], noLeaves: true },
  // messages and env contracts: values of their own, types of anyone
  ipc: { may: [], types: ['config', 'hooks', 'errors', 'phases'], noLeaves: true },
};

export interface Import {
  from: string; // src-relative file, no extension
  to: string; // src-relative module, no extension
  typeOnly: boolean;
  line: number;
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return walk(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

const rel = (abs: string) => path.relative(SRC, abs).replace(/\.ts$/, '').replace(/\/index$/, '');

function resolveModule(fromFile: string, spec: string): string {
  const abs = path.resolve(path.dirname(fromFile), spec);
  if (fs.existsSync(abs + '.ts')) return rel(abs + '.ts');
  if (fs.existsSync(path.join(abs, 'index.ts'))) return rel(path.join(abs, 'index.ts'));
  return path.relative(SRC, abs); // outside src (the addon) or missing: reported by the caller
}

/** Every relative import of one file, with whether it is type-only. */
export function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, node: ts.Node) => {
    if (!spec.startsWith('.')) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    out.push({ from: rel(file), to: resolveModule(file, spec), typeOnly, line });
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const allTypes = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, allTypes, n);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly, n);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, true, n);
    } else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0]!)) {
      const isRequire = ts.isIdentifier(n.expression) && n.expression.text === 'require';
      const isDynamic = n.expression.kind === ts.SyntaxKind.ImportKeyword;
      if (isRequire || isDynamic) add((n.arguments[0] as ts.StringLiteral).text, false, n);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const areaOf = (mod: string) => mod.split('/')[0]!;

/** Why an import breaks the table, or undefined when it is allowed. */
export function violation(imp: Import): string | undefined {
  const from = areaOf(imp.from);
  const to = areaOf(imp.to);
  if (imp.to.startsWith('..')) {
    // the native addon: only os/native.ts loads it
    return imp.from === 'os/native' ? undefined : `${imp.from} loads ${imp.to} (only os/native.ts may load the addon)`;
  }
  if (from === to && !LEAVES.includes(from)) return undefined;
  if (from === to && from === 'ipc') return imp.typeOnly ? undefined : `${imp.from} imports ${imp.to} (ipc/ holds data: type imports only)`;
  const rule = RULES[from];
  if (!rule) return `${imp.from}: area \`${from}\` is not in the import table`;
  if (rule.may === '*') return undefined;
  const ok = rule.may.some((m) => imp.to === m || imp.to.startsWith(m + '/') || (!m.includes('/') && to === m));
  if (ok) return undefined;
  if (!rule.noLeaves && LEAVES.includes(to)) return undefined;
  if (imp.typeOnly && rule.types?.includes(to)) return undefined;
  const typesNote = rule.types?.includes(to) ? ' (type imports only)' : '';
  return `${imp.from}:${imp.line} imports ${imp.to}: ${from} may import ${rule.may.join(', ') || 'nothing'}${rule.noLeaves ? '' : ' and the shared leaves'}${rule.types ? `; types of ${rule.types.join(', ')}` : ''}${typesNote}`;
}

/** Cycles of the runtime import graph (type imports excluded), as paths. */
export function cycles(imports: Import[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of imports) if (!i.typeOnly) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const dfs = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) dfs(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) dfs(n);
  return found;
}

const ALL = walk(SRC).flatMap((f) => importsOf(f));

describe('one-way imports (../shared/DESIGN.md)', () => {
  it('every import of src/ follows the table', () => {
    expect(ALL.length).toBeGreaterThan(100); // the parser sees the tree
    const bad = ALL.map(violation).filter((v): v is string => !!v);
    expect(bad).toEqual([]);
  });

  it('no import cycle (runtime imports, lazy requires included)', () => {
    expect(cycles(ALL).map((c) => c.join(' → '))).toEqual([]);
  });

  it('every import resolves to a file of src/ (or the addon from os/native.ts)', () => {
    const missing = ALL.filter((i) => !i.to.startsWith('..') && !fs.existsSync(path.join(SRC, i.to + '.ts')) && !fs.existsSync(path.join(SRC, i.to, 'index.ts')));
    expect(missing).toEqual([]);
  });

  // the checker itself: a test that cannot fail is a defect
  it('catches the breaks the review found', () => {
    const v = (from: string, to: string, typeOnly = false) => violation({ from, to, typeOnly, line: 1 });
    expect(v('config/load', 'hooks/spec')).toMatch(/config may import/);
    expect(v('master/master', 'emperor/emperor')).toMatch(/master may import/);
    expect(v('os/native', 'log')).toMatch(/os may import errors/);
    expect(v('os/jail', 'config/config', true)).toBeTruthy();
    expect(v('worker/main', 'master/workers')).toBeTruthy();
    expect(v('emperor/emperor', 'worker/app')).toBeTruthy();
    expect(v('hooks/spec', 'config/config')).toMatch(/type imports only/);
    expect(v('hooks/spec', 'config/config', true)).toBeUndefined();
    expect(v('ipc/worker', 'config/config')).toBeTruthy();
    expect(v('ipc/worker', 'config/config', true)).toBeUndefined();
    expect(v('api/index', 'master/master')).toBeTruthy();
    expect(v('api/index', 'worker/request-hooks')).toBeUndefined();
    expect(v('master/x', '../native/build/Release/liege_native.node')).toMatch(/only os\/native/);
    expect(v('cli/main', 'emperor/emperor')).toBeUndefined();
    expect(v('master/master', 'ipc/vassal')).toBeUndefined();
    expect(cycles([{ from: 'cli/a', to: 'cli/b', typeOnly: false, line: 1 }, { from: 'cli/b', to: 'cli/a', typeOnly: false, line: 1 }])).toEqual([['cli/a', 'cli/b', 'cli/a']]);
    expect(cycles([{ from: 'cli/a', to: 'cli/b', typeOnly: false, line: 1 }, { from: 'cli/b', to: 'cli/a', typeOnly: true, line: 1 }])).toEqual([]);
  });

  it('parses every import form', () => {
    const f = path.join(SRC, 'cli', 'x.ts');
    const text = [
      "import { a } from '../config/a';",
      "import type { B } from '../config/b';",
      "import { type C } from '../config/c';",
      "export { d } from './d';",
      "const e = require('../master/e') as typeof import('../master/f');",
      "void import('../emperor/g');",
    ].join('\n');
    expect(importsOf(f, text).map((i) => `${i.to}${i.typeOnly ? ' (type)' : ''}`)).toEqual([
      'config/a', 'config/b (type)', 'config/c (type)', 'cli/d', 'master/e', 'master/f (type)', 'emperor/g',
    ]);
  });
});
