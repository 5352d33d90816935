// The entry point: argv → command → exit status. Only this file exits.
import { FAILED_APP_CODE, LiegeError } from '../errors';
import { muted, setLogDate, setLogFormat } from '../log';
import { runPhaseAsync } from '../hooks/run';
import { runInstance, type StartState } from '../master/lifecycle';
import { logicalCwd } from '../os/cwd';
import { fallback } from './fallback';
import { forgetPreload } from '../os/early-signals';
import { hookContext, loadAll } from './load-all';
import type { Config } from '../config/config';
import { wantsLogMaster } from '../config/logger-spec';
import type { HookContext } from '../hooks/actions/types';
import type { HookPlan } from '../hooks/spec';
import { EMPEROR_FD_ENV, envFd, EXILE_CODE, VASSAL_ENV } from '../ipc/vassal';
import { stopMercy } from '../ipc/worker';
import { adoptDaemonPipe } from '../ipc/daemon';
import { native } from '../os/native';
import type { BoundSocket } from '../master/sockets';
import { servingSpec } from '../master/serving';

// the commands other than `run` are loaded on demand (start cost, see lifecycle.ts)
/* eslint-disable @typescript-eslint/no-require-imports */
const help = () => require('./help') as typeof import('./help');
const emperor = () => require('../emperor/emperor') as typeof import('../emperor/emperor');
const single = () => require('../worker/single') as typeof import('../worker/single');
const prelude = () => require('../emperor/vassal-prelude') as typeof import('../emperor/vassal-prelude');
const hooksCommand = (argv: string[]) => (require('./hooks-command') as typeof import('./hooks-command')).hooksCommand(argv);
const bundleCommand = (name: string, argv: string[]) => (require('./bundle-commands') as typeof import('./bundle-commands')).bundleCommand(name, argv);
const attachCommand = (argv: string[]) => (require('./attach-command') as typeof import('./attach-command')).attachCommand(argv);
// the subcommands' usage lines (in the commands part: a master's argv never asks for them)
const usageLines = () => require('./usage') as typeof import('./usage');
const ctlCommand = (argv: string[]) => (require('./ctl-command') as typeof import('./ctl-command')).ctlCommand(argv);

const VERSION = '0.1.0';

// `liege --help harakiri`, `liege help`: the help is asked before any config is read (as uWSGI's immediate --help)
const HELP = ['--help', '-h', '--usage', 'help'];

