{
  "targets": [
    {
      "target_name": "liege_native",
      "sources": ["src/addon.c", "src/util.c", "src/mount.c", "src/ns.c",
                  "src/priv.c", "src/exec.c", "src/call.c", "src/net.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "liege-ns",
      "type": "executable",
      "sources": ["src/ns-helper.c"],
      "cflags": ["-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
