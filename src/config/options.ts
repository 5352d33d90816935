// The option registry: every option liege accepts is declared here, once.
// The CLI parser, the INI/env readers, `liege --help` and docs/options.md
// are all derived from this table (STYLE: gunicorn config.py).
import { PHASES, EXTRA_CALL_OPTIONS, type Family } from '../phases';
import type { OptionDef } from './option-def';
import { BUNDLE_OPTIONS } from './options/bundle';
import { EMPEROR_OPTIONS } from './options/emperor';
import { MASTER_OPTIONS } from './options/master';
import { REGISTRY_OPTIONS } from './options/registry';
import { SERVING_OPTIONS } from './options/serving';

export type { OptionDef, OptionType } from './option-def';

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

const LOGIC_BLOCKS: Array<[string, string[], string]> = [
  ['for', [], 'repeat the options up to `endfor` for each space-separated word (%(_) = the word)'],
  ['for-glob', [], 'repeat the block for each path matching the glob'],
  ['for-times', [], 'repeat the block N times (%(_) = 1..N)'],
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
];

const CORE: OptionDef[] = [
  // config sources
  { name: 'ini', type: 'string', special: 'include', group: 'config', help: 'load an INI file (FILE[:SECTION], `:SECTION` = a section of the last file read), expanded in place' },
  { name: 'include', type: 'string', special: 'include', group: 'config', help: 'same as ini: include a config file in place' },
  { name: 'config', type: 'string', special: 'include', group: 'config', help: 'load a config file by its extension (only .ini here)' },
  { name: 'inherit', type: 'string', special: 'inherit', group: 'config', help: 'load a config file after the expansion passes: its $(…)/%(…) stay literal, its options come last' },
  { name: 'set', short: 'S', type: 'string', special: 'set', group: 'config', help: 'set an option or a placeholder: KEY=VALUE' },
  { name: 'set-placeholder', aliases: ['set-ph'], type: 'string', special: 'set-placeholder', group: 'config', help: 'set a placeholder (not an option): KEY=VALUE' },
  ...LOGIC_BLOCKS.map(([name, aliases, help]): OptionDef => ({ name, aliases, type: 'string', special: 'logic', group: 'logic', help })),
  { name: 'endfor', aliases: ['end-for', 'endif', 'end-if', 'end'], type: 'string', special: 'logic-end', group: 'logic', help: 'close a for-*/if-* block' },
  { name: 'env', type: 'string', repeatable: true, group: 'config', help: 'set an environment variable KEY=VALUE before the first hook runs' },
  { name: 'unenv', type: 'string', repeatable: true, group: 'config', help: 'unset an environment variable before the first hook runs' },
  { name: 'print', type: 'string', repeatable: true, group: 'config', help: 'print a line on stdout while the config is applied' },
  { name: 'strict', type: 'flag', group: 'config', help: 'accepted for uWSGI compatibility: liege is always strict' },
  { name: 'print-config', aliases: ['show-config'], type: 'flag', group: 'config', help: 'print the resolved config (option = value  # file:line) and exit' },
  { name: 'log-format', type: 'tokens', choices: ['text', 'json'], default: 'text', group: 'logging', help: 'log line format: text or json (pino)' },
  { name: 'help', short: 'h', aliases: ['usage'], type: 'flag', group: 'config', help: 'show this help and exit' },
  { name: 'version', type: 'flag', group: 'config', help: 'print the version and exit' },
  // process model
  { name: 'no-server', type: 'flag', group: 'process', help: 'run every startup phase, then exit 0 (no sockets, no workers)' },
  { name: 'master', short: 'M', type: 'flag', group: 'process', help: 'run a master process that supervises the workers' },
  { name: 'processes', short: 'p', aliases: ['workers'], type: 'int', min: 0, max: 4096, default: '1', group: 'process', help: 'number of worker processes' },
  { name: 'socket', short: 's', aliases: ['uwsgi-socket'], type: 'addr', repeatable: true, group: 'process', help: 'bind a socket (HOST:PORT or a unix path) before the privilege drop' },
  { name: 'http-socket', type: 'addr', repeatable: true, group: 'process', help: 'bind an HTTP socket (HOST:PORT or a unix path)' },
  { name: 'node-app', type: 'string', group: 'process', help: 'the Node app module workers serve (exports a request handler or a server)' },
  { name: 'exit-on-reload', type: 'flag', group: 'process', help: 'exit instead of reloading; with `namespace`, the parent exits when the jailed instance exits 0' },
  { name: 'die-on-term', type: 'flag', group: 'process', help: 'accepted: SIGTERM always shuts down gracefully in liege' },
  { name: 'attach-daemon', type: 'string', repeatable: true, group: 'process', help: 'run a command beside the master, respawned when it dies' },
  { name: 'attach-control-daemon', type: 'string', repeatable: true, group: 'process', help: 'like attach-daemon; its death shuts the instance down' },
  { name: 'pidfile', type: 'string', group: 'process', help: 'write the master pid here before the privilege drop' },
  { name: 'pidfile2', type: 'string', group: 'process', help: 'write the master pid here after the privilege drop' },
  { name: 'binsh', type: 'string', repeatable: true, group: 'hooks', help: 'shell for exec hooks: the first executable one wins (default /bin/sh)' },
  { name: 'wait-for-fs-timeout', type: 'int', min: 0, default: '60', group: 'hooks', help: 'seconds wait_for_fs/file/dir hooks wait' },
  { name: 'wait-for-socket-timeout', type: 'int', min: 0, default: '60', group: 'hooks', help: 'seconds wait_for_socket hooks wait' },
  // privileges and jails
  { name: 'uid', type: 'string', group: 'privileges', help: 'drop to this user (name resolved after chroot, or number)' },
  { name: 'gid', type: 'string', group: 'privileges', help: 'drop to this group (name resolved after chroot, or number)' },
  { name: 'add-gid', type: 'string', repeatable: true, group: 'privileges', help: 'add a supplementary group' },
  { name: 'no-initgroups', type: 'flag', group: 'privileges', help: 'do not add the user\'s supplementary groups' },
  { name: 'chroot', type: 'string', group: 'privileges', help: 'chroot here (after post-jail, before as-root); the cwd is not changed' },
  { name: 'pivot-root', type: 'string', group: 'privileges', help: 'NEW_ROOT OLD_ROOT: pivot_root (after chroot, before as-root)' },
  { name: 'unshare', type: 'tokens', choices: UNSHARE_FLAGS, group: 'privileges', help: 'unshare namespaces before post-jail: ipc net pid mount uts ... (comma separated)' },
  { name: 'namespace', aliases: ['ns'], type: 'string', group: 'privileges', help: 'ROOTFS[:HOSTNAME]: run the instance as pid 1 of new uts/pid/ipc/mount namespaces; post-jail runs in the parent' },
  { name: 'namespace-net', aliases: ['ns-net'], type: 'flag', group: 'privileges', help: 'with namespace: also a new network namespace' },
  { name: 'namespace-keep-mount', aliases: ['ns-keep-mount'], type: 'string', repeatable: true, group: 'privileges', help: 'with namespace: a mount point to keep (PATH or SRC:DST)' },
  { name: 'jailed', type: 'flag', group: 'privileges', help: 'mark the instance as jailed: post-jail runs' },
  { name: 'cap', type: 'tokens', choices: CAPABILITIES, group: 'privileges', help: 'Linux capabilities kept after the uid drop (comma separated)' },
  { name: 'chdir', type: 'string', group: 'privileges', help: 'chdir before the app is loaded (after as-root)' },
  { name: 'umask', type: 'string', group: 'privileges', help: 'set the umask (octal) at startup' },
];

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

