// Options of bundles, settings, attachable daemons.
import type { OptionDef } from '../option-def';

export const BUNDLE_OPTIONS = [] as const satisfies readonly OptionDef[];
