// The only importer of the native addon (native/), typed. Loading failures
// list every path tried (STYLE: node-pty's loader).
import * as path from 'node:path';
import { LiegeError } from '../errors';

export interface NativeBinding {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  chroot(dir: string): void;
  pivotRoot(newRoot: string, putOld: string): void;
  unshare(flags: number): void;
  sethostname(name: string): void;
  prctl(option: number, arg2: number): void;
  capset(lo: number, hi: number, inheritable: boolean): void;
  /** [exit code or -1, terminating signal or 0, a stop signal (TERM, INT,
   * QUIT) that came meanwhile or 0]; blocks the thread (with `passStop`, a
   * stop signal is passed on to the program, then raised again). Throws
   * (code, syscall 'execve', path) when the program could not be started.
   * `out`: the fd its stdout and stderr go to (else this process's).
   * `tick`: called every `everyMs` while the program runs (in this thread). */
  spawnWait(path: string, argv: string[], envp?: string[] | null, passStop?: boolean, out?: number, everyMs?: number, tick?: () => void): [number, number, number];
  /** Starts the program (throws like spawnWait) and returns its pid; a
   * thread waits for it and `done` runs on the loop. */
  spawnAsync(path: string, argv: string[], envp: string[] | null, done: (err: NodeJS.ErrnoException | null, status?: [number, number]) => void, out?: number): number;
  execv(path: string, argv: string[]): never;
  setCloexec(fd: number, on: boolean): void;
  /** kind 0 f(), 1 f(string), 2 f(int); null when the symbol is missing. */
  call(symbol: string, kind: 0 | 1 | 2, arg: string | number | null): number | null;
  unixSignal(signum: number, symbol: string): boolean;
  listenTcp(host: string, port: number, backlog: number, reusePort?: 0 | 1): number;
  /** Never unlinks an existing file: the caller checks for a stale socket first. */
  listenUnix(path: string, backlog: number): number;
  sockPort(fd: number): number;
  /** The bound address of a listening stream socket, else null. */
  sockName(fd: number): string | null;
  /** Connections waiting in a listening socket's accept queue (TCP or unix), -1 when unknown. */
  listenQueue(fd: number): number;
  /** shutdown(SHUT_RD) of a listening socket: connect() is refused from now on
   * (TCP: out of LISTEN, its accept queue reset; unix: the queue stays). */
  shutdownListen(fd: number): void;
  dup2(oldFd: number, newFd: number): void;
  closeFd(fd: number): void;
  /** fcntl(F_DUPFD_CLOEXEC): a copy of `fd`. */
  dupFd(fd: number): number;
  /** A non-blocking, close-on-exec datagram socket for this destination: a
   * unix socket path ('@name': abstract) when port < 0, else an IP literal.
   * UDP is connected; a unix one only with `connectUnix` (NOTIFY_SOCKET). */
  dgramSocket(address: string, port: number, connectUnix?: boolean): number;
  /** One datagram: to the unix socket `path` (unconnected: found again
   * after its receiver restarts), else on the socket dgramSocket connected;
   * bytes sent; throws the errno (EAGAIN: the receiver is full). */
  dgramSend(fd: number, message: string, path?: string): number;
  /** waitpid(pid, WNOHANG): null while it runs (or is not our child), else [exit code or -1, signal or 0] */
  reapPid(pid: number): [number, number] | null;
  /** A thread that SIGKILLs this process and its subtree graceMs after the
   * parent died; false when the parent is already not `expectedParent`. */
  watchParent(graceMs: number, expectedParent: number): boolean;
  /** A vassal until its loop reads the emperor pipe `fd`: a thread that
   * SIGKILLs this process and its subtree when the emperor's end closes
   * (the emperor died), even while a startup hook blocks the main thread;
   * false when fd is no socket. */
  watchEmperor(fd: number): boolean;
  /** The loop reads the emperor pipe now: the watchEmperor thread ends. */
  emperorWatchOff(): void;
  /** SIGKILL every descendant of pid; how many. */
  killTree(pid: number): number;
  /** Signals liege-early.so caught before JS listened (bit N = signal N). */
  takeEarlySignals(): number;
  /** Of those, and those bin/liege's listeners held: the signals only
   * others than this process and its parent sent (bit N = signal N). */
  takeEarlyForeign(): number;
  blockSignals(signals: number[], on: boolean): void;
  /** raise(3): the signal to the calling (main) thread only. */
  raiseSignal(signum: number): void;
  /** Wraps the handler of each signal JS listens to (SIGHUP, SIGINT,
   * SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 by name): deliveries are counted by
   * sender (the master pid, or anyone else); how many are watched. */
  watchSenders(signals: string[], masterPid: number): number;
  /** [from the master, from others, the last other sender's pid (0: the
   * kernel), 1 while the wrapper is installed]; the counts are cleared. */
  takeSenders(signal: string): [number, number, number, number];
  /** RLIMIT_NOFILE soft and hard to n (max-fd); errno error (EPERM: not root). */
  setNofile(n: number): void;
  /** RLIMIT_NOFILE: [soft, hard], -1 = unlimited. */
  getNofile(): [number, number];
  /** A shared memory region (memfd, mmap MAP_SHARED): [fd, close-on-exec; the mapping]. */
  shmCreate(size: number): [number, ArrayBuffer];
  /** memfd_create: an anonymous file in memory (close-on-exec). */
  memfd(): number;
  /** Maps the region of `fd` (another process's shmCreate). */
  shmMap(fd: number, size: number): ArrayBuffer;
  /** V8's LowMemoryNotification: full GCs that also shrink the heap;
   * first `agingGcs` memory-pressure GCs, which age (and drop) unused bytecode. */
  lowMemory(agingGcs?: number): void;
}

export const NATIVE_DIR = path.resolve(__dirname, '..', '..', 'native', 'build', 'Release');

const DIRS = [NATIVE_DIR, path.resolve(__dirname, '..', '..', 'native', 'build', 'Debug')];

/** Loads liege_native.node from the first of `dirs` that has a loadable
 * one; else a LiegeError listing every path tried (and why), with the
 * first real load failure as `cause`. */
export function loadNative(dirs: readonly string[] = DIRS): NativeBinding {
  const tried: string[] = [];
  let first: unknown;
  for (const dir of dirs) {
    const file = path.join(dir, 'liege_native.node');
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file) as NativeBinding;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      tried.push(`${file} (${err.code ?? 'error'}: ${String(err.message).split('\n')[0]})`);
      // the first real failure (not a plain "not there") is the one to keep
      if (first === undefined || (first as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') first = e;
    }
  }
  throw new LiegeError('LIEGE_ERR_NATIVE', `unable to load the native addon (run npm install); tried: ${tried.join('; ')}`, { cause: first });
}

let binding: NativeBinding | undefined;

/** The addon, loaded on first use. */
export const native: NativeBinding = new Proxy({} as NativeBinding, {
  get(_t, prop: keyof NativeBinding) {
    binding ??= loadNative();
    return binding[prop];
  },
});

/** Path of the single-threaded namespace helper (native/src/ns-helper.c). */
export const NS_HELPER = path.join(NATIVE_DIR, 'liege-ns');

/** Preloaded into a re-exec'd master (native/src/early-signals.c). */
export const EARLY_SIGNALS_LIB = path.join(NATIVE_DIR, 'liege-early.so');

export const PR_SET_KEEPCAPS = 8;
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_CHILD_SUBREAPER = 36;
