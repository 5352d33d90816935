// https-socket = ADDR,CERT,KEY[,CIPHERS]: TLS terminated in the worker, on
// the master's socket; the app's http.Server sees the decrypted stream
// (req.socket.encrypted is true, as under https.createServer).
import * as tls from 'node:tls';
import type { Adapter } from './index';

export function httpsAdapter(opts: { cert: string; key: string; ciphers?: string }): Adapter {
  const secureContext = tls.createSecureContext({ cert: opts.cert, key: opts.key, ciphers: opts.ciphers });
  return (raw, deliver) => {
    const conn = new tls.TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    // a failed handshake is the client's problem: drop the connection quietly
    conn.on('error', () => conn.destroy());
    deliver(conn);
  };
}
