// Options of the master: reload, recycling, harakiri, respawn, watchdog.
import type { OptionDef } from '../option-def';

export const MASTER_OPTIONS = [] as const satisfies readonly OptionDef[];
