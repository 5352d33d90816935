// A logger that fails (a full disk, a syslog socket gone, a UDP target
// down) is said once, not once per line, and once again when it takes
// lines again: to the master's stderr (where the supervisor looks when the
// loggers do not work) and to the other loggers. Lines are lost meanwhile,
// never the instance: no write waits and no error ends the master.
// A destination that fails and recovers by turns (a syslog daemon whose
// buffer is full under load, a UDP target that is down) is back only once
// no line failed for QUIET_MS.
import { logEverywhere } from '../../log';
import { monoMs } from '../../os/clock';

const QUIET_MS = 1000;

export class Fault {
  private failing: string | undefined;
  private lastFail = 0;
  private lost = 0;

  /** `label`: the logger as configured (`syslog:web`, `file:/var/log/x.log`). */
  constructor(private readonly label: string, private readonly what = 'takes lines') {}

  /** A line could not be written (`code`: why). */
  failed(code: string): void {
    this.lost++;
    this.lastFail = monoMs();
    if (this.failing !== undefined) return;
    this.failing = code;
    say('error', this.label, code, `unable to write to the logger ${this.label}: ${code} (its lines are lost until it takes them again; serving goes on)`);
  }

  /** A line went through: recovered once none failed for QUIET_MS (a UDP
   * target that is down fails every other send: ICMP's answer comes later). */
  ok(): void {
    if (this.failing === undefined || monoMs() - this.lastFail < QUIET_MS) return;
    const lost = this.lost;
    this.failing = undefined;
    this.lost = 0;
    say('info', this.label, undefined, `the logger ${this.label} ${this.what} again (${lost} lines could not be sent meanwhile)`);
  }

  /** For a LogWriter's writes: failing (the code), or writing again (null; the writer says how many lines were lost). */
  state(code: string | null): void {
    if (code !== null) {
      if (this.failing !== undefined) return;
      this.failing = code;
      say('error', this.label, code, `unable to write to the logger ${this.label}: ${code} (its lines are lost until it takes writes again; serving goes on)`);
      return;
    }
    if (this.failing === undefined) return;
    this.failing = undefined;
    say('info', this.label, undefined, `the logger ${this.label} ${this.what} again (it says how many lines were lost)`);
  }
}

function say(level: 'info' | 'error', logger: string, errno: string | undefined, msg: string): void {
  logEverywhere('log', level, { logger, errno }, msg);
}
