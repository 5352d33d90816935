// `liege hooks --help` (short usage) and `liege hooks fullhelp` (the manual).
import { CATEGORIES, eventsOf } from '../hooks/registry/entry';

export const HOOKS_USAGE = `usage: liege hooks ACTION ...
  liege hooks plan|check [--output json] CONFIG-OPTIONS   what runs where, in order / validate only
  liege hooks list [--output json] [CONFIG-OPTIONS]       the registry (no config) or every hook of a config
  liege hooks add script|module PATH [DESCRIPTORS]        register a hook (it describes itself, or --manual)
  liege hooks delete script|module PATH [DESCRIPTORS]     remove it (or: delete --id ID)
  liege hooks enable BUNDLE.tar.gz EVENT --hook-dir DIR   deploy a packaged hook into DIR/EVENT/
  liege hooks disable NAME EVENT --hook-dir DIR           remove a deployed hook
  liege hooks fullhelp                                    the whole manual
`;

export function fullHelp(): string {
  const events = CATEGORIES.map((c) => `      ${c}: ${eventsOf(c).join(', ')}`).join('\n');
  return `${HOOKS_USAGE}
THE HOOK REGISTRY
  A file of hooks that every instance loads at start and at every reload,
  besides the hooks of its config: hooks-db = FILE, else $LIEGE_HOOKS_DB,
  else /etc/liege/hooks.yaml (YAML; JSON when the name ends in .json).
  Only these commands write it: under a lock (PATH.lock), atomically
  (temp file, fsync, rename). Every entry has a stable id.

  liege hooks add script PATH [DESCRIPTORS]
      PATH is an executable. Without --manual liege runs \`PATH --describe\`,
      which prints a JSON array of descriptor objects, e.g.
        [{"category":"Phase","event":"as-user","stage":"post","weight":200}]
      A script that exits non-zero or prints no JSON has no describe: the
      flags are used, with a warning.
  liege hooks add module FILE.js [DESCRIPTORS]
      FILE.js is a CommonJS module; its export describe() returns (or
      resolves to) the same array. The hook function is the export named
      by "action", else module.exports (a function) or its default.
      A module hook gets ({event, stage, id}); it fails if it throws,
      rejects, or returns false or a non-zero number.

  DESCRIPTORS (flags; a flag without a value is true):
    --category Phase|Vassal|Request   guessed from --event when left out
    --event EVENT                     one of:
${events}
    --stage pre|post                  before or after the config's own hooks (default pre)
    --weight N                        ascending order inside event and stage; default 100
                                      for the first hook of an event, else 100 above the
                                      highest (100, 200, 300; after 455: 555)
    --check REF                       runs first; non-zero skips the hook (logged).
                                      Scripts: a path (relative to the hook's dir), run with
                                      the action words; modules: an export name
    --rollback REF                    when a later hook of the same phase fails fatally,
                                      the rollbacks of the hooks that already ran run,
                                      last first, before the instance exits
    --escalateprivs                   run as root in phases after the privilege drop,
                                      through a helper forked before the drop; only when
                                      FILE is owned by root and not group/world-writable,
                                      else the instance refuses to start
    --action ARGS                     words appended to a script's command line, or the
                                      module's export name
    --manual                          take the descriptors from the flags, no describe
  Describe and flags are never mixed: when the hook describes itself,
  descriptor flags are ignored (with a warning).
  Adding a hook again (same path, category, event, stage, action) replaces it.

  liege hooks delete script|module PATH [DESCRIPTORS]   every entry of PATH matching
                                                        the descriptors given
  liege hooks delete --id ID
  liege hooks list [--output json] [--hooks-db FILE]    grouped by category and event

ORDER INSIDE A PHASE
  registry pre hooks (by weight), the config's hooks, hook-dir executables
  (by name), registry post hooks (by weight). \`liege hooks plan\` shows it,
  with the source of each hook (file:line, \`registry ID\`, or the path).
  Registry hooks follow the phase's fatal policy.

HOOK DIRECTORIES
  hook-dir = DIR: every executable DIR/<phase>/NAME runs in that phase, in
  name order; dotfiles, NAME~, *.dpkg-*, *.rpm* and non-executables are skipped.
  liege hooks enable BUNDLE.tar.gz EVENT --hook-dir DIR [--state DIR]
      a tar with bin/launch (a script) or bin/launch/ (scripts), and
      optionally package.json (name, version); else NAME-VERSION.tar.gz.
      Unpacked into STATE/hooks/EVENT/NAME/VERSION (STATE: --state, else
      $LIEGE_STATE_DIR, else /var/lib/liege), STATE/hooks/EVENT/NAME/current
      switched atomically, scripts linked as DIR/EVENT/NAME_SCRIPT.
  liege hooks disable NAME EVENT --hook-dir DIR [--state DIR]
  liege hooks list shows the deployed hooks with --hook-dir DIR.

REQUEST HOOKS
  In an app: const { addHook, removeHook } = require('liege');
  addHook(EVENT, fn, name?) / removeHook(EVENT, fnOrName), EVENT one of
  ${eventsOf('Request').join(', ')}.
  request-hooks = FILE.js loads a module of them in every worker; registry
  entries of category Request are loaded the same way. See docs/hooks.md.
`;
}
