// Every error liege reports is a LiegeError: a code from this registry, a
// message, where it came from (file:line or the command line) and an exit
// status. Only src/cli maps them to process exit.

/** Where a config value or hook line came from. */
export interface Origin {
  file: string; // a path, "command line" or "environment"
  line: number; // 1-based; 0 when not from a file
  arg?: string; // the argument(s) as typed, for the command line and the environment
}

/** How a config value is quoted in an error: as typed, else `key = value`. */
export function shownValue(key: string, value: string, origin: Origin): string {
  return origin.arg ?? `${key} = ${value}`;
}

/** The exit status of an instance whose app fails to load under need-app (uWSGI's UWSGI_FAILED_APP_CODE). */
export const FAILED_APP_CODE = 22;

export const ERRORS = {
  LIEGE_ERR_USAGE: 'bad command line usage',
  LIEGE_ERR_UNKNOWN_OPTION: 'unknown option',
  LIEGE_ERR_BAD_VALUE: 'value does not fit the option',
  LIEGE_ERR_CONFIG_READ: 'unable to read a config source',
  LIEGE_ERR_LOGIC: 'bad logic block',
  LIEGE_ERR_HOOK_SYNTAX: 'bad hook line',
  LIEGE_ERR_HOOK_ACTION: 'unknown hook action',
  LIEGE_ERR_HOOK_ARGS: 'bad hook arguments',
  LIEGE_ERR_NO_SERVER: 'nothing to serve',
  LIEGE_ERR_SYSCALL: 'system call failed',
  LIEGE_ERR_HOOK_FAILED: 'a hook in a fatal phase failed',
  LIEGE_ERR_NATIVE: 'native addon could not be loaded',
  LIEGE_ERR_RELOAD: 'the new generation could not start',
  LIEGE_ERR_INTERNAL: 'internal error (a bug in liege)',
  LIEGE_ERR_BUNDLE: 'bad bundle (pack/install)',
  LIEGE_ERR_UNSAFE_BUNDLE: 'bundle archive entry escapes the bundle root or is not a file, directory or inner link',
  LIEGE_ERR_BUNDLE_HOOK: 'a bundle hook failed (the change was rolled back)',
  LIEGE_ERR_NOT_ACCEPTING: 'the new version did not reach accepting in time (rolled back)',
  LIEGE_ERR_SETTINGS: 'bad setting, or refused by the configure hook',
  LIEGE_ERR_CTL: 'liege ctl used outside a configure hook or channel failure',
  LIEGE_ERR_ATTACH: 'unable to attach to a pty daemon',
  LIEGE_ERR_REGISTRY: 'bad hook registry file or entry',
  LIEGE_ERR_REGISTRY_LOCK: 'the hook registry stayed locked',
  LIEGE_ERR_ESCALATION: 'escalated hooks refused',
  LIEGE_ERR_HOOK_BUNDLE: 'bad hook bundle',
  LIEGE_ERR_APP_LOAD: 'the node-app failed to load',
  LIEGE_ERR_APP_LISTEN: 'the node-app did not listen in time',
  LIEGE_ERR_SOCKET: 'unable to set up a listening socket',
  LIEGE_ERR_FD_LIMIT: 'the open file limit is too low to run (said by bin/liege before Node starts)',
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class LiegeError extends Error {
  readonly code: ErrorCode;
  readonly origin?: Origin;
  readonly exitCode: number;
  readonly text?: string;
  readonly expected?: string;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { origin?: Origin; text?: string; expected?: string; exitCode?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LiegeError';
    this.code = code;
    this.origin = opts.origin;
    this.text = opts.text;
    this.expected = opts.expected;
    this.exitCode = opts.exitCode ?? 1;
  }

  /** "file:line: message: `text` (expected ...)" — the one-line form users see. */
  describe(): string {
    const where = this.origin ? `${formatOrigin(this.origin)}: ` : '';
    const text = this.text !== undefined ? `: \`${this.text}\`` : '';
    const exp = this.expected ? ` (expected ${this.expected})` : '';
    return printable(`${where}${this.message}${text}${exp}`);
  }
}

// control characters of a bad config (a stray byte, an escape sequence)
// shown as \xNN: printed raw they would move the terminal's cursor or hide
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatOrigin(o: Origin): string {
  return o.line > 0 ? `${o.file}:${o.line}` : o.file;
}

/** A config error at a place, with the offending text and what was expected. */
export function configError(code: ErrorCode, message: string, origin: Origin, text: string, expected?: string): LiegeError {
  return new LiegeError(code, message, { origin, text, expected });
}

/** What to do when a descriptor table is full, for an error message:
 * EMFILE (this process's limit) or ENFILE (the system's); undefined for
 * any other errno. */
export function fdLimitHint(code: string | undefined): string | undefined {
  if (code === 'EMFILE') return 'EMFILE, too many open files: raise the limit (LimitNOFILE= in the systemd unit, ulimit -n in the shell)';
  if (code === 'ENFILE') return 'ENFILE, the system\'s file table is full: raise fs.file-max or close files elsewhere';
  return undefined;
}
