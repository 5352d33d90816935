// call family: C symbols looked up with dlsym(RTLD_DEFAULT) in the liege
// process (libc and the node binary): f(), f("text"), f(int).
import { native } from '../../os/native';
import { defineAction, needArg, splitFirst } from './types';

type CallArgs = { sym: string; arg?: string };

const symbolArgs = (a: string): CallArgs => {
  const [sym, arg] = splitFirst(needArg(a, 'a symbol name'));
  return { sym, arg };
};
const intArgs = (a: string): CallArgs => {
  const p = symbolArgs(a);
  if (p.arg !== undefined && !/^\s*-?\d+\s*$/.test(p.arg)) throw 'SYMBOL [INTEGER]';
  return p;
};

/** null when the symbol is missing, else the int it returned. */
function call(p: CallArgs, asInt: boolean): number | null {
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
