// What to write instead of a uWSGI option liege ignores, said in its
// warning and in `liege --help`: the options a config migrated from uWSGI
// names most (its quickstart's `--http :9090 --wsgi-file app.py`), whose
// bare "ignored" would leave the instance with no socket or no app and the
// user guessing why.

const APP = 'the app is a Node module: `node-app = app.js` (a handler, an express/koa/hono app, a fetch handler or a self-listening server)';
const PLUGINS = 'no plugins: Node is built in, the app is `node-app`';
const PYENV = 'a Python environment: a Node app finds its packages in node_modules beside it (`chdir` to start there)';
const CHEAPER = '`processes` workers run at all times; `spare-workers` keeps warm extras for fast replacement';
const STATIC = 'no static files: let nginx serve them (`location /static`), or the app (express.static)';

const HINTS: Readonly<Record<string, string>> = {
  http: 'no HTTP router process in front of the workers: use `http-socket = ADDR`, the workers speak HTTP themselves',
  https: 'no HTTPS router: use `https-socket = ADDR,CERT,KEY`, TLS in the workers',
  module: APP, wsgi: APP, 'wsgi-file': APP, file: APP, callable: APP, mount: APP, 'pymodule-alias': APP, eval: APP,
  'manage-script-name': 'a mount point: the app sees the whole path (route it in the app, or strip it in nginx)',
  plugin: PLUGINS, plugins: PLUGINS, 'need-plugin': PLUGINS, 'need-plugins': PLUGINS, 'plugins-dir': PLUGINS, 'plugin-dir': PLUGINS,
  home: PYENV, virtualenv: PYENV, venv: PYENV, pyhome: PYENV, pythonpath: PYENV, 'python-path': PYENV, pp: PYENV,
  cheaper: CHEAPER, 'cheaper-algo': CHEAPER, 'cheaper-initial': CHEAPER, 'cheaper-step': CHEAPER,
  'py-autoreload': 'no file watching: `touch-reload = FILE` (touch it after a deploy) or a master fifo\'s `r`',
  'static-map': STATIC, 'check-static': STATIC,
  'no-orphans': 'always so: nothing an instance started outlives it',
  'memory-report': 'the stats server (`stats = ADDR`, `liege top ADDR`) shows every worker\'s rss',
  'buffer-size': 'any uwsgi packet is read, up to the protocol\'s 64 KiB, and HTTP headers up to Node\'s limit (16 KiB)',
  'post-buffering': 'the app reads the request body as a stream',
  'offload-threads': 'a worker serves many requests at once on its event loop',
  'single-interpreter': 'a Node worker runs one app',
  'log-maxsize': 'rotate with `logger = file:logfile=PATH,maxsize=BYTES`, or logrotate and `touch-logreopen`',
  'log-backupname': 'rotate with `logger = file:logfile=PATH,maxsize=BYTES,backupname=OLD`',
  'limit-as': 'the address space of a Node process is mostly reserved, not used: recycle on memory with `reload-on-rss` / `evil-reload-on-rss`',
  'reload-on-as': 'recycle on memory with `reload-on-rss` (the address space of a Node process is mostly reserved, not used)',
  'evil-reload-on-as': 'recycle on memory with `evil-reload-on-rss`',
  'http-keepalive': '`http-socket` always keeps connections alive (the app\'s http.Server)',
  'add-header': 'set headers in the app, or in nginx (`add_header`)',
  'ignore-sigpipe': 'always so: a client that left never ends a worker',
  'ignore-write-errors': 'always so: a client that left never ends a worker',
  'disable-write-exception': 'always so: a client that left never ends a worker',
};

/** What to use instead of the ignored uWSGI option `name`, if liege knows. */
export function ignoredHint(name: string): string | undefined {
  return HINTS[name];
}

/** The options with a hint (a test checks that liege still ignores each). */
export function hintedOptions(): string[] {
  return Object.keys(HINTS);
}
