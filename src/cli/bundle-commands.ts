// liege pack | install | revert | remove | set | get | unset: the bundle
// commands (src/bundle/ does the work; this file parses and prints).
import { pack } from '../bundle/pack';
import { install } from '../bundle/install';
import { changeSettings, getSetting, remove, revert } from '../bundle/manage';
import { checkKey, parseAssignment, showValue } from '../bundle/settings';
import { LiegeError } from '../errors';
import { bundleOpts, OPTION_FLAGS, parseArgs } from './bundle-args';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const need = (words: string[], n: number, usage: string) => {
  if (words.length < n) throw new LiegeError('LIEGE_ERR_USAGE', 'missing argument', { text: words.join(' '), expected: usage });
};

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  async pack(argv) {
    const a = parseArgs(argv, ['o', 'output']);
    need(a.words, 1, 'liege pack DIR [-o FILE.tar.gz]');
    const r = await pack(a.words[0]!, a.flags.get('o') ?? a.flags.get('output'));
    out(`packed ${r.name} ${r.version} (hooks: ${r.hooks.join(', ') || 'none'}) into ${r.file}`);
    return 0;
  },
  async install(argv) {
    const a = parseArgs(argv, ['name', ...OPTION_FLAGS], ['no-wait']);
    need(a.words, 1, 'liege install BUNDLE.tar.gz [--name NAME] [--no-wait]');
    const r = await install(a.words[0]!, a.flags.get('name'), bundleOpts(a));
    out(`installed ${r.name} ${r.version}${r.previous ? ` (was ${r.previous})` : ''}`);
    return 0;
  },
  async revert(argv) {
    const a = parseArgs(argv, OPTION_FLAGS, ['no-wait']);
    need(a.words, 1, 'liege revert NAME');
    const r = await revert(a.words[0]!, bundleOpts(a));
    out(`reverted ${a.words[0]} from ${r.from} to ${r.to}`);
    return 0;
  },
  async remove(argv) {
    const a = parseArgs(argv, OPTION_FLAGS);
    need(a.words, 1, 'liege remove NAME');
    await remove(a.words[0]!, bundleOpts(a));
    out(`removed ${a.words[0]}`);
    return 0;
  },
  async set(argv) {
    const a = parseArgs(argv, OPTION_FLAGS);
    need(a.words, 2, 'liege set NAME KEY=VALUE ...');
    await changeSettings(a.words[0]!, a.words.slice(1).map(parseAssignment), bundleOpts(a));
    return 0;
  },
  async unset(argv) {
    const a = parseArgs(argv, OPTION_FLAGS);
    need(a.words, 2, 'liege unset NAME KEY ...');
    await changeSettings(a.words[0]!, a.words.slice(1).map((k) => [checkKey(k), undefined]), bundleOpts(a));
    return 0;
  },
  async get(argv) {
    const a = parseArgs(argv, OPTION_FLAGS);
    need(a.words, 1, 'liege get NAME [KEY]');
    const key = a.words[1];
    const v = getSetting(a.words[0]!, key ? checkKey(key) : undefined, bundleOpts(a));
    if (v === undefined) throw new LiegeError('LIEGE_ERR_SETTINGS', `${a.words[0]} has no setting ${key}`, { text: key });
    out(key ? showValue(v) : JSON.stringify(v, null, 2));
    return 0;
  },
};

export const BUNDLE_COMMANDS = Object.keys(COMMANDS);

export function bundleCommand(name: string, argv: string[]): Promise<number> {
  return COMMANDS[name]!(argv);
}
