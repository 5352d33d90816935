// liege ctl get [KEY] | set KEY=VALUE … | unset KEY …: from inside a bundle's
// configure hook, over the channel `liege set` opened for that hook alone.
import { ctlRequest } from '../bundle/ctl';
import { checkKey, parseAssignment, showValue } from '../bundle/settings';
import { LiegeError } from '../errors';

export async function ctlCommand(argv: string[]): Promise<number> {
  const [op, ...rest] = argv;
  if (op === 'get') {
    const key = rest[0];
    if (key) checkKey(key);
    const v = await ctlRequest('get', key);
    if (v === undefined) throw new LiegeError('LIEGE_ERR_SETTINGS', `no setting ${key}`, { text: key });
    process.stdout.write((key ? showValue(v) : JSON.stringify(v)) + '\n');
    return 0;
  }
  if (op === 'set' && rest.length) {
    for (const arg of rest) {
      const [k, v] = parseAssignment(arg);
      await ctlRequest('set', k.join('.'), v);
    }
    return 0;
  }
  if (op === 'unset' && rest.length) {
    for (const k of rest) await ctlRequest('unset', checkKey(k).join('.'));
    return 0;
  }
  throw new LiegeError('LIEGE_ERR_USAGE', 'bad ctl command', { text: argv.join(' '), expected: 'ctl get [KEY], ctl set KEY=VALUE …, ctl unset KEY …' });
}
