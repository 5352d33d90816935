// A real nginx for the tests: its own prefix, config, pid and error log in
// a scratch dir, loopback ports only, workers as nobody (so unix socket
// permissions matter, as for www-data), stopped by its master's pid.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

// Debian's /etc/nginx/uwsgi_params, inlined so the test does not depend on it
export const UWSGI_PARAMS = `
uwsgi_param  QUERY_STRING       $query_string;
uwsgi_param  REQUEST_METHOD     $request_method;
uwsgi_param  CONTENT_TYPE       $content_type;
uwsgi_param  CONTENT_LENGTH     $content_length;
uwsgi_param  REQUEST_URI        $request_uri;
uwsgi_param  PATH_INFO          $document_uri;
uwsgi_param  DOCUMENT_ROOT      $document_root;
uwsgi_param  SERVER_PROTOCOL    $server_protocol;
uwsgi_param  REQUEST_SCHEME     $scheme;
uwsgi_param  HTTPS              $https if_not_empty;
uwsgi_param  REMOTE_ADDR        $remote_addr;
uwsgi_param  REMOTE_PORT        $remote_port;
uwsgi_param  SERVER_PORT        $server_port;
uwsgi_param  SERVER_NAME        $server_name;
uwsgi_param  HTTP_HOST          $host;
`;

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

export interface Nginx {
  proc: ChildProcess;
  stop(): Promise<void>;
  errorLog(): string;
}

/** Starts nginx with these `server { … }` blocks; resolves once `port` accepts. */
export async function startNginx(dir: string, servers: string, port: number): Promise<Nginx> {
  const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'));
  fs.chmodSync(prefix, 0o755);
  fs.writeFileSync(path.join(prefix, 'uwsgi_params'), UWSGI_PARAMS);
  const temp = ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t === 'body' ? 'client_body' : t}_temp_path ${prefix}/${t};`).join('\n  ');
  const conf = `daemon off;
master_process on;
user nobody nogroup;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 512; }
http {
  access_log off;
  ${temp}
  ${servers}
}
`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const proc = spawn(NGINX!, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const end = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (proc.exitCode !== null || Date.now() > end) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    errorLog: () => { try { return fs.readFileSync(path.join(prefix, 'error.log'), 'utf8'); } catch { return ''; } },
    stop: async () => {
      if (proc.exitCode !== null) return;
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM'); // the nginx master stops its workers
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}
