// The request log's writer against a destination that fails every write
// (/dev/full: ENOSPC): each batch costs at most its failed write and the
// notice's, the writer goes idle (it kept retrying the notice in a loop),
// and once the destination takes writes again the next batch is preceded
// by the count of the lines lost; the failure and the recovery are reported
// once each (the master says them on the console).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../../src/os/native';
import { LogWriter } from '../../../src/os/log-writer';

const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) fs.closeSync(fd);
});

const idle = (w: LogWriter) => new Promise<void>((resolve) => w.whenIdle(resolve));
const batch = (text: string) => Buffer.from(text);
const notice = (n: number) => `lost ${n}\n`;

describe('log writer', () => {
  it('a destination that fails every write: batches dropped and counted, the writer idle, a notice before the first batch written again', async () => {
    const fd = fs.openSync('/dev/full', 'w');
    opened.push(fd);
    const released: Buffer[] = [];
    const states: Array<string | null> = [];
    const w = new LogWriter(fd, notice, (b) => released.push(b), (s) => states.push(s));
    const a = batch('a1\na2\n');
    const b = batch('b1\n');
    w.write(a, a.length, 2);
    w.write(b, b.length, 1);
    await idle(w); // never came: the notice was retried at once, forever
    expect(released).toEqual([a, b]);
    const c = batch('c1\nc2\nc3\n');
    w.write(c, c.length, 3);
    await idle(w);
    // the destination works again (the same fd, now a file)
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'log-writer-')), 'log');
    const good = fs.openSync(file, 'a');
    native.dup2(good, fd);
    fs.closeSync(good);
    const d = batch('d1\n');
    w.write(d, d.length, 1);
    await idle(w);
    expect(fs.readFileSync(file, 'utf8')).toBe('lost 6\nd1\n');
    // the failure and the recovery, each said once
    expect(states).toEqual(['ENOSPC', null]);
    fs.rmSync(path.dirname(file), { recursive: true });
  }, 5000);
});
