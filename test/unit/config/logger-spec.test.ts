// `logger = [NAME ]PLUGIN[:ARGS]` read as uWSGI reads it, and the values
// refused at load.
import { describe, expect, it } from 'vitest';
import { checkLogger, checkRoute, fileLoggerArgs, parseLogger, socketLoggerTarget, syslogLoggerArgs } from '../../../src/config/logger-spec';

describe('logger values', () => {
  it('a NAME is the first word when it is letters and digits only; the plugin ends at the first colon', () => {
    expect(parseLogger('file:/var/log/a.log')).toEqual({ name: undefined, plugin: 'file', args: '/var/log/a.log' });
    expect(parseLogger('errs file:/var/log/a b.log')).toEqual({ name: 'errs', plugin: 'file', args: '/var/log/a b.log' });
    expect(parseLogger('file:/var/log/a b.log')).toEqual({ name: undefined, plugin: 'file', args: '/var/log/a b.log' });
    expect(parseLogger('my-log file:/x')).toEqual({ name: undefined, plugin: 'my-log file', args: '/x' });
    expect(parseLogger('stdio')).toEqual({ name: undefined, plugin: 'stdio', args: '' });
  });

  it('file: PATH or uWSGI\'s key list', () => {
    expect(fileLoggerArgs('/var/log/a.log')).toEqual({ path: '/var/log/a.log', maxsize: 0 });
    expect(fileLoggerArgs('logfile=/a.log,maxsize=1000,backupname=/a.old')).toEqual({ path: '/a.log', maxsize: 1000, backup: '/a.old' });
    expect(fileLoggerArgs('logfile=/a.log,size=1')).toBeUndefined();
  });

  it('syslog: IDENT[,FACILITY], uWSGI\'s defaults; socket: a unix path or HOST:PORT, then ,PREFIX', () => {
    expect(syslogLoggerArgs('')).toEqual({ ident: 'uwsgi', facility: 3 });
    expect(syslogLoggerArgs('web,local2')).toEqual({ ident: 'web', facility: 18 });
    expect(socketLoggerTarget('/run/log.sock')).toEqual({ path: '/run/log.sock', prefix: '' });
    expect(socketLoggerTarget('10.0.0.1:514,app: ')).toEqual({ host: '10.0.0.1', port: 514, prefix: 'app: ' });
    expect(socketLoggerTarget('[::1]:514')).toEqual({ host: '::1', port: 514, prefix: '' });
  });

  it('refuses what cannot work, saying what was expected', () => {
    for (const ok of ['file:/a.log', 'a file:/a.log', 'file:logfile=/a.log', 'stdio', 'fd:3', 'syslog', 'syslog:web', 'syslog:web,local7', 'socket:/run/x.sock', 'socket:logs.example:514']) expect(checkLogger(ok), ok).toBeUndefined();
    expect(checkLogger('zeromq:tcp://x')).toMatch(/no logger plugin `zeromq`/);
    expect(checkLogger('file:')).toMatch(/file:PATH/);
    expect(checkLogger('file:logfile=/a,maxsize=10,backupname=/a.old')).toBeUndefined();
    expect(checkLogger('file:logfile=/a,maxsize=ten')).toMatch(/file:logfile=PATH\[,maxsize=BYTES\]/);
    expect(checkLogger('file:maxsize=10')).toMatch(/a path to append to/);
    expect(checkLogger('fd:x')).toMatch(/fd:N/);
    expect(checkLogger('syslog:web,nowhere')).toMatch(/FACILITY one of/);
    expect(checkLogger('socket:')).toMatch(/socket:HOST:PORT/);
    expect(checkLogger('socket:host:99999')).toMatch(/a port from 1 to 65535/);
    expect(checkRoute('errs ERROR')).toBeUndefined();
    expect(checkRoute('errs')).toMatch(/NAME REGEX/);
    expect(checkRoute('errs (')).toMatch(/valid regular expression/);
  });
});
