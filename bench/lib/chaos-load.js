// The chaos run's load: keep-alive connections (each with its own agent, so
// the worker behind a reused connection is known from its last answer) and
// connections of one request each, every request recorded with its endpoint,
// times and outcome.
'use strict';
const http = require('http');

/**
 * Starts the loops against 127.0.0.1:port; `pick()` chooses each request's
 * path. Returns { requests, stop() }.
 */
function startLoad(port, { keepAlive = 6, oneShot = 2, pick = () => '/' } = {}) {
  const requests = [];
  let running = true;
  const one = (agent, path) => new Promise((resolve) => {
    const r = { path, t0: Date.now(), t1: 0, ok: false, why: '', pid: 0, knownPid: 0, reused: false };
    requests.push(r);
    const end = (why, pid) => {
      if (r.t1) return;
      r.t1 = Date.now();
      r.why = why;
      r.ok = why === '';
      r.pid = pid || 0;
      resolve(r);
    };
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: agent ? {} : { connection: 'close' } }, (res) => {
      const pid = Number(res.headers['x-pid']) || 0;
      if (pid && req.socket) req.socket.chaosPid = pid;
      res.resume();
      res.on('end', () => end(res.statusCode === 200 ? '' : `status ${res.statusCode}`, pid));
      res.on('error', (e) => end(e.code || e.message, pid));
    });
    req.on('socket', (s) => {
      r.reused = Boolean(s.chaosPid);
      r.knownPid = s.chaosPid || 0;
    });
    req.setTimeout(20_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => end(e.code || e.message, 0));
  });
  const agents = [];
  const loops = [];
  for (let i = 0; i < keepAlive; i++) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    loops.push((async () => { while (running) await one(agent, pick()); })());
  }
  for (let i = 0; i < oneShot; i++) loops.push((async () => { while (running) await one(false, pick()); })());
  return {
    requests,
    /** One request of its own (a fault's endpoint), on a fresh connection. */
    single: (path) => one(false, path),
    /** n requests of their own on one keep-alive connection (one worker). */
    async series(path, n) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const out = [];
      for (let i = 0; i < n; i++) out.push(await one(agent, path));
      agent.destroy();
      return out;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return requests;
    },
  };
}

module.exports = { startLoad };
