// The CLI bundle in parts: dist/cli/main.bundle.js holds what a master, a
// vassal and a hook-only run execute; what only other commands run is in
// separate bundles beside it, loaded by bin/liege when first required. A
// master running one app held the source of every subcommand in its heap
// (the emperor and its etcd monitor, the bundle and registry commands, the
// single-process server: ~40 % of the bundle), with the names and function
// stubs V8 makes for it (bench/README.md, helper b, session 13).
//
// How the parts meet: a module is bundled into exactly one part. A require()
// of a module that lives in another part is left in the output as
// require("liege:<part>:<module>"); each bundle exports `__modules`, a thunk
// per module other parts use, and bin/liege resolves those ids (one
// instance of every module: LiegeError, the logger's state are shared).
const esbuild = require('esbuild');
const path = require('path');

// Modules required lazily (by main.ts, or through a door below), by the part they go to.
const PARTS = {
  emperor: ['src/emperor/emperor.ts'],
  single: ['src/worker/single.ts'],
  actions: ['src/hooks/actions/index.ts'],
  hints: ['src/config/uwsgi-hints.ts'],
  commands: [
    'src/cli/help.ts',
    'src/cli/hooks-command.ts',
    'src/cli/bundle-commands.ts',
    'src/cli/attach-command.ts',
    'src/cli/ctl-command.ts',
    'src/cli/etcd-command.ts',
    'src/cli/top-command.ts',
    'src/cli/pidfile-command.ts',
    'src/cli/usage.ts',
  ],
};

