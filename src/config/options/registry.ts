// Options of the hook registry, hook directories, request hooks.
import type { OptionDef } from '../option-def';

export const REGISTRY_OPTIONS = [] as const satisfies readonly OptionDef[];
