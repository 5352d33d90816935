import { describe, expect, it } from 'vitest';
import { parseArgv } from '../../../src/config/argv';
import { LiegeError } from '../../../src/errors';

const parse = (argv: string[]) => {
  const { options, bare } = parseArgv(argv);
  return { options: options.map((o) => [o.def.name, o.value, o.typed]), bare };
};
const fail = (argv: string[]) => {
  try {
    parseArgv(argv);
  } catch (e) {
    return e as LiegeError;
  }
  throw new Error('no error');
};

describe('parseArgv (getopt_long as uWSGI uses it)', () => {
  it('a flag never takes the next argument', () => {
    expect(parse(['--vacuum', '-p', '2', '--lazy-apps', '--master'])).toEqual({
      options: [['vacuum', 'true', '--vacuum'], ['processes', '2', '-p 2'], ['lazy-apps', 'true', '--lazy-apps'], ['master', 'true', '--master']],
      bare: [],
    });
  });

  it('--print-config after a flag stays an option', () => {
    expect(parse(['--enable-threads', '--print-config']).options.map((o) => o[0])).toEqual(['enable-threads', 'print-config']);
  });

  it('values: --name VALUE, --name=VALUE, -p4, -p 4; an alias keeps its option', () => {
    expect(parse(['--workers', '3', '--processes=4', '-p5']).options).toEqual([['processes', '3', '--workers 3'], ['processes', '4', '--processes=4'], ['processes', '5', '-p5']]);
  });

  it('optional_argument takes a value only after =', () => {
    expect(parse(['--ksm', __filename])).toEqual({ options: [['ksm', '', '--ksm']], bare: [__filename] });
    expect(parse(['--ksm=5']).options).toEqual([['ksm', '5', '--ksm=5']]);
    // `--ksm 5` with no file 5: the value meant for it, said (uWSGI read a config `5`)
    expect(() => parse(['--ksm', '5'])).toThrow(/--ksm takes its value only as --ksm=VALUE \(an argument after it is a config file, and there is no file 5\)/);
  });

  it('short flags cluster, a value ends the cluster', () => {
    expect(parse(['-MLp3']).options).toEqual([['master', 'true', '-MLp3'], ['disable-logging', 'true', '-MLp3'], ['processes', '3', '-MLp3']]);
  });

  it('bare arguments and -- are config files', () => {
    expect(parse(['a.ini', '--master', '--', '--not-an-option']).bare).toEqual(['a.ini', '--not-an-option']);
  });

  it('errors quote the argument as typed', () => {
    expect(fail(['--procesess', '4']).describe()).toMatch(/unknown option --procesess \(did you mean --processes\?\): `--procesess`/);
    expect(fail(['-X']).text).toBe('-X');
    expect(fail(['-p']).describe()).toMatch(/option -p needs a value: `-p`/);
  });
});