async function run(argv: string[]): Promise<number> {
  forgetPreload();
  if (HELP.includes(argv[0]!)) return helpCommand(argv.slice(1));
  const usage = argv.slice(1).some((a) => a === '--help' || a === '-h') ? usageLines().commandHelp(argv) : undefined;
  if (usage) return print(usage);
  if (argv[0] === 'hooks') return hooksCommand(argv.slice(1));
  if (argv[0] === 'etcd') return (require('./etcd-command') as typeof import('./etcd-command')).etcdCommand(argv.slice(1)); // eslint-disable-line @typescript-eslint/no-require-imports
  if (BUNDLE_VERBS.includes(argv[0]!)) return bundleCommand(argv[0]!, argv.slice(1));
  if (argv[0] === 'bundle') return bundleVerb(argv.slice(1));
  if (argv[0] === 'ctl') return ctlCommand(argv.slice(1));
  if (argv[0] === 'attach') return attachCommand(argv.slice(1));
  if (argv[0] === 'top') return (require('./top-command') as typeof import('./top-command')).topCommand(argv.slice(1)); // eslint-disable-line @typescript-eslint/no-require-imports
  if (['--reload', '--stop', '--chain-reload'].includes(argv[0]!)) return (require('./pidfile-command') as typeof import('./pidfile-command')).pidfileCommand(argv[0]!, argv.slice(1)); // eslint-disable-line @typescript-eslint/no-require-imports
  // `liege --ini app.ini --help harakiri`: the help, wherever it is asked
  const helpAt = argv.findIndex((a) => a === '--help' || a === '-h');
  if (helpAt > 0) return helpCommand(argv.slice(helpAt + 1).filter((w) => !w.startsWith('-')));
  adoptDaemonPipe(native.setCloexec); // a daemon: its pipe to the command that started it, kept from workers and hooks
  const nsChild = process.env.LIEGE_NS_CHILD === '1';
  delete process.env.LIEGE_NS_CHILD;
  const reloads = parseInt(process.env.UWSGI_RELOADS ?? '0', 10) || 0;
  if (argv.length === 0) {
    process.stderr.write(help().helpText());
    return 1;
  }
  // a vassal: until its loop reads the emperor pipe, a thread watches it, so
  // that a dead emperor ends the vassal even while a startup hook blocks
  // (the loop disarms it: master/loop/start.ts, single.ts; an exec in place re-arms)
  const emperorFd = nsChild ? undefined : envFd();
  if (emperorFd !== undefined) native.watchEmperor(emperorFd);
  if (process.env[VASSAL_ENV]) {
    const status = await prelude().runVassalPrelude();
    if (status !== undefined) return status;
  }
  const { config, plan } = loadVassalAware(argv, reloads);
  if (config.bool('help')) return print(help().helpText());
  if (config.bool('version')) return print(`liege ${VERSION}\n`);
  if (config.bool('print-config')) return print(config.settings.map((s) => `${s.key} = ${s.value}    # ${s.origin.file}${s.origin.line ? ':' + s.origin.line : ''}`).join('\n') + '\n');
  setLogFormat(config.str('log-format') === 'json' ? 'json' : 'text');
  if (config.has('log-date')) setLogDate(config.str('log-date') ?? '');
  // where this image started (a symlinked release dir as named): a
  // reload's re-exec goes back there, so `liege app.ini` with `chdir`
  // reads the same app.ini again
  const startCwd = logicalCwd();
  // a reload re-reads the config; an invalid one, or one its configure hooks refuse, must not replace a running generation
  // configure runs in the running master: awaited, never blocking its loop
  const validateReload = async () => {
    // read as the new image will: from where this one started, not `chdir`
    const next = inDir(startCwd, () => muted('config', () => loadAll(argv, reloads + 1))); // its warnings: once, by the new image
    await runPhaseAsync(next.plan, 'configure', hookContext(next.config));
  };
  const ctx = hookContext(config);
  const serving = pickServe(config, plan, ctx, reloads, validateReload);
  const status = await runInstance(config, plan, ctx, { reloads, nsChild, startCwd, validateReload, ...serving });
  // the jailed child of `namespace` ends with 1: its parent falls back
  return nsChild ? status : fallback(config, status, ctx.configFile, startCwd);
}

/** Runs `f` with `dir` as the working directory, then goes back. A
 * directory we cannot enter (a chroot) is left as the re-exec leaves it. */
function inDir<T>(dir: string, f: () => T): T {
  let here: string | undefined;
  try {
    here = process.cwd();
  } catch { /* ours was removed (a pruned release): stay in `dir` after */ }
  try {
    process.chdir(dir);
  } catch {
    return f();
  }
  try {
    return f();
  } finally {
    if (here) tryChdir(here);
  }
}

function tryChdir(dir: string): void {
  try {
    process.chdir(dir);
  } catch { /* removed meanwhile: stay */ }
}

