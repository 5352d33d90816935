// The loggers that send one datagram per line: syslog (to /dev/log, the
// line glibc's syslog(3) sends for uWSGI's syslog plugin: RFC 3164's
// "<PRI>Mmm dd hh:mm:ss IDENT: MSG", priority info, no pid, no hostname;
// without the line's newline) and socket:ADDR[,PREFIX] (PREFIX then the
// line with its newline, as uWSGI's logsocket plugin; to a unix datagram
// socket, or over UDP). Sent at once from the master's loop, never
// blocking (a full receiver drops the line: EAGAIN); the socket is not
// connected, so a syslog daemon that restarts is found again by the next
// line. A destination that refuses lines is said once (fault.ts).
import { oncePerSecond } from '../../log';
import { native } from '../../os/native';
import { Fault } from './fault';
import type { Sink } from './file-sink';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

// glibc's "%h %e %T", local time
const stamp = oncePerSecond((ms) => {
  const d = new Date(ms);
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
});

/** Where the datagrams go: a unix socket path (port -1) or an IP and a port. */
export interface Target {
  address: string;
  port: number;
}

export class DatagramSink implements Sink {
  private readonly fd: number;
  private readonly fault: Fault;

  /** `frame`: the datagram of one line. */
  constructor(readonly label: string, private readonly to: Target, private readonly frame: (line: string) => string) {
    this.fd = native.dgramSocket(to.address, to.port);
    this.fault = new Fault(label);
  }

  write(line: string): void {
    try {
      // UDP is connected; a unix path is named at every send
      if (this.to.port < 0) native.dgramSend(this.fd, this.frame(line), this.to.address);
      else native.dgramSend(this.fd, this.frame(line));
      this.fault.ok();
    } catch (e) {
      this.fault.failed((e as NodeJS.ErrnoException).code ?? 'EIO');
    }
  }

  flushSync(): void { /* nothing waits */ }
}

/** syslog's datagram of a line (facility × 8 + info). */
export function syslogFrame(ident: string, facility: number): (line: string) => string {
  const head = `<${facility * 8 + 6}>`;
  return (line) => `${head}${stamp(Date.now())} ${ident}: ${line.endsWith('\n') ? line.slice(0, -1) : line}`;
}

/** socket's datagram of a line. */
export function socketFrame(prefix: string): (line: string) => string {
  return prefix ? (line) => prefix + line : (line) => line;
}
