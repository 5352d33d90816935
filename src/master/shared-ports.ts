// Ports an app listens on beyond liege's sockets (a metrics server, a
// second API): as node:cluster does, the master binds each address once and
// hands the same listening socket to every worker that asks, so all
// workers accept on it (no EADDRINUSE in all workers but one). The master
// keeps the socket (never accepting on it) for respawned workers.
import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import type { ListenRequest, MasterMessage } from '../ipc/worker';
import { native } from '../os/native';

export class SharedPorts {
  private readonly byKey = new Map<string, net.Socket>();

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
    let s = this.byKey.get(key);
    if (!s) {
      const backlog = req.backlog ?? 511;
      const fd = req.path !== undefined ? native.listenUnix(req.path, backlog) : native.listenTcp(req.host || '0.0.0.0', req.port ?? 0, backlog);
      // a handle to pass over IPC; not readable, so the master never accepts
      s = new net.Socket({ fd, readable: false, writable: false });
      this.byKey.set(key, s);
    }
    return s;
  }

  /** Bound shared addresses (for the log and stats). */
  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
