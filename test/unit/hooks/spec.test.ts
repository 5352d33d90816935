import { describe, expect, it } from 'vitest';
import type { HookLine } from '../../../src/config/config';
import { LiegeError } from '../../../src/errors';
import { ACTIONS, actionNames } from '../../../src/hooks/actions';
import { planFromLines, parseHookLine } from '../../../src/hooks/spec';

const line = (option: string, value: string, n = 1): HookLine => {
  const [family, ...rest] = option.split('-');
  return { option, phase: rest.join('-'), family: family as HookLine['family'], value, origin: { file: 'x.ini', line: n } };
};
const fails = (option: string, value: string) => {
  try {
    parseHookLine(line(option, value));
  } catch (e) {
    return e as LiegeError;
  }
  throw new Error('expected a config error');
};

describe('hook lines', () => {
  it('parses action, args and private marker', () => {
    const h = parseHookLine(line('hook-as-root', '!exec:echo hi'));
    expect([h.action.name, h.parsed, h.private]).toEqual(['exec', 'echo hi', true]);
  });

  it('knows uWSGI\'s base actions (35 names + aliases)', () => {
    for (const n of ['exec', 'safeexec', 'call', 'callret', 'callint', 'callintret', 'mount', 'umount', 'cd', 'chdir', 'mkdir', 'putenv', 'chmod', 'chown', 'chown2', 'sticky', 'create', 'creat', 'write', 'writen', 'append', 'appendn', 'writefifo', 'spinningfifo', 'unlink', 'hostname', 'alarm', 'wait_for_fs', 'wait_for_file', 'wait_for_dir', 'wait_for_socket', 'unix_signal', 'exit', 'print', 'log']) {
      expect(actionNames()).toContain(n);
    }
    expect(ACTIONS.length).toBeGreaterThanOrEqual(31);
  });

  it.each([
    ['hook-as-root', 'exec echo', 'LIEGE_ERR_HOOK_SYNTAX'],
    ['hook-as-root', 'nope:x', 'LIEGE_ERR_HOOK_ACTION'],
    ['hook-as-root', 'rpc:hello', 'LIEGE_ERR_HOOK_ACTION'],
    ['hook-as-root', 'mount:tmpfs none /mnt nodev,bogus', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'mount:tmpfs none', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'umount:/mnt lazy', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'chmod:/x 999', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'chown2:/x a b', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'exit:abc', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'callint:abs x', 'LIEGE_ERR_HOOK_ARGS'],
    ['hook-as-root', 'exec:', 'LIEGE_ERR_HOOK_ARGS'],
    ['mount-as-root', 'tmpfs none /mnt rw', 'LIEGE_ERR_HOOK_ARGS'],
  ])('%s = %s → %s', (opt, value, code) => {
    const e = fails(opt, value);
    expect(e.code).toBe(code);
    expect(e.describe()).toMatch(/^x\.ini:1: /);
  });

  it('orders a phase: hook chain, then mount, umount, exec, call (each in config order)', () => {
    const plan = planFromLines([
      line('call-pre-jail', 'sync', 1),
      line('exec-pre-jail', 'echo 1', 2),
      line('umount-pre-jail', '/m', 3),
      line('mount-pre-jail', 'tmpfs none /m', 4),
      line('hook-pre-jail', 'exec:echo h1', 5),
      line('exec-pre-jail', 'echo 2', 6),
      line('hook-pre-jail', 'exec:echo h2', 7),
    ]);
    expect(plan.get('pre-jail')!.map((h) => h.origin.line)).toEqual([5, 7, 4, 3, 2, 6, 1]);
  });
});

describe('documented examples', () => {
  it.each(ACTIONS.map((a) => [a.name, a.example]))('%s example parses: %s', (_name, example) => {
    const eq = example.indexOf(' = ');
    const option = example.slice(0, eq);
    expect(() => parseHookLine(line(option, example.slice(eq + 3)))).not.toThrow();
  });
});
