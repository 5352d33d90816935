// The attach protocol between `liege attach` and a pty daemon's socket.
// Daemon → viewer: the raw terminal output. Viewer → daemon: frames of
// [type byte, payload length (uint32 BE), payload].

export const ATTACH_FRAME = {
  input: 0x69, // 'i': keystrokes
  resize: 0x72, // 'r': {"cols":N,"rows":N}
} as const;

/** Recent output a new viewer is shown first. */
export const SCROLLBACK_BYTES = 64 * 1024;

/** Ctrl-\ then d detaches; Ctrl-\ twice sends one Ctrl-\. */
export const DETACH_PREFIX = 0x1c;
export const DETACH_KEY = 0x64;

export function frame(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}
