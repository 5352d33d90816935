// Options of bundles, settings, attachable daemons.
import type { OptionDef } from '../option-def';

export const BUNDLE_OPTIONS = [
  { name: 'state-dir', type: 'string', default: '/var/lib/liege', group: 'bundles', help: 'where `liege install` keeps bundles (<state-dir>/bundles/<name>/<version>), their data and settings (env LIEGE_STATE_DIR)' },
  { name: 'bundle-start-timeout', type: 'int', min: 0, default: '60', group: 'bundles', help: 'seconds a newly installed version has to reach "accepting" before `liege install` rolls back (0: do not wait)' },
  { name: 'bundle-keep', type: 'int', min: 0, default: '2', group: 'bundles', help: 'old versions of a bundle kept for `liege revert` besides the current one' },
  { name: 'bundle-hook-timeout', type: 'int', min: 1, default: '300', group: 'bundles', help: 'seconds a bundle hook (install, configure …) may run before it is killed and counts as failed' },
  { name: 'attach-daemon-pty', type: 'string', repeatable: true, group: 'attach', help: 'like attach-daemon, under a pseudo-terminal: `liege attach` connects a terminal to it; its output is logged' },
  { name: 'attach-dir', type: 'string', default: '/run/liege/attach', group: 'attach', help: 'directory of the attach sockets of pty daemons (<name>.<pid>.sock), writable by the instance user (env LIEGE_ATTACH_DIR)' },
] as const satisfies readonly OptionDef[];
