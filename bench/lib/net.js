// Ports and readiness for the benches' own servers.
'use strict';
const net = require('net');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port free on 127.0.0.1 right now. */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Resolves once GET / on `port` answers 200 (20 s at most). */
async function ready(port) {
  for (let i = 0; i < 1000; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
      await r.text();
      if (r.status === 200) return;
    } catch { /* not yet */ }
    await sleep(20);
  }
  throw new Error(`port ${port} never answered 200`);
}

module.exports = { freePort, ready, sleep };