/** The emperor, a single-process instance, or (no `serve`) the master. */
function pickServe(config: Config, plan: HookPlan, ctx: HookContext, reloads: number, validateReload: () => Promise<void>): Pick<StartState, 'serve' | 'single'> {
  const sockets = config.has('socket') || config.has('http-socket') || config.has('https-socket');
  if (config.has('emperor') && !sockets) return { serve: () => emperor().runEmperor(config, plan, ctx) };
  // uWSGI without `master` and one worker: the process serves itself
  const daemons = config.has('attach-daemon') || config.has('attach-control-daemon');
  // (a warm spare needs a master to hand it the slot)
  if (config.bool('master') || wantsLogMaster(config) || config.int('processes') !== 1 || !sockets || daemons || config.has('emperor') || config.int('spare-workers') > 0) return {};
  const needApp = config.bool('need-app');
  const serve = (bound: BoundSocket[]) => single().serveSingle({
    serving: servingSpec(config, bound), fds: bound.map((s) => s.fd), plan, ctx, reloads, validateReload,
    heartbeat: config.has('heartbeat') ? config.int('heartbeat') : undefined,
    mercy: { ms: config.int('worker-reload-mercy') * 1000, name: 'worker-reload-mercy' },
    stopMercy: stopMercy(config.int('worker-reload-mercy') * 1000, config.int('reload-mercy') * 1000),
    describeError: (e) => (e instanceof LiegeError ? e.describe() : String(e)),
    moveSocket: (from, to) => { for (const s of bound) if (s.fd === from) s.fd = to; },
  }).catch((e: unknown) => {
    if (!needApp || !(e instanceof LiegeError) || e.code !== 'LIEGE_ERR_APP_LOAD') throw e;
    throw new LiegeError(e.code, `${e.message} (need-app: exit ${FAILED_APP_CODE})`, { exitCode: FAILED_APP_CODE, cause: e });
  });
  return { serve, single: true };
}

/** Under an emperor, an invalid config exits with EXILE_CODE: not respawned until it changes. */
function loadVassalAware(argv: string[], reloads: number): ReturnType<typeof loadAll> {
  try {
    return loadAll(argv, reloads);
  } catch (e) {
    if (!(e instanceof LiegeError) || !process.env[EMPEROR_FD_ENV]) throw e;
    throw new LiegeError(e.code, e.message, { origin: e.origin, text: e.text, expected: e.expected, exitCode: EXILE_CODE, cause: e });
  }
}

const BUNDLE_VERBS = ['pack', 'install', 'revert', 'remove', 'set', 'get', 'unset'];

// `liege bundle install X` (snap, helm): the same as `liege install X`
function bundleVerb(argv: string[]): Promise<number> | number {
  const [verb, ...rest] = argv;
  if (verb !== undefined && BUNDLE_VERBS.includes(verb)) return bundleCommand(verb, rest);
  const out = verb === '--help' || verb === '-h' ? process.stdout : process.stderr;
  out.write(`usage: liege bundle VERB … (or liege VERB …)\n${BUNDLE_VERBS.map((v) => `  ${usageLines().COMMAND_USAGE[v]}\n`).join('')}`);
  return out === process.stdout ? 0 : 1;
}

/** Every option, or those whose name has one of `words`; 1 when none has. */
function helpCommand(words: string[]): number {
  if (words.length === 0) return print(help().helpText());
  const r = help().helpLookup(words);
  if (r.found) return print(r.text);
  process.stderr.write(r.text);
  return 1;
}

let printed = false;

function print(s: string): number {
  printed = true;
  // a closed pipe (`liege --help | head`) ends the output, not with a stack trace
  process.stdout.on('error', () => process.exit(process.exitCode ?? 0));
  process.stdout.write(s);
  return 0;
}

export function main(argv: string[]): void {
  run(argv).then(
    (code) => exit(code),
    (e: unknown) => {
      if (e instanceof LiegeError) {
        process.stderr.write(`liege: ${e.describe()}\n`);
        exit(e.exitCode);
      } else {
        // a bug, never a stack trace for the user (LIEGE_DEBUG=1 shows it)
        const what = process.env.LIEGE_DEBUG === '1' ? (e as Error).stack : String((e as Error).message ?? e).split('\n')[0];
        process.stderr.write(`liege: internal error (LIEGE_ERR_INTERNAL, a bug in liege, please report it): ${what}\n`);
        exit(70);
      }
    },
  );
}

// stdout may be a pipe: let what print() wrote drain before exiting (and do
// not create process.stdout when nothing was printed: it costs a few ms).
function exit(code: number): void {
  process.exitCode = code;
  if (!printed || process.stdout.writableLength === 0) process.exit(code);
  process.stdout.once('drain', () => process.exit(code));
}
