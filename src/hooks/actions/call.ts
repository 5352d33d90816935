// call family: C symbols looked up with dlsym(RTLD_DEFAULT) in the liege
// process (libc and the node binary): f(), f("text"), f(int). The symbols
// uWSGI's own docs call from hooks resolve to liege equivalents first
// (SYMBOL_EQUIVALENTS), so those examples work in a Node process.
import { log } from '../../log';
import { native } from '../../os/native';
import { defineAction, ExitRequest, needArg, splitFirst } from './types';

type CallArgs = { sym: string; arg?: string };

/** A symbol done by liege: gets the text after the symbol (any call
 * variant), returns what the C function would. */
interface Equivalent {
  run(arg: string | undefined): number;
  /** what the argument must be, checked at load; undefined: anything */
  check?(arg: string | undefined): string | undefined;
  doc: string;
  example: string;
}

const exitStatus = (arg: string | undefined) => (arg === undefined || arg.trim() === '' ? 0 : Number(arg.trim()) & 255);

export const SYMBOL_EQUIVALENTS: Record<string, Equivalent> = {
  uwsgi_log: {
    run: (arg) => (log('hooks').info(arg ?? ''), 0),
    doc: 'uWSGI\'s logger: the text goes to the liege log (like `print`)',
    example: 'hook-post-app = call:uwsgi_log application has been loaded',
  },
  uwsgi_log_verbose: {
    run: (arg) => (log('hooks').info(arg ?? ''), 0),
    doc: 'same as `uwsgi_log`',
    example: 'hook-as-user = call:uwsgi_log_verbose dropped privileges',
  },
  putenv: {
    // libc putenv would change environ behind Node's back; the doc example
    // passes text even to callint (uWSGI would call putenv(0))
    run: (arg) => {
      const eq = arg!.indexOf('=');
      if (eq < 0) delete process.env[arg!];
      else process.env[arg!.slice(0, eq)] = arg!.slice(eq + 1);
      return 0;
    },
    check: (arg) => (arg && arg.trim() ? undefined : 'putenv NAME=VALUE'),
    doc: 'set (`NAME=VALUE`) or remove (`NAME`) an environment variable, with any call variant',
    example: 'hook-pre-app = callint:putenv PATH=bin:$(PATH)',
  },
  chdir: {
    // Node caches its cwd: libc chdir would leave process.cwd() stale
    run: (arg) => {
      try {
        process.chdir(arg!);
        return 0;
      } catch {
        return -1;
      }
    },
    check: (arg) => (arg ? undefined : 'chdir DIRECTORY'),
    doc: 'change the working directory (returns -1 when it cannot: `callret` fails)',
    example: 'hook-pre-jail = callret:chdir /',
  },
  exit: {
    // libc exit() would skip the as-user-atexit hooks uWSGI runs from atexit()
    run: (arg) => { throw new ExitRequest(exitStatus(arg)); },
    check: (arg) => (arg === undefined || /^\s*\d+\s*$/.test(arg) ? undefined : 'exit [STATUS]'),
    doc: 'end the instance with this status; atexit hooks run (uWSGI\'s `exit` action is `callint:exit`)',
    example: 'hook-as-user = callint:exit 3',
  },
};

const equivalent = (sym: string) => (Object.hasOwn(SYMBOL_EQUIVALENTS, sym) ? SYMBOL_EQUIVALENTS[sym] : undefined);

const symbolArgs = (a: string): CallArgs => {
  const [sym, arg] = splitFirst(needArg(a, 'a symbol name'));
  const why = equivalent(sym)?.check?.(arg);
  if (why) throw why;
  return { sym, arg };
};
const intArgs = (a: string): CallArgs => {
  const p = symbolArgs(a);
  if (p.arg !== undefined && !equivalent(p.sym) && !/^\s*-?\d+\s*$/.test(p.arg)) throw 'SYMBOL [INTEGER]';
  return p;
};

/** null when the symbol is missing, else the int it returned. */
function call(p: CallArgs, asInt: boolean): number | null {
  const eq = equivalent(p.sym);
  if (eq) return eq.run(p.arg);
  if (p.arg === undefined) return native.call(p.sym, 0, null);
  return asInt ? native.call(p.sym, 2, parseInt(p.arg, 10)) : native.call(p.sym, 1, p.arg);
}

export const callActions = [
  defineAction({
    name: 'call', parse: symbolArgs,
    run: (p) => (call(p, false) === null ? 1 : 0),
    doc: 'call `symbol` or `symbol(text)`; fails only when the symbol is missing', example: 'hook-pre-jail = call:sync',
  }),
  defineAction({
    name: 'callret', parse: symbolArgs,
    run: (p) => call(p, false) ?? 1,
    doc: 'like call; fails when the symbol is missing or returns non-zero', example: 'hook-as-root = callret:chdir /srv/app',
  }),
  defineAction({
    name: 'callint', parse: intArgs,
    run: (p) => (call(p, true) === null ? 1 : 0),
    doc: 'call `symbol(int)`; fails only when the symbol is missing', example: 'hook-as-user = callint:sleep 1',
  }),
  defineAction({
    name: 'callintret', parse: intArgs,
    run: (p) => call(p, true) ?? 1,
    doc: 'call `symbol(int)`; fails when missing or non-zero', example: 'hook-as-root = callintret:abs 0',
  }),
  defineAction({
    name: 'unix_signal',
    parse: (a) => {
      const [num, sym] = splitFirst(a);
      if (!/^\d+$/.test(num) || Number(num) < 1 || Number(num) > 64 || !sym) throw 'SIGNUM SYMBOL';
      return { num: Number(num), sym };
    },
    run: (p) => (native.unixSignal(p.num, p.sym) ? 0 : 1),
    doc: 'install the C function `symbol` as the handler of signal SIGNUM', example: 'hook-as-user = unix_signal:10 my_handler',
  }),
];

/** The shortcut `call-<phase> = symbol`: the whole value is the symbol, f(). */
export const shortcutCall = defineAction({
  name: 'call', parse: (a) => ({ sym: needArg(a.trim(), 'a symbol name') }),
  run: (p: CallArgs) => (call(p, false) === null ? 1 : 0),
  doc: '', example: '',
});
