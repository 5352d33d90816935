// A systemd notify socket for tests: python3 listens on a unix datagram
// socket (Node has none) and prints each message, its lines joined by "|".
import { execa, type ResultPromise } from 'execa';
import { until } from './helpers';

const LISTENER = `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o600)  # root-only, like systemd's /run/systemd/notify
print("listening", flush=True)
while True:
    m = s.recv(4096).decode()
    # (stamped: with the wall-clock time it came, which hooks' \`date\` shares)
    print(("%.3f " % time.time() if len(sys.argv) > 2 else "") + m.replace("\\n", "|"), flush=True)
    if m.startswith("STOPPING=1"):
        break
`;

/** python3 listening on a notify socket at `sock` (once it listens): what
 * it heard so far (stamped: each line after its time), and the listener
 * (its stdout, once STOPPING=1 ended it). The listener is pushed on
 * `started` (the caller kills what it started). */
export async function notifyListener(sock: string, started: ResultPromise[], stamped = false) {
  const listener = execa('python3', ['-c', LISTENER, sock, ...(stamped ? ['stamped'] : [])], { buffer: true, reject: false, detached: true });
  started.push(listener);
  let text = '';
  listener.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  await until(() => text.includes('listening') || undefined);
  return { listener, heard: () => text };
}
