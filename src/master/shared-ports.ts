// Ports an app listens on beyond liege's sockets (a metrics server, a
// second API): as node:cluster does, the master binds each address once and
// hands the same listening socket to every worker that asks, so all
// workers accept on it (no EADDRINUSE in all workers but one). The master
// keeps the socket (never accepting on it) for respawned workers, and
// hands it over across a reload's exec as it does liege's sockets: the old
// generation's workers still accept on it while the new one's get the same
// socket (one accept queue: the port never stops accepting). One the new
// generation never asked for is closed once the old generation is gone.
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import type { ListenRequest, MasterMessage } from '../ipc/worker';
import { native } from '../os/native';

/** A shared port's listening socket handed to the next image. */
export interface SharedPort {
  key: string; // "host:port" or a unix path
  fd: number;
}

interface Bound {
  sock: net.Socket;
  fd: number;
  asked: boolean; // a worker of this image asked for it
}

export class SharedPorts {
  private readonly byKey = new Map<string, Bound>();

  /** Answers a worker's listen request with the shared socket, or an error. */
  answer(child: ChildProcess, req: ListenRequest): void {
    let handle: net.Socket;
    try {
      handle = this.get(req);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const reply: MasterMessage = { type: 'listen-result', id: req.id, error: { code: err.code ?? 'EINVAL', message: err.message } };
      if (child.connected) child.send(reply);
      return;
    }
    const reply: MasterMessage = { type: 'listen-result', id: req.id };
    if (child.connected) child.send(reply, handle, { keepOpen: true }, () => undefined);
  }

  private get(req: ListenRequest): net.Socket {
    const key = req.path ?? `${req.host ?? ''}:${req.port ?? 0}`;
    let b = this.byKey.get(key);
    if (!b) {
      const backlog = req.backlog ?? 511;
      const fd = req.path !== undefined ? native.listenUnix(req.path, backlog) : native.listenTcp(req.host || '0.0.0.0', req.port ?? 0, backlog);
      b = { sock: handleOf(fd), fd, asked: true };
      this.byKey.set(key, b);
    }
    b.asked = true;
    return b.sock;
  }

  /** The sockets, kept open across the exec (the caller puts the list in
   * the handover). */
  handOver(): SharedPort[] {
    return [...this.byKey].map(([key, b]) => {
      native.setCloexec(b.fd, false);
      return { key, fd: b.fd };
    });
  }

  /** The previous image's sockets: answered from, not bound again (its
   * workers still listen on them: EADDRINUSE). */
  adopt(list: SharedPort[]): void {
    for (const { key, fd } of list) {
      native.setCloexec(fd, true);
      this.byKey.set(key, { sock: handleOf(fd), fd, asked: false });
    }
  }

  /** The old generation is gone: close the adopted sockets no worker of
   * this image asked for (the port goes with them, as under a restart). */
  closeUnasked(): string[] {
    const closed: string[] = [];
    for (const [key, b] of this.byKey) {
      if (b.asked) continue;
      this.byKey.delete(key);
      b.sock.destroy();
      closed.push(key);
    }
    return closed;
  }

  /** Bound shared addresses (for the log and stats). */
  keys(): string[] {
    return [...this.byKey.keys()];
  }
}

// a handle to pass over IPC; not readable, so the master never accepts
function handleOf(fd: number): net.Socket {
  return new net.Socket({ fd, readable: false, writable: false });
}
