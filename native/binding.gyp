{
  "targets": [
    {
      "target_name": "liege_native",
      "sources": ["src/addon.c", "src/util.c", "src/mount.c", "src/ns.c",
                  "src/priv.c", "src/exec.c", "src/call.c", "src/net.c", "src/proc.c",
                  "src/proc-tree.c", "src/shm.c", "src/sender.c", "src/heap.cc"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "cflags_c": ["-std=gnu11"],
      "libraries": ["-ldl", "-lpthread"]
    },
    {
      "target_name": "liege-early",
      "type": "shared_library",
      "sources": ["src/early-signals.c"],
      "cflags": ["-Wall", "-Wextra", "-std=gnu11", "-fPIC"]
    },
    {
      "target_name": "liege-ns",
      "type": "executable",
      "sources": ["src/ns-helper.c", "src/ns-guard.c", "src/proc-tree.c"],
      "cflags": ["-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
