import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { addHook, attachRequestHooks, hooksOf, removeHook } from '../../../src/worker/request-hooks';

describe('request hooks registry', () => {
  it('adds, replaces by name, removes by name or function; rejects unknown events', () => {
    const f = () => undefined;
    const g = () => undefined;
    addHook('post-route', f, 'one');
    addHook('post-route', g, 'one');
    addHook('post-route', f);
    expect(hooksOf('post-route').map((h) => [h.name, h.fn === g])).toEqual([['one', true], [undefined, false]]);
    expect(removeHook('post-route', 'one')).toBe(true);
    expect(removeHook('post-route', f)).toBe(true);
    expect(removeHook('post-route', f)).toBe(false);
    expect(() => addHook('pre-flight' as never, f)).toThrow(/unknown request hook event "pre-flight"/);
  });

  it('an async pre-route hook runs before the handler, on a real server', async () => {
    const order: string[] = [];
    const server = http.createServer((_req, res) => { order.push('app'); res.end('ok'); });
    attachRequestHooks(server);
    const hook = async () => { await new Promise((r) => setTimeout(r, 30)); order.push('hook'); };
    addHook('pre-route', hook, 'unit');
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(await res.text()).toBe('ok');
    expect(order).toEqual(['hook', 'app']);
    removeHook('pre-route', 'unit');
    server.close();
  });
});
