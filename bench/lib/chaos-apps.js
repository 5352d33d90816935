// The apps a chaos run serves, written into its scratch dir (the run edits
// the file: a reload into a broken app, then back). Each answers `/` with its
// pid (X-Pid), `/slow` after 150 ms (requests in flight during reloads),
// `/spin` never (a busy loop: harakiri's), `/leak` keeping 48 MiB
// (reload-on-rss's).
'use strict';

const HANDLER = `
const kept = [];
function handle(req, res) {
  if (req.url === '/spin') for (;;) { /* stuck */ }
  if (req.url === '/leak') kept.push(Buffer.alloc(48 << 20, 1));
  const send = () => { res.writeHead(200, { 'x-pid': String(process.pid) }); res.end('ok\\n'); };
  if (req.url === '/slow') setTimeout(send, 150); else send();
}
`;

const APPS = {
  // the handler shape: liege makes the server
  handler: `${HANDLER}module.exports = handle;\n`,
  // a naive self-listening app: server.close() and process.exit on SIGTERM
  naive: `${HANDLER}const http = require('http');
const server = http.createServer(handle).listen(Number(process.env.PORT) || 3000, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  // express's getting-started shape (express itself when it is installed)
  express: `${HANDLER}let express;
try { express = require('express'); } catch { express = null; }
if (express) {
  const app = express();
  app.get(/.*/, handle);
  app.listen(3000);
} else {
  require('http').createServer(handle).listen(3000);
}
`,
};

const BROKEN = "throw new Error('chaos: broken on purpose at load');\n";

module.exports = { APPS, BROKEN };
