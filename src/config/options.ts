// The option registry: every option liege accepts is declared here, once —
// its name, aliases, short letter, arity, type, default, validator and doc.
// The CLI parser, the INI/env readers, `liege --help` and docs/options.md are
// all derived from this table (STYLE: gunicorn config.py).
//
// HOW TO ADD AN OPTION (each area in its own file, src/config/options/<area>.ts):
//
//   export const MASTER_OPTIONS = [
//     { name: 'harakiri', short: 't', type: 'int', min: 0, default: '0', group: 'master', help: 'seconds ...' },
//     { name: 'lazy-apps', type: 'flag', group: 'master', help: '...' },
//   ] as const satisfies readonly OptionDef[];
//
// * `as const satisfies readonly OptionDef[]` keeps the literal names: they
//   form the OptionName type, so `cfg.int('harakiri')` compiles and a typo
//   does not. (Annotating the array `: OptionDef[]` widens the names to
//   string; the `NARROW_NAMES` check below then fails the build.)
// * The arity must be uWSGI's (src/config/uwsgi-options.txt, a unit test
//   checks it): `type: 'flag'` for no_argument, `optional: true` for
//   optional_argument, any other type for required_argument.
// * The default lives here (`default: '30'`): call sites read
//   `cfg.int('reload-mercy')`, never repeat it (`cfg.str(name)` of an option
//   with a default is typed `string`). An unset int without a default reads
//   0, an unset string undefined, an unset flag false.
// * A uWSGI value liege accepts but ignores: `warn: (v) => 'why'` logs it
//   with file:line instead of refusing it (see log-format).
// * Validation is declarative: `type` (int with `min`/`max`, mode, addr,
//   tokens with `choices`, bool) plus an optional `check` (config/checks.ts)
//   returning what was expected. Values are checked at load, before any
//   hook runs, with the file:line of the value.
// * A declared option replaces the "ignored uWSGI option" entry of the same
//   name (every uWSGI 2.0.21 option is known: the others are warned about
//   once and ignored).
import { PHASES, EXTRA_CALL_OPTIONS, type Family } from '../phases';
import * as checks from './checks';
import type { OptionDef } from './option-def';
import { BUNDLE_OPTIONS } from './options/bundle';
import { EMPEROR_OPTIONS } from './options/emperor';
import { MASTER_OPTIONS } from './options/master';
import { REGISTRY_OPTIONS } from './options/registry';
import { SERVING_OPTIONS } from './options/serving';
import { uwsgiOption, uwsgiOptions, uwsgiShortNames, type UwsgiOption } from './uwsgi-table';

export type { Arity, OptionDef, OptionType } from './option-def';
export { arityOf } from './option-def';

/** `unshare` flags of uWSGI, mapped to CLONE_* bits in os/jail.ts. */
export const UNSHARE_FLAGS = ['ipc', 'net', 'pid', 'ns', 'fs', 'mount', 'mnt', 'uts', 'user', 'files', 'io', 'parent', 'sysvsem', 'cgroup'] as const;

/** Linux capability names accepted by `cap` (index = capability number). */
export const CAPABILITIES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
] as const;

/** The most iterations a `for-times` block may ask for. */
export const MAX_FOR_TIMES = 100_000;

const LOGIC_BLOCKS: Array<[string, string[], string]> = [
  ['for', [], 'repeat the options up to `endfor` for each space-separated word (%(_) = the word)'],
  ['for-glob', [], 'repeat the block for each path matching the glob'],
  ['for-times', [], `repeat the block N times (%(_) = 1..N, N up to ${MAX_FOR_TIMES})`],
  ['for-readline', [], 'repeat the block for each line of the file'],
  ['if-env', ['ifenv'], 'options up to `endif` apply when the env var is set (VAR or VAR=value)'],
  ['if-not-env', [], 'options apply when the env var is not set (or differs)'],
  ['if-exists', ['ifexists'], 'options apply when the path exists'],
  ['if-not-exists', [], 'options apply when the path does not exist'],
  ['if-file', [], 'options apply when the path is a regular file'],
  ['if-not-file', [], 'options apply when the path is not a regular file'],
  ['if-dir', ['ifdir', 'if-directory'], 'options apply when the path is a directory'],
  ['if-not-dir', [], 'options apply when the path is not a directory'],
  ['if-opt', [], 'options apply when an earlier option is set (key or key=value)'],
  ['if-not-opt', [], 'options apply when an earlier option is not set (or differs)'],
  ['if-reload', [], 'options apply only after a reload (UWSGI_RELOADS > 0)'],
  ['if-not-reload', [], 'options apply only on the first start'],
  ['if-hostname', [], 'options apply when the hostname matches'],
  ['if-not-hostname', [], 'options apply when the hostname differs'],
  ['if-hostname-match', [], 'options apply when the hostname matches the regular expression'],
  ['if-not-hostname-match', [], 'options apply when the hostname does not match the regular expression'],
  ['if-plugin', ['ifplugin'], 'options apply when the uWSGI plugin is loaded: never under liege (it has no plugins)'],
  ['if-not-plugin', [], 'options apply when the uWSGI plugin is not loaded: always under liege'],
];

