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
  /** [exit code or -1, terminating signal or 0] */
  spawnWait(path: string, argv: string[]): [number, number];
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
  dup2(oldFd: number, newFd: number): void;
  closeFd(fd: number): void;
  /** fcntl(F_DUPFD_CLOEXEC): a copy of `fd`. */
  dupFd(fd: number): number;
  sdNotify(socketPath: string, message: string): void;
  /** waitpid(pid, WNOHANG): null while it runs (or is not our child), else [exit code or -1, signal or 0] */
  reapPid(pid: number): [number, number] | null;
  /** A thread that SIGKILLs this process and its subtree graceMs after the
   * parent died; false when the parent is already not `expectedParent`. */
  watchParent(graceMs: number, expectedParent: number): boolean;
  /** SIGKILL every descendant of pid; how many. */
  killTree(pid: number): number;
  /** Signals liege-early.so caught before JS listened (bit N = signal N). */
  takeEarlySignals(): number;
  blockSignals(signals: number[], on: boolean): void;
}

export const NATIVE_DIR = path.resolve(__dirname, '..', '..', 'native', 'build', 'Release');

function load(): NativeBinding {
  const tried: string[] = [];
  for (const dir of [NATIVE_DIR, path.resolve(__dirname, '..', '..', 'native', 'build', 'Debug')]) {
    const file = path.join(dir, 'liege_native.node');
    tried.push(file);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(file) as NativeBinding;
    } catch { /* next */ }
  }
  throw new LiegeError('LIEGE_ERR_NATIVE', `unable to load the native addon (run npm install); tried: ${tried.join(', ')}`);
}

let binding: NativeBinding | undefined;

/** The addon, loaded on first use. */
export const native: NativeBinding = new Proxy({} as NativeBinding, {
  get(_t, prop: keyof NativeBinding) {
    binding ??= load();
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
