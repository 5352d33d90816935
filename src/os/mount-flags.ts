// Linux mount(2)/umount2(2) flag bits by uWSGI's names (core/mount.c);
// first match wins. force/detach are umount2's MNT_* bits.
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;

export const MOUNT_FLAGS: Record<string, number> = {
  bind: MS_BIND, dirsync: 128, mandlock: 64, move: 8192, noatime: 1024, nodev: 4, noexec: 8,
  rdonly: 1, readonly: 1, ro: 1, remount: 32, nosuid: 2, sync: 16,
  force: 1 /* MNT_FORCE */, detach: 2 /* MNT_DETACH */, rec: MS_REC, recursive: MS_REC,
  private: MS_PRIVATE, shared: 1 << 20,
};