/** uWSGI options liege accepts but does not implement (plugins, Python,
 * tuning): a warning naming the option and line, then ignored (DEPARTURES D7). */
const IGNORED = [
  'plugin', 'plugins', 'plugin-dir', 'plugins-dir', 'need-plugin', 'need-plugins', 'module', 'wsgi-file', 'wsgi', 'file', 'callable', 'virtualenv', 'venv', 'home', 'pythonpath', 'python-path', 'pp',
  'mount', 'manage-script-name', 'chmod-socket', 'chown-socket', 'vacuum', 'harakiri', 'harakiri-verbose', 'max-requests', 'max-worker-lifetime', 'reload-on-rss', 'reload-on-as',
  'buffer-size', 'enable-threads', 'threads', 'thunder-lock', 'lazy-apps', 'lazy', 'cheaper', 'cheaper-algo', 'listen', 'post-buffering', 'static-map', 'static-map2', 'check-static',
  'offload-threads', 'disable-logging', 'log-date', 'logto', 'logto2', 'daemonize', 'daemonize2', 'log-master', 'logger', 'req-logger', 'memory-report', 'stats', 'stats-server', 'stats-http',
  'master-fifo', 'hook-touch', 'touch-reload', 'touch-chain-reload', 'touch-workers-reload', 'worker-reload-mercy', 'single-interpreter', 'auto-procname', 'procname-prefix',
  'procname-prefix-spaced', 'procname', 'procname-master', 'http', 'http-to', 'https', 'uwsgi-socket', 'socket-timeout', 'add-header', 'route', 'route-run', 'spooler', 'mule', 'cron',
  'smart-attach-daemon', 'smart-attach-daemon2', 'attach-daemon2',
  'safe-pidfile', 'safe-pidfile2', 'need-app', 'py-autoreload', 'limit-as', 'limit-post', 'memory-limit', 'cgroup', 'cgroup-opt', 'refork', 'refork-as-root', 'refork-post-jail',
  'immediate-uid', 'immediate-gid', 'master-as-root', 'drop-after-init', 'drop-after-apps', 'setns', 'setns-socket', 'unshare2', 'fallback-config', 'declare-option', 'envdir', 'early-envdir',
].map((name): OptionDef => ({ name, type: 'string', repeatable: true, ignored: true, group: 'uwsgi (ignored)', help: 'uWSGI option liege does not implement: warned about and ignored' }));

// Each area declares its options in options/<area>.ts; a declared option
// replaces the ignored uWSGI entry of the same name.
const DECLARED: readonly OptionDef[] = [...CORE, ...hookOptions(), ...MASTER_OPTIONS, ...SERVING_OPTIONS, ...EMPEROR_OPTIONS, ...REGISTRY_OPTIONS, ...BUNDLE_OPTIONS];
const declaredName = (name: string) => DECLARED.some((c) => c.name === name || c.aliases?.includes(name));

export const OPTIONS: readonly OptionDef[] = [...DECLARED, ...IGNORED.filter((o) => !declaredName(o.name))];

const byName = new Map<string, OptionDef>();
const byShort = new Map<string, OptionDef>();
for (const o of OPTIONS) {
  byName.set(o.name, o);
  for (const a of o.aliases ?? []) byName.set(a, o);
  if (o.short) byShort.set(o.short, o);
}

/** The option declared under this name or alias. */
export function findOption(name: string): OptionDef | undefined {
  return byName.get(name);
}

export function findShort(letter: string): OptionDef | undefined {
  return byShort.get(letter);
}

/** The closest known option name, for "did you mean" (edit distance <= 3). */
export function suggestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const n of byName.keys()) {
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
