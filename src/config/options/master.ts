// Options of the master: reload, recycling, harakiri, respawn, watchdog.
import type { OptionDef } from '../option-def';

export const MASTER_OPTIONS = [
  { name: 'fallback-config', type: 'string', group: 'master', help: 're-exec liege in place with this config when the instance ends with status 1 (fatal hook, bind failure, app that does not load, exit:1), after the as-user-atexit hooks; never twice with the same config in a chain' },
] as const satisfies readonly OptionDef[];
