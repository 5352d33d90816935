// HOST:PORT as the socket options spell it: an IPv6 host in brackets
// ([::1]:8080), and '' or '*' for every IPv4 address (uWSGI's ":8080",
// "*:8080").

/** The host and port to bind for `addr`. */
export function tcpAddress(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(addr.slice(colon + 1));
  if (host === '' || host === '*') return { host: '0.0.0.0', port };
  return { host, port };
}
