// A loopback TCP proxy the tests can cut: `block()` drops every connection
// and swallows new ones (a network partition between one client and etcd),
// `heal()` forwards again.
import * as net from 'node:net';

export class TcpProxy {
  private server?: net.Server;
  private sockets = new Set<net.Socket>();
  blocked = false;
  port = 0;

  constructor(private readonly target: number) {}

  async start(): Promise<number> {
    this.server = net.createServer((c) => this.accept(c));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this.port;
  }

  private accept(c: net.Socket): void {
    this.sockets.add(c);
    c.on('close', () => this.sockets.delete(c));
    c.on('error', () => c.destroy());
    if (this.blocked) return; // held open, never answered: like packets dropped
    const up = net.connect(this.target, '127.0.0.1');
    this.sockets.add(up);
    up.on('close', () => { this.sockets.delete(up); c.destroy(); });
    up.on('error', () => up.destroy());
    c.on('close', () => up.destroy());
    c.pipe(up);
    up.pipe(c);
  }

  block(): void {
    this.blocked = true;
    // established connections go silent too: stop forwarding in both directions
    for (const s of this.sockets) s.unpipe();
    for (const s of this.sockets) s.pause();
  }

  heal(): void {
    this.blocked = false;
    for (const s of [...this.sockets]) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
