// The accept queue of each liege socket: connections the kernel accepted
// that no worker took yet (uWSGI's listen_queue, the first sign that every
// worker is busy). Asked of each listening fd (TCP_INFO for TCP, sock_diag
// for unix sockets, in the addon): one syscall or two per socket, where
// scanning /proc/net/tcp cost the master's loop time in proportion to every
// connection of the host, at each scrape.
import { native } from '../../os/native';

/** The queue length of each fd's listening socket, in the same order (0 when the kernel cannot say). */
export function listenQueues(fds: number[]): number[] {
  return fds.map((fd) => Math.max(0, native.listenQueue(fd)));
}