// Logic blocks are read by the loader only, never through cfg.
const LOGIC: readonly OptionDef[] = [
  ...LOGIC_BLOCKS.map(([name, aliases, help]): OptionDef => {
    if (name === 'for-times') return { name, aliases, type: 'int', min: 0, max: MAX_FOR_TIMES, special: 'logic', group: 'logic', help };
    if (name === 'if-reload' || name === 'if-not-reload') return { name, aliases, type: 'flag', special: 'logic', group: 'logic', help };
    if (name.endsWith('hostname-match')) return { name, aliases, type: 'string', check: checks.regexp, special: 'logic', group: 'logic', help };
    return { name, aliases, type: 'string', check: checks.nonEmpty, special: 'logic', group: 'logic', help };
  }),
  { name: 'endfor', aliases: ['end-for', 'endif', 'end-if', 'end'], type: 'string', optional: true, special: 'logic-end', group: 'logic', help: 'close a for-*/if-* block' },
];

/** uWSGI config formats liege does not read: refused (dropping a whole config would be worse). */
const FOREIGN_CONFIGS: readonly OptionDef[] = ['xmlconfig', 'xml', 'yaml', 'yml', 'json', 'js', 'sqlite3', 'sqlite', 'ldap', 'ini-paste', 'ini-paste-logged'].map((name): OptionDef => ({
  name, type: 'string', group: 'config', help: 'a uWSGI config format liege does not read: refused', check: () => 'an INI config: liege reads INI only (use `ini =`)',
}));