// The options' help texts (`help: '…'` in src/config/options.ts and
// options/*.ts, 15 KB) are read by `liege --help` only (src/cli/help.ts, in
// the commands part), yet every master held them twice: in main.bundle.js's
// source and as the strings of its option table (−40 KiB of a master's RSS,
// bench/README.md, session 18). main and the other parts get the tables
// with empty help texts; the commands part bundles its own copy of these
// modules, texts included (constant tables: the copy is the same registry).
const HELP_TEXT_MODULES = /^src\/config\/options(\/[\w-]+)?\.ts$/;
// a whole literal value only (not a concatenation or a template with ${})
const HELP_LITERAL = /\bhelp: (?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\$]|\\.)*`)(?=\s*[,}\n])/g;

// Doors: a source file exporting one function that returns a module, which
// its users call where they use the module. Built into the bundles as
// `() => require(MODULE)`, so MODULE's part loads on the first call; from the
// sources (unit tests, tsc's dist/) it stays a plain import (a require() of
// a .ts file does not load under the tests).
const DOORS = {
  'src/hooks/actions/door.ts': ['actionsModule', './index'],
  'src/config/uwsgi-hints-door.ts': ['hintsModule', './uwsgi-hints'],
};

const ROOT = path.resolve(__dirname, '..');
const rel = (file) => path.relative(ROOT, file).split(path.sep).join('/');
const PART_OF = new Map(Object.entries(PARTS).flatMap(([part, mods]) => mods.map((m) => [m, part])));

/** The source files of a resolved import (esbuild resolves the extension). */
async function resolveFile(build, args) {
  const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
  return r.errors.length || r.external ? undefined : r.path;
}

/** Plugin: imports of modules that live in another bundle become liege:<part>:<module>. */
function linker(self, mainSet, used) {
  return {
    name: 'liege-parts',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const file = await resolveFile(build, args);
        if (!file) return undefined;
        const id = rel(file);
        const ownCopy = self === 'commands' && HELP_TEXT_MODULES.test(id);
        const part = PART_OF.get(id) ?? (self !== 'main' && mainSet.has(id) && !ownCopy ? 'main' : undefined);
        if (!part || part === self) return undefined;
        // a static import would load the part at once: only require() is lazy
        if (part !== 'main' && args.kind !== 'require-call') throw new Error(`parts: ${args.importer} imports ${id} (in the ${part} part) statically; require() it where it is used`);
        used.add(`${part}:${id}`);
        return { path: `liege:${part}:${id}`, external: true };
      });
    },
  };
}

/** Plugin: each door (DOORS) as a lazy require. */
function doors() {
  return {
    name: 'liege-doors',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const door = DOORS[rel(args.path)];
        if (!door) return undefined;
        const [fn, mod] = door;
        return { contents: `export const ${fn} = () => require(${JSON.stringify(mod)});\n`, resolveDir: path.dirname(args.path), loader: 'ts' };
      });
    },
  };
}

/** Plugin: the option tables without their help texts (HELP_TEXT_MODULES). */
function withoutHelp() {
  return {
    name: 'liege-without-help',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!HELP_TEXT_MODULES.test(rel(args.path))) return undefined;
        const source = await require('fs').promises.readFile(args.path, 'utf8');
        return { contents: source.replace(HELP_LITERAL, "help: ''"), loader: 'ts' };
      });
    },
  };
}

/** The entry of a bundle: the modules it exports to the others as thunks. */
function entry(main, exported) {
  const lines = main ? [`export * from './${main}';`] : [];
  lines.push('export const __modules = {');
  for (const id of exported) lines.push(`  ${JSON.stringify(id)}: () => require('./${id}'),`);
  lines.push('};');
  return { contents: lines.join('\n'), resolveDir: ROOT, loader: 'ts' };
}

async function build(name, contents, options, mainSet, used) {
  const r = await esbuild.build({
    ...options,
    stdin: { ...contents, sourcefile: `<${name} part>` },
    outfile: `dist/cli/${name}.bundle.js`,
    plugins: name === 'commands' ? [linker(name, mainSet, used), doors()] : [linker(name, mainSet, used), doors(), withoutHelp()],
    metafile: true,
  });
  // LIEGE_PARTS_META=DIR: esbuild's metafile of each bundle, to see what it holds
  if (process.env.LIEGE_PARTS_META) require('fs').writeFileSync(path.join(process.env.LIEGE_PARTS_META, `${name}.meta.json`), JSON.stringify(r.metafile));
  const out = Object.values(r.metafile.outputs)[0];
  return new Set(Object.keys(out.inputs).filter((f) => !f.startsWith('<')));
}

/** Builds main.bundle.js and one bundle per part; returns the part names. */
async function buildParts(options) {
  const none = new Set();
  // 1. main alone: which modules it holds
  const mainSet = await build('main', entry('src/cli/main.ts', []), options, none, new Set());
  // 2. each part, linked to main and to the other parts
  const used = new Set();
  const sets = {};
  for (const [part, mods] of Object.entries(PARTS)) sets[part] = await build(part, entry(undefined, mods), options, mainSet, used);
  // 3. main again, exporting what the parts take from it
  const fromMain = [...used].filter((u) => u.startsWith('main:')).map((u) => u.slice(5)).sort();
  const again = await build('main', entry('src/cli/main.ts', fromMain), options, none, new Set());
  if ([...again].some((f) => !mainSet.has(f))) throw new Error('parts: exporting modules to the parts grew main.bundle.js');
  // a module in two parts would be two instances: only stateless ones may be
  const seen = new Map();
  for (const [part, set] of Object.entries(sets)) {
    for (const f of set) {
      if (seen.has(f) && !STATELESS_SHARED.test(f)) process.stderr.write(`parts: ${f} is bundled into both ${seen.get(f)} and ${part}\n`);
      seen.set(f, part);
    }
  }
  return Object.keys(PARTS);
}

// Modules two parts may each carry (no module state, only functions and constants).
// (import-esm: a memoized import() helper, in single and actions;
// inspector-signal: its once-only flag is on the process)
const STATELESS_SHARED = /^src\/(emperor\/monitors\/etcd-(bundle-ref|connect|keys)|os\/(import-esm|inspector-signal))\.ts$/;

module.exports = { buildParts, PARTS };
