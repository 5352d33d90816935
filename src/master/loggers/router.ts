// Where a line goes among the loggers (uWSGI's uwsgi_master_log and
// uwsgi_master_req_log): every route whose regular expression matches it
// sends it to its named logger; a line no route took goes to every unnamed
// logger; a line no logger took is not the router's (false): the caller
// writes it to stderr, as without loggers. Each logger's lines go through
// the encoders meant for it (log-encoder, or log-req-encoder for request
// lines; those written NAME:LOGGER only for that logger).
// The regular expressions see the line without its newline (PCRE's `$`
// matches before a final newline; JavaScript's would not).
import type { Encode } from '../log-encoders';
import type { Sink } from './file-sink';

export interface Out {
  sink: Sink;
  encode?: Encode;
}

export interface Table {
  all: Out[]; // the unnamed loggers
  routes: Array<{ re: RegExp; out: Out }>;
}

function send(out: Out, text: string): void {
  const line = `${text}\n`;
  out.sink.write(out.encode ? out.encode(line) : line);
}

/** The router of one table: true when a logger took the line. */
export function router(t: Table): (text: string) => boolean {
  const { all, routes } = t;
  return (text) => {
    let routed = false;
    for (const r of routes) {
      if (!r.re.test(text)) continue;
      send(r.out, text);
      routed = true;
    }
    if (routed) return true;
    for (const out of all) send(out, text);
    return all.length > 0;
  };
}