const CORE = [
  // config sources
  { name: 'ini', type: 'string', special: 'include', group: 'config', help: 'load an INI file (FILE[:SECTION], `:SECTION` = a section of the last file read), expanded in place' },
  { name: 'include', type: 'string', special: 'include', group: 'config', help: 'same as ini: include a config file in place' },
  { name: 'config', type: 'string', special: 'include', group: 'config', help: 'load a config file by its extension (only .ini here)' },
  { name: 'inherit', type: 'string', special: 'inherit', group: 'config', help: 'load a config file after the expansion passes: its $(…)/%(…) stay literal, its options come last' },
  { name: 'set', short: 'S', type: 'string', special: 'set', group: 'config', help: 'set an option or a placeholder: KEY=VALUE' },
  { name: 'set-placeholder', aliases: ['set-ph'], type: 'string', special: 'set-placeholder', group: 'config', help: 'set a placeholder (not an option): KEY=VALUE' },
  { name: 'env', type: 'string', check: checks.nonEmpty, repeatable: true, group: 'config', help: 'set an environment variable KEY=VALUE before the first hook runs' },
  { name: 'unenv', type: 'string', repeatable: true, group: 'config', help: 'unset an environment variable before the first hook runs' },
  { name: 'print', type: 'string', repeatable: true, group: 'config', help: 'print a line on stdout while the config is applied' },
  { name: 'strict', type: 'flag', group: 'config', help: 'accepted for uWSGI compatibility: liege is always strict' },
  { name: 'print-config', aliases: ['show-config'], type: 'flag', group: 'config', help: 'print the resolved config (option = value  # file:line) and exit' },
  { name: 'log-format', type: 'string', default: 'text', check: (v) => (v === 'text' || v === 'json' ? undefined : checks.logTemplate(v)), group: 'logging', help: 'log line format: text or json (pino); any other value is the request log\'s format, as logformat' },
  { name: 'log-date', aliases: ['logdate'], type: 'string', optional: true, group: 'logging', help: 'text log lines start with the date and " - ": bare (or true) ctime\'s "Thu Nov 26 18:05:18 2026", else this strftime format (uWSGI\'s)' },
  { name: 'logformat-strftime', aliases: ['log-format-strftime'], type: 'flag', group: 'logging', help: '%(ftime) in logformat is the request\'s start in log-date\'s strftime format (else as %(ltime))' },
  { name: 'logformat', type: 'string', check: checks.logTemplate, group: 'logging', help: 'the request log line: a template of %(name) variables (uWSGI\'s: %(addr) %(method) %(uri) %(status) %(size) %(msecs) %(ltime) %(uagent) %(var.NAME) …; other names: the app\'s logvars)' },
  { name: 'help', short: 'h', aliases: ['usage'], type: 'flag', group: 'config', help: 'show this help and exit (`--help WORD`: the options whose name has WORD; `liege CMD --help`: a subcommand\'s usage)' },
  { name: 'version', type: 'flag', group: 'config', help: 'print the version and exit' },
  // process model
  { name: 'no-server', type: 'flag', group: 'process', help: 'run every startup phase, then exit 0 (no sockets, no workers)' },
  { name: 'master', short: 'M', type: 'flag', group: 'process', help: 'run a master process that supervises the workers' },
  { name: 'processes', short: 'p', aliases: ['workers'], type: 'int', min: 0, max: 4096, default: '1', group: 'process', help: 'number of worker processes' },
  { name: 'socket', short: 's', aliases: ['uwsgi-socket'], type: 'addr', sharedRef: true, repeatable: true, group: 'process', help: 'bind a socket (HOST:PORT or a unix path) before the privilege drop' },
  { name: 'http-socket', type: 'addr', sharedRef: true, repeatable: true, group: 'process', help: 'bind an HTTP socket (HOST:PORT or a unix path)' },
  { name: 'node-app', type: 'string', check: checks.nonEmpty, group: 'process', help: 'the Node app module workers serve (exports a request handler or a server)' },
  { name: 'exit-on-reload', type: 'flag', group: 'process', help: 'exit instead of reloading; with `namespace`, the parent exits when the jailed instance exits 0' },
  { name: 'die-on-term', type: 'flag', group: 'process', help: 'accepted: SIGTERM always shuts down gracefully in liege' },
  { name: 'attach-daemon', type: 'string', check: checks.nonEmpty, repeatable: true, group: 'process', help: 'run a command beside the master, respawned when it dies' },
  { name: 'attach-control-daemon', type: 'string', check: checks.nonEmpty, repeatable: true, group: 'process', help: 'like attach-daemon; its death shuts the instance down' },
  { name: 'pidfile', type: 'string', group: 'process', help: 'write the master pid here before the privilege drop' },
  { name: 'pidfile2', type: 'string', group: 'process', help: 'write the master pid here after the privilege drop' },
  { name: 'binsh', type: 'string', check: checks.nonEmpty, repeatable: true, group: 'hooks', help: 'shell for exec hooks: the first executable one wins (default /bin/sh)' },
  { name: 'wait-for-fs-timeout', type: 'int', min: 0, default: '60', group: 'hooks', help: 'seconds wait_for_fs/file/dir hooks wait' },
  { name: 'wait-for-socket-timeout', type: 'int', min: 0, default: '60', group: 'hooks', help: 'seconds wait_for_socket hooks wait' },
  // privileges and jails
  { name: 'uid', type: 'string', check: checks.identity, group: 'privileges', help: 'drop to this user (name resolved after chroot, or number)' },
  { name: 'gid', type: 'string', check: checks.identity, group: 'privileges', help: 'drop to this group (name resolved after chroot, or number)' },
  { name: 'add-gid', type: 'string', check: checks.identity, repeatable: true, group: 'privileges', help: 'add a supplementary group' },
  { name: 'no-initgroups', type: 'flag', group: 'privileges', help: 'do not add the user\'s supplementary groups' },
  { name: 'chroot', type: 'string', check: checks.nonEmpty, group: 'privileges', help: 'chroot here (after post-jail, before as-root); the cwd is not changed' },
  { name: 'pivot-root', type: 'string', check: checks.pivotRoot, group: 'privileges', help: 'NEW_ROOT OLD_ROOT: pivot_root (after chroot, before as-root)' },
  { name: 'unshare', type: 'tokens', choices: UNSHARE_FLAGS, group: 'privileges', help: 'unshare namespaces before post-jail: ipc net pid mount uts ... (comma separated)' },
  { name: 'namespace', aliases: ['ns'], type: 'string', check: checks.namespace, group: 'privileges', help: 'ROOTFS[:HOSTNAME]: run the instance as pid 1 of new uts/pid/ipc/mount namespaces; post-jail runs in the parent' },
  { name: 'namespace-net', aliases: ['ns-net'], type: 'bool', group: 'privileges', help: 'with namespace: also a new network namespace' },
  { name: 'namespace-keep-mount', aliases: ['ns-keep-mount'], type: 'string', check: checks.keepMount, repeatable: true, group: 'privileges', help: 'with namespace: a mount point to keep (PATH or SRC:DST)' },
  { name: 'jailed', type: 'flag', group: 'privileges', help: 'mark the instance as jailed: post-jail runs' },
  { name: 'cap', type: 'tokens', choices: CAPABILITIES, group: 'privileges', help: 'Linux capabilities kept after the uid drop (comma separated)' },
  { name: 'chdir', type: 'string', check: checks.nonEmpty, group: 'privileges', help: 'chdir before the app is loaded (after as-root)' },
  { name: 'umask', type: 'mode', group: 'privileges', help: 'set the umask (octal) at startup' },
] as const satisfies readonly OptionDef[];

