// `liege --help` and docs/options.md, both generated from the registry.
import { allOptions, arityOf, suggestOption, type OptionDef } from '../config/options';
import { uwsgiHelp } from '../config/uwsgi-table';
import { PHASES } from '../phases';
import { actionsModule as actions } from '../hooks/actions/door';
import { hintsModule as hints } from '../config/uwsgi-hints-door';

const ARITY_SUFFIX = { flag: '', value: ' VALUE', optional: '[=VALUE]' } as const;

function flags(o: OptionDef): string {
  const names = [`--${o.name}`, ...(o.aliases ?? []).map((a) => `--${a}`)];
  if (o.short) names.unshift(`-${o.short}`);
  return names.join(', ') + ARITY_SUFFIX[arityOf(o)];
}

/** Every option with its help (an ignored uWSGI option's is in uwsgi-help.txt, with what to use instead). */
function documented(): OptionDef[] {
  const help = uwsgiHelp();
  return allOptions().map((o) => {
    if (!o.ignored) return o;
    const hint = hints().ignoredHint(o.name);
    return { ...o, help: (help.get(o.name) ?? '') + (hint ? ` (liege: ${hint})` : '') };
  });
}

/** Options by group, each group once, in the order groups first appear
 * (the registry declares help and version apart from the other config options). */
function grouped(options: readonly OptionDef[]): Map<string, OptionDef[]> {
  const groups = new Map<string, OptionDef[]>();
  for (const o of options) (groups.get(o.group) ?? groups.set(o.group, []).get(o.group)!).push(o);
  return groups;
}

/** The listing of these options under their group names. */
function listing(options: readonly OptionDef[]): string[] {
  return [...grouped(options)].flatMap(([group, opts]) => ['', `  ${group}:`, ...opts.map((o) => {
    const f = flags(o);
    const gap = f.length > 34 ? '\n' + ' '.repeat(39) : ' '.repeat(35 - f.length);
    return `    ${f}${gap}${o.help}${o.default ? ` (default ${o.default})` : ''}`;
  })]);
}

const USAGE = [
  'usage: liege [--ini FILE[:SECTION]] [OPTIONS] [CONFIG.ini ...]',
  '       liege --help [WORD ...] (every option, or those whose name has WORD: liege --help harakiri; liege CMD --help)',
  '       liege --reload|--stop|--chain-reload PIDFILE',
  '       liege top ADDR [--once] (a stats or emperor-stats server, live)',
  '       liege hooks plan|check|list|add|delete|enable|disable|fullhelp ... (liege hooks --help)',
  '       liege [bundle] pack DIR [-o FILE.tar.gz] | install BUNDLE [--name NAME] [--no-wait] | revert NAME | remove NAME',
  '       liege set NAME KEY=VALUE ... | get NAME [KEY] | unset NAME KEY ... | ctl get [KEY] (docs/bundles.md)',
  '       liege attach NAME|PID [--socket PATH] [--attach-dir DIR]',
  '       liege etcd put|rm|ls|get|drain etcd://HOST:PORT/PREFIX ... (liege etcd --help)',
];

/** `liege --help WORD…`: the options whose name or alias has one of the
 * words (dashes ignored: `--help --harakiri`), under their groups; `found`
 * false when none has. */
export function helpLookup(words: readonly string[]): { text: string; found: boolean } {
  const wanted = words.map((w) => w.replace(/^-+/, '').replace(/=.*$/, '').toLowerCase()).filter((w) => w !== '');
  const hits = documented().filter((o) => [o.name, ...(o.aliases ?? [])].some((n) => wanted.some((w) => n.includes(w))));
  if (hits.length === 0) {
    const near = wanted.map((w) => suggestOption(w)).filter((n) => n !== undefined);
    return { text: `liege: no option has \`${wanted.join('` or `')}\` in its name${near.length ? ` (did you mean \`${near.join('`, `')}\`?)` : ''}; \`liege --help\` lists them all\n`, found: false };
  }
  // the option of that very name first (with its group): `--help http` starts with uWSGI's http, not 50 http-* lines
  const exact = (o: OptionDef) => [o.name, ...(o.aliases ?? [])].some((n) => wanted.includes(n));
  hits.sort((a, b) => Number(exact(b)) - Number(exact(a)));
  return { text: [...listing(hits), ''].join('\n').replace(/^\n/, ''), found: true };
}

