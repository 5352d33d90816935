// The example app: a plain request handler. liege creates the HTTP server on
// the socket the master bound (an app that calls server.listen() itself
// works too).
module.exports = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'x-pid': String(process.pid) });
  res.end(`hello from worker ${process.pid}\n`);
};