function hookOptions(): OptionDef[] {
  const out: OptionDef[] = [];
  const what: Record<Family, string> = {
    hook: 'run a hook `[!]action:args`',
    mount: 'mount: `fstype source target [flags [data]]`',
    umount: 'unmount: `target [flags]`',
    exec: 'run a shell command',
    call: 'call a C symbol `f()`',
  };
  for (const p of PHASES) {
    for (const f of p.families) {
      out.push({ name: `${f}-${p.name}`, type: 'string', repeatable: true, group: 'hooks', hook: { phase: p.name, family: f }, help: `${what[f]} in the ${p.name} phase` });
    }
  }
  for (const name of EXTRA_CALL_OPTIONS) {
    const phase = name.replace(/^call-/, '').replace(/\d$/, '');
    out.push({ name, type: 'string', repeatable: true, group: 'hooks', hook: { phase, family: 'call-args' }, help: `call a C symbol with arguments in the ${phase} phase` });
  }
  return out;
}

/** The option names call sites may read (`cfg.str('chdir')`): a typo does not compile. */
type Declared = (typeof CORE)[number] | (typeof MASTER_OPTIONS)[number] | (typeof SERVING_OPTIONS)[number] | (typeof EMPEROR_OPTIONS)[number] | (typeof REGISTRY_OPTIONS)[number] | (typeof BUNDLE_OPTIONS)[number];
export type OptionName = Declared['name'];
/** Options with a registry default: `cfg.str(name)` is a string, no `?? default` needed. */
export type DefaultedOption = Extract<Declared, { readonly default: string }>['name'];

// Fails to compile when an options/<area>.ts array lost its literal names.
const NARROW_NAMES: string extends OptionName ? 'declare options/<area>.ts arrays `[...] as const satisfies readonly OptionDef[]`' : true = true;
void NARROW_NAMES;

// Each area declares its options in options/<area>.ts; a declared option
// replaces the ignored uWSGI entry of the same name.
const DECLARED: readonly OptionDef[] = [...CORE, ...LOGIC, ...FOREIGN_CONFIGS, ...hookOptions(), ...MASTER_OPTIONS, ...SERVING_OPTIONS, ...EMPEROR_OPTIONS, ...REGISTRY_OPTIONS, ...BUNDLE_OPTIONS];

const byName = new Map<string, OptionDef>();
const byShort = new Map<string, OptionDef>();
for (const o of DECLARED) {
  for (const n of [o.name, ...(o.aliases ?? [])]) if (!byName.has(n)) byName.set(n, o);
  if (o.short && !byShort.has(o.short)) byShort.set(o.short, o);
}

/** Every other uWSGI 2.0.21 option: known, warned about once, ignored (DEPARTURES D7).
 * Made on first use: a process only meets the few its config names. Its help
 * text is in uwsgi-help.txt (cli/help.ts). */
const ignoredDefs = new Map<string, OptionDef>();

function ignored([name, arity, short, kind]: UwsgiOption): OptionDef {
  let def = ignoredDefs.get(name);
  if (!def) {
    def = {
      name,
      short: short || undefined,
      type: arity === 'flag' ? 'flag' : kind === 'int' ? 'int' : 'string',
      min: kind === 'int' ? 0 : undefined,
      optional: arity === 'optional' || undefined,
      repeatable: true,
      ignored: true,
      group: 'uwsgi (ignored)',
      help: '',
    };
    ignoredDefs.set(name, def);
  }
  return def;
}

/** Every option: the declared ones, then the ignored uWSGI ones (help '': see uwsgiHelp). */
export function allOptions(): readonly OptionDef[] {
  return [...DECLARED, ...uwsgiOptions().filter(([name]) => !byName.has(name)).map(ignored)];
}

/** The option declared under this name or alias. */
export function findOption(name: string): OptionDef | undefined {
  const def = byName.get(name);
  if (def) return def;
  const row = uwsgiOption(name);
  return row ? ignored(row) : undefined;
}

export function findShort(letter: string): OptionDef | undefined {
  const def = byShort.get(letter);
  if (def) return def;
  const name = uwsgiShortNames(letter).find((n) => !byName.has(n));
  return name ? findOption(name) : undefined;
}

/** The closest known option name, for "did you mean" (edit distance <= 3). */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  const names = [...byName.keys(), ...uwsgiOptions().map(([n]) => n).filter((n) => !byName.has(n))];
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestD) { bestD = d; best = n; }
  }
  return best;
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 9;
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
