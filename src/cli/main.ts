// The entry point: argv → command → exit status. Only this file exits.
import { LiegeError } from '../errors';
import { setLogFormat } from '../log';
import { runPhaseAsync } from '../hooks/run';
import { runInstance } from '../master/lifecycle';
import { fallback } from './fallback';
import { hookContext, loadAll } from './load-all';

// the commands other than `run` are loaded on demand (start cost, see lifecycle.ts)
/* eslint-disable @typescript-eslint/no-require-imports */
const help = () => require('./help') as typeof import('./help');
const emperor = () => require('../emperor/emperor') as typeof import('../emperor/emperor');
const hooksCommand = (argv: string[]) => (require('./hooks-command') as typeof import('./hooks-command')).hooksCommand(argv);
const bundleCommand = (name: string, argv: string[]) => (require('./bundle-commands') as typeof import('./bundle-commands')).bundleCommand(name, argv);
const attachCommand = (argv: string[]) => (require('./attach-command') as typeof import('./attach-command')).attachCommand(argv);
const ctlCommand = (argv: string[]) => (require('./ctl-command') as typeof import('./ctl-command')).ctlCommand(argv);

const VERSION = '0.1.0';

async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'hooks') return hooksCommand(argv.slice(1));
  if (argv[0] === 'etcd') return (require('./etcd-command') as typeof import('./etcd-command')).etcdCommand(argv.slice(1)); // eslint-disable-line @typescript-eslint/no-require-imports
  if (['pack', 'install', 'revert', 'remove', 'set', 'get', 'unset'].includes(argv[0]!)) return bundleCommand(argv[0]!, argv.slice(1));
  if (argv[0] === 'ctl') return ctlCommand(argv.slice(1));
  if (argv[0] === 'attach') return attachCommand(argv.slice(1));
  const nsChild = process.env.LIEGE_NS_CHILD === '1';
  delete process.env.LIEGE_NS_CHILD;
  const reloads = parseInt(process.env.UWSGI_RELOADS ?? '0', 10) || 0;
  if (argv.length === 0) {
    process.stderr.write(help().helpText());
    return 1;
  }
  const { config, plan } = loadAll(argv, reloads);
  if (config.bool('help')) return print(help().helpText());
  if (config.bool('version')) return print(`liege ${VERSION}\n`);
  if (config.bool('print-config')) return print(config.settings.map((s) => `${s.key} = ${s.value}    # ${s.origin.file}${s.origin.line ? ':' + s.origin.line : ''}`).join('\n') + '\n');
  setLogFormat(config.str('log-format') === 'json' ? 'json' : 'text');
  // a reload re-reads the config; an invalid one, or one its configure hooks refuse, must not replace a running generation
  // configure runs in the running master: awaited, never blocking its loop
  const validateReload = async () => {
    const next = loadAll(argv, reloads + 1);
    await runPhaseAsync(next.plan, 'configure', hookContext(next.config));
  };
  const ctx = hookContext(config);
  const serveWithoutSockets = config.has('emperor') ? () => emperor().runEmperor(config, plan, ctx) : undefined;
  const startCwd = process.cwd();
  const status = await runInstance(config, plan, ctx, { reloads, nsChild, startCwd, validateReload, serveWithoutSockets });
  // the jailed child of `namespace` ends with 1: its parent falls back
  return nsChild ? status : fallback(config, status, ctx.configFile, startCwd);
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