/** `liege --help`: every option, grouped, with its arity. */
export function helpText(): string {
  const out = [
    ...USAGE,
    '',
    'Options (also as INI keys in [uwsgi] or [liege], or LIEGE_<NAME>/UWSGI_<NAME> env).',
    'Arity: `--name` is a flag (never takes the next argument), `--name VALUE` needs a value,',
    '`--name[=VALUE]` takes a value only after `=`. Options of the last group are uWSGI options',
    'liege does not implement: accepted with one warning naming file:line, then ignored.',
  ];
  out.push(...listing(documented()), '');
  return out.join('\n');
}

export function optionsDoc(): string {
  const out = ['# liege options', '', 'Generated from `src/config/options.ts` by `liege --print-options-doc`; do not edit by hand.', ''];
  out.push('Every option can be given as `--name value` on the command line, as `name = value` in the `[uwsgi]` or `[liege]` section of an INI file, or as `LIEGE_NAME` / `UWSGI_NAME` in the environment (upper case, `-` → `_`).', '');
  for (const [group, opts] of grouped(documented())) {
    out.push('', `## ${group}`, '', '| option | arity | type | repeatable | default | what |', '|---|---|---|---|---|---|');
    for (const o of opts) {
      const names = [o.name, ...(o.aliases ?? [])].map((n) => `\`${n}\``).join(', ') + (o.short ? ` (\`-${o.short}\`)` : '');
      const type = o.type === 'tokens' ? `one or more of: ${o.choices!.join(', ')}` : o.type;
      out.push(`| ${names} | ${arityOf(o)} | ${type} | ${o.repeatable ? 'yes' : ''} | ${o.default ?? ''} | ${o.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return out.join('\n') + '\n';
}

/** docs/hooks.md: the phase table and every action, from their registries. */
export function hooksDoc(intro: string): string {
  const out = [intro.trimEnd(), '', '## Phases', '', 'In startup order. Options: `hook-<phase>` (the chain, `[!]action:args`) and, where listed, the shortcuts `exec-<phase>` (shell command), `call-<phase>` (C symbol, no argument), `mount-<phase>` / `umount-<phase>` (mount arguments without `mount:`).', ''];
  out.push('| phase | options | runs in | privileges | when | fatal |', '|---|---|---|---|---|---|');
  for (const p of PHASES) {
    out.push(`| \`${p.name}\` | ${p.families.map((f) => `${f}-${p.name}`).join(', ')} | ${p.process} | ${p.privileges} | ${p.when}${p.implemented ? '' : ' *(accepted and validated; run by the emperor/mule subsystems when those land)*'} | ${p.fatal ? 'yes' : 'no'} |`);
  }
  out.push('', '## Actions', '', '| action | what it does | example |', '|---|---|---|');
  const { ACTIONS, SYMBOL_EQUIVALENTS } = actions();
  for (const a of ACTIONS) {
    const names = [a.name, ...(a.aliases ?? [])].map((n) => `\`${n}\``).join(', ');
    out.push(`| ${names} | ${a.doc.replace(/\|/g, '\\|')} | \`${a.example}\` |`);
  }
  out.push('', '## Symbols liege provides to `call`', '', 'uWSGI\'s docs call these symbols from hooks; in a Node process liege does their job itself, with any of `call`, `callret`, `callint`, `callintret` and the `call-<phase>` shortcuts. Every other symbol is looked up with `dlsym` in the liege process (libc and the node binary).', '');
  out.push('| symbol | what liege does | example |', '|---|---|---|');
  for (const [name, e] of Object.entries(SYMBOL_EQUIVALENTS)) out.push(`| \`${name}\` | ${e.doc.replace(/\|/g, '\\|')} | \`${e.example}\` |`);
  return out.join('\n') + '\n';
}
