// Options of the master: reload, recycling, harakiri, respawn, watchdog.
import type { OptionDef } from '../option-def';

export const MASTER_OPTIONS = [
  { name: 'fallback-config', type: 'string', group: 'master', help: 're-exec liege in place with this config when the instance ends with status 1 (fatal hook, bind failure, app that does not load, exit:1), after the as-user-atexit hooks; never twice with the same config in a chain' },
  { name: 'harakiri', short: 't', type: 'int', min: 0, default: '0', group: 'master', help: 'seconds a request may run (or a worker\'s event loop stay blocked) before the worker is SIGKILLed and replaced; 0 = never' },
  { name: 'harakiri-verbose', type: 'flag', group: 'master', help: 'log the request, the worker, its request count and RSS when harakiri kills' },
  { name: 'max-requests', short: 'R', type: 'int', min: 0, default: '0', group: 'master', help: 'recycle a worker (graceful: a replacement accepts first, then it drains) after this many requests' },
  { name: 'max-requests-delta', type: 'int', min: 0, default: '0', group: 'master', help: 'add worker id × delta requests to max-requests, so workers do not recycle together' },
  { name: 'reload-on-rss', type: 'int', min: 0, default: '0', group: 'master', help: 'recycle a worker (graceful) whose RSS exceeds this many MiB' },
  { name: 'evil-reload-on-rss', type: 'int', min: 0, default: '0', group: 'master', help: 'SIGKILL a worker whose RSS exceeds this many MiB (checked by the master every second)' },
  { name: 'max-worker-lifetime', type: 'int', min: 0, default: '0', group: 'master', help: 'recycle a worker (graceful) after this many seconds' },
  { name: 'max-worker-lifetime-delta', type: 'int', min: 0, default: '0', group: 'master', help: 'add worker id × delta seconds to max-worker-lifetime' },
  { name: 'min-worker-lifetime', type: 'int', min: 0, default: '10', group: 'master', help: 'seconds a worker must live before a recycling (not harakiri) may end it' },
  { name: 'worker-reload-mercy', type: 'int', min: 1, default: '60', group: 'master', help: 'seconds a draining worker gets to finish its requests (a stop: at most reload-mercy)' },
  { name: 'spare-workers', type: 'int', min: 0, max: 64, default: '0', group: 'master', help: 'warm spare workers: started with the app loaded but not accepting; a worker that dies or is recycled hands its slot to a spare, which accepts at once, and a new spare starts in the background (each spare costs one worker\'s memory)' },
  { name: 'max-fd', type: 'int', min: 32, max: 1073741816, group: 'master', help: 'the open file limit (RLIMIT_NOFILE, soft and hard) of the instance and its workers, set after the asap hooks (raising it takes root: before the privilege drop); at least 32: a Node process opens 18 files as it starts' },
  { name: 'need-app', type: 'flag', group: 'master', help: 'exit with status 22 when the app fails to load while nothing serves yet (the first start); a reload or a respawn into a broken app keeps the running workers serving' },
  { name: 'respawn-backoff-max', type: 'int', min: 0, default: '30', group: 'master', help: 'cap (seconds) of the exponential respawn delay of a worker that keeps dying early (crash loop)' },
] as const satisfies readonly OptionDef[];
