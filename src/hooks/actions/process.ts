// Process-level actions: hostname, exit, print/log, alarm. (uWSGI's rpc and
// retryrpc need its RPC subsystem; liege rejects them at load.)
import { log } from '../../log';
import { native } from '../../os/native';
import { defineAction, ExitRequest } from './types';

export const processActions = [
  defineAction({ name: 'hostname', parse: (a) => { if (!a) throw 'a hostname'; return a; }, run: (h) => (native.sethostname(h), 0), doc: 'sethostname(2) (with `unshare = uts` or `namespace`, only inside the jail)', example: 'hook-post-jail = hostname:app1' }),
  defineAction({
    name: 'exit',
    parse: (a) => { if (a !== '' && !(/^\d+$/.test(a.trim()) && Number(a) <= 255)) throw 'an exit status (0-255) or nothing'; return a === '' ? 0 : Number(a); },
    run: (code) => { throw new ExitRequest(code); },
    doc: 'end the instance with this status (default 0); atexit hooks run', example: 'hook-pre-app = exit:3',
  }),
  defineAction({ name: 'print', aliases: ['log'], parse: (a) => a, run: (t) => (log('hooks').info(t), 0), doc: 'write the text to the log', example: 'hook-as-user = print:dropped privileges' }),
  defineAction({ name: 'alarm', parse: (a) => { if (!a.includes(' ')) throw 'ALARM MESSAGE'; return a; }, run: (t) => (log('hooks').warn({ alarm: t.split(' ')[0] }, t.slice(t.indexOf(' ') + 1)), 0), doc: 'raise an alarm: logged as a warning (never fails)', example: 'hook-as-user-atexit = alarm:ops instance stopped' }),
];

/** uWSGI actions that need subsystems liege does not have: a load error. */
export const UNSUPPORTED_ACTIONS: Record<string, string> = {
  rpc: 'uWSGI RPC is not available in liege (use exec)',
  retryrpc: 'uWSGI RPC is not available in liege (use exec)',
};
