import { describe, expect, it } from 'vitest';
import { checkOptionValue } from '../../../src/config/checks';
import { findOption } from '../../../src/config/options';

const check = (name: string, value: string) => checkOptionValue(findOption(name)!, value);

describe('registry validators', () => {
  it.each([
    ['processes', '4', undefined],
    ['processes', '-1', 'an integer from 0 to 4096'],
    ['processes', ' 4 ', undefined],
    ['harakiri', '-5', 'an integer from 0'],
    ['harakiri', '30', undefined],
    ['ksm', '', undefined],
    ['ksm', 'true', undefined],
    ['ksm', 'x', 'an integer from 0'],
    ['umask', '022', undefined],
    ['umask', '0022', undefined],
    ['umask', '0x1F', 'an octal mode from 000 to 777 (like 022)'],
    ['umask', '1777', 'an octal mode from 000 to 777 (like 022)'],
    ['namespace-net', 'yes', undefined],
    ['namespace-net', 'maybe', 'true or false'],
    ['pivot-root', '/new /new/old', undefined],
    ['pivot-root', '/new', 'NEW_ROOT OLD_ROOT (two paths separated by one space)'],
    ['namespace', '/ns:web-1.example', undefined],
    ['namespace', '/ns', undefined],
    ['namespace', ':h', 'ROOTFS[:HOSTNAME] with a root directory'],
    ['namespace-keep-mount', '/a:/b', undefined],
    ['namespace-keep-mount', '/a:', 'PATH or SRC:DST'],
    ['cap', 'CAP_SYS_ADMIN,net_bind_service', undefined],
    ['cap', 'flying', expect.stringMatching(/^one or more of: chown/)],
    ['uid', 'www-data', undefined],
    ['uid', '33', undefined],
    ['uid', 'a:b', 'a user/group name or a number'],
    ['http-socket', '127.0.0.1:8080', undefined],
    ['http-socket', '/run/app.sock', undefined],
    ['http-socket', 'app.sock', undefined], // a unix socket in the start directory, as under uWSGI
    ['http-socket', '8080', expect.stringMatching(/^:8080 \(a port needs its colon/)],
    ['for-times', '100001', 'an integer from 0 to 100000'],
    ['if-hostname-match', '^web[0-9]+$', undefined],
    ['if-hostname-match', '(', 'a valid regular expression'],
    ['xml', 'app.xml', 'an INI config: liege reads INI only (use `ini =`)'],
    ['print', 'a\0b', 'a value without NUL bytes'],
  ])('%s = %j', (name, value, expected) => {
    expect(check(name, value)).toEqual(expected);
  });
});
