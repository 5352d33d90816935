// Pure parts of os/: unshare words → CLONE bits, mount flag names, user and
// group look-ups (read from this root's /etc), sd_notify without systemd.
import { describe, expect, it } from 'vitest';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, unshareFlags } from '../../../src/os/jail';
import { MOUNT_FLAGS, MS_BIND, MS_REC } from '../../../src/os/mount-flags';
import { sdNotify } from '../../../src/os/notify';
import { lookupGroup, lookupUser } from '../../../src/os/privileges';

describe('os pure parts', () => {
  it('unshare words map to CLONE_* bits (mount = ns = mnt), separators are spaces or commas', () => {
    expect(unshareFlags('uts')).toBe(CLONE_NEWUTS);
    expect(unshareFlags('ipc,net  pid')).toBe(CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID);
    expect(unshareFlags('mount')).toBe(CLONE_NEWNS);
    expect(unshareFlags('ns,mnt')).toBe(CLONE_NEWNS);
    expect(unshareFlags('')).toBe(0);
  });

  it('mount flags by uWSGI name', () => {
    expect(MOUNT_FLAGS.bind).toBe(MS_BIND);
    expect(MOUNT_FLAGS.recursive).toBe(MS_REC);
    expect(MOUNT_FLAGS.ro).toBe(MOUNT_FLAGS.readonly);
    expect(MOUNT_FLAGS.nosuid | MOUNT_FLAGS.nodev).toBe(6);
  });

  it('users and groups by name or number', () => {
    expect(lookupUser('root')).toEqual({ name: 'root', uid: 0, gid: 0 });
    expect(lookupUser('0')?.name).toBe('root');
    expect(lookupUser('nobody')?.uid).toBe(65534);
    // an unknown number is still a uid (no group known), an unknown name is not
    expect(lookupUser('54321')).toEqual({ name: '54321', uid: 54321, gid: -1 });
    expect(lookupUser('no-such-user-here')).toBeUndefined();
    expect(lookupGroup('root')).toBe(0);
    expect(lookupGroup('777')).toBe(777);
    expect(lookupGroup('no-such-group-here')).toBeUndefined();
  });

  it('sd_notify: nothing without NOTIFY_SOCKET, an error value (not a throw) for a socket not there', () => {
    const saved = process.env.NOTIFY_SOCKET;
    try {
      delete process.env.NOTIFY_SOCKET;
      expect(sdNotify({ READY: 1 })).toBeUndefined();
      process.env.NOTIFY_SOCKET = '/nonexistent/notify.sock';
      expect(sdNotify({ READY: 1 })).toMatchObject({ code: 'ENOENT', syscall: 'sendto' });
    } finally {
      if (saved === undefined) delete process.env.NOTIFY_SOCKET;
      else process.env.NOTIFY_SOCKET = saved;
    }
  });
});
