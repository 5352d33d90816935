// Options of the hook registry, hook directories, request hooks.
import type { OptionDef } from '../option-def';

export const REGISTRY_OPTIONS = [
  { name: 'hooks-db', type: 'string', default: '/etc/liege/hooks.yaml', group: 'hooks', help: 'the hook registry file written by `liege hooks add` (YAML, or JSON for *.json), loaded at start and every reload (env LIEGE_HOOKS_DB)' },
  { name: 'hook-dir', type: 'string', repeatable: true, group: 'hooks', help: 'a hook directory: every executable in DIR/<phase>/ runs in that phase, in name order (run-parts rules)' },
  { name: 'request-hooks', type: 'string', repeatable: true, group: 'hooks', help: 'a module of request hooks loaded in every worker before the app (exports a function (liege) => … or an object event → function)' },
] as const satisfies readonly OptionDef[];
