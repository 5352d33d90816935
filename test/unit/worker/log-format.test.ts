// uWSGI's logformat templates: text kept as it is, %(name) replaced, an
// empty or unknown value "-", "%()" and a lone "%" are text, var.NAME
// reads the request's CGI variables, the app's logvars by their names.
import type * as http from 'node:http';
import { describe, expect, it } from 'vitest';
import { logvar } from '../../../src/api/index';
import { logTemplate as checkLogTemplate } from '../../../src/config/checks';
import { compileLogFormat, type Served } from '../../../src/worker/log-format';

function served(over: Partial<Served> = {}, headers: Record<string, string> = {}): Served {
  const req = { url: '/a/b%20c?x=1', method: 'GET', httpVersion: '1.1', headers: { host: 'example.org:8080', ...headers }, socket: { remoteAddress: '10.0.0.7', remotePort: 5555, localPort: 8080 } } as unknown as http.IncomingMessage;
  const res = { _header: 'HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n' } as unknown as http.ServerResponse;
  return { worker: 2, req, res, status: 200, addr: '10.0.0.7', body: 5, head: 30, us: 2500, at: Date.UTC(2026, 10, 25, 22, 17, 13, 500), ...over };
}

describe('logformat', () => {
  it('replaces the request, response and timing variables', () => {
    const f = compileLogFormat('%(addr) "%(method) %(uri) %(proto)" %(status) %(size) %(rsize) %(hsize) %(headers) %(msecs) %(micros) %(secs) %(wid) %(host)');
    expect(f(served())).toBe('10.0.0.7 "GET /a/b%20c?x=1 HTTP/1.1" 200 35 5 30 2 2 2500 0.002500 2 example.org:8080');
  });

  it('the start of the request as time, tmsecs and tmicros', () => {
    const f = compileLogFormat('%(time) %(tmsecs) %(tmicros)');
    const start = Date.UTC(2026, 10, 25, 22, 17, 13, 500) - 2.5; // the end less 2500 µs
    expect(f(served())).toBe(`${Math.floor(start / 1000)} ${Math.floor(start)} ${start * 1000}`);
  });

  it('an empty value, an unknown name and a missing header are "-"; "%()" and a lone "%" are text', () => {
    const f = compileLogFormat('[%(user)] [%(uagent)] [%(nosuch)] %() 100% (%(status))');
    expect(f(served())).toBe('[-] [-] [-] %() 100% (200)');
  });

  it('var.NAME: the CGI variables of an HTTP request', () => {
    const f = compileLogFormat('%(var.PATH_INFO)|%(var.QUERY_STRING)|%(var.SERVER_NAME)|%(var.SERVER_PORT)|%(var.HTTP_X_ID)|%(var.CONTENT_TYPE)|%(var.NONE)');
    expect(f(served({}, { 'x-id': 'abc', 'content-type': 'text/plain' }))).toBe('/a/b c|x=1|example.org|8080|abc|text/plain|-');
  });

  it("the app's logvars", () => {
    const r = served();
    logvar(r.req, 'user_id', '42');
    expect(compileLogFormat('uid=%(user_id) other=%(other)')(r)).toBe('uid=42 other=-');
  });
});

describe('logformat check', () => {
  it('refuses an unclosed %(', () => {
    expect(checkLogTemplate('%(addr) %(status')).toMatch(/closed/);
    expect(checkLogTemplate('%(addr) %(status)')).toBeUndefined();
    expect(checkLogTemplate('100% done')).toBeUndefined();
  });
});
