// The fetch-handler app shape (Bun, Deno, Cloudflare, Hono's
// `export default app`): `fetch(Request) → Response | Promise<Response>`,
// served as a Node request listener. Bodies stream both ways; a throw or a
// rejected promise is a 500 and a log line naming the app (unless it is the
// request body's error after the client left).
import type * as http from 'node:http';
import { Readable } from 'node:stream';

export type FetchHandler = (req: Request) => Response | Promise<Response>;

/** A Node request listener that serves `fetch`. */
export function fetchListener(fetch: FetchHandler, onError: (e: unknown, req: http.IncomingMessage) => void): http.RequestListener {
  return (req, res) => {
    let response: Response | Promise<Response>;
    try {
      response = fetch(toRequest(req));
    } catch (e) {
      fail(res, e, req, onError);
      return;
    }
    Promise.resolve(response).then(
      (r) => send(r, res).catch((e) => fail(res, e, req, onError)),
      (e) => fail(res, e, req, onError),
    );
  };
}

function toRequest(req: http.IncomingMessage): Request {
  const host = req.headers.host ?? 'localhost';
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as unknown as ReadableStream;
    init.duplex = 'half';
  }
  return new Request(`${scheme}://${host}${req.url ?? '/'}`, init);
}

async function send(r: Response, res: http.ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  r.headers.forEach((v, k) => {
    if (k === 'set-cookie') return;
    headers[k] = v;
  });
  const cookies = r.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(r.status, r.statusText || undefined, headers);
  if (!r.body) {
    res.end();
    return;
  }
  const reader = r.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // respect backpressure: wait for drain when the socket buffer is full
    if (!res.write(value)) await drained(res);
    if (res.destroyed) return;
  }
  res.end();
}

// 'drain' or 'close', whichever comes first; the other listener goes too
// (a large body waits many times: one 'close' listener left per wait was
// Node's MaxListenersExceededWarning after ten)
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((ok) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      ok();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function fail(res: http.ServerResponse, e: unknown, req: http.IncomingMessage, onError: (e: unknown, req: http.IncomingMessage) => void): void {
  // the client left while the app read its body (an aborted upload): the
  // rejection is the body stream's own error, the client's doing, not the
  // app's (the request log says 499); before, an "app exception" with a
  // stack and one more exception in the stats for every dropped upload
  if (e !== undefined && e === req.errored && res.destroyed) return;
  onError(e, req);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'text/plain' });
  res.end('Internal Server Error\n');
}
