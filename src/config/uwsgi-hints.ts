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
};

/** What to use instead of the ignored uWSGI option `name`, if liege knows. */
export function ignoredHint(name: string): string | undefined {
  return HINTS[name];
}
