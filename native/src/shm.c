/* shared memory family: a small region a worker writes and its master reads
 * without a message — the start of the request in flight, for harakiri (a
 * handler that blocks the event loop cannot send anything). memfd_create +
 * mmap(MAP_SHARED); the mapping is an external ArrayBuffer, so JS writes it
 * with a plain store, no call per request; unmapped when it is collected. */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static void unmap(napi_env env, void *data, void *hint) {
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value map_fd(napi_env env, int fd, size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return throw_errno(env, errno, "mmap", NULL);
  napi_value buf;
  if (napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &buf) != napi_ok) {
    munmap(p, size);
    napi_throw_error(env, "ENOTSUP", "external ArrayBuffers are not supported by this Node");
    return NULL;
  }
  return buf;
}

/* shmCreate(size) -> [fd (close-on-exec), ArrayBuffer of `size` zero bytes] */
static napi_value ShmCreate(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t size = arg_int(env, argv[0], 0);
  if (size <= 0) return throw_errno(env, EINVAL, "memfd_create", NULL);
  int fd = memfd_create("liege-slot", MFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "memfd_create", NULL);
  int r;
  do r = ftruncate(fd, size); while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "ftruncate", NULL);
  }
  napi_value buf = map_fd(env, fd, (size_t)size);
  if (!buf) {
    close(fd);
    return NULL;
  }
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, fd));
  napi_set_element(env, out, 1, buf);
  return out;
}

/* shmMap(fd, size) -> ArrayBuffer over the region another process created */
static napi_value ShmMap(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd = arg_int(env, argv[0], -1);
  int32_t size = arg_int(env, argv[1], 0);
  if (fd < 0 || size <= 0) return throw_errno(env, EINVAL, "mmap", NULL);
  return map_fd(env, fd, (size_t)size);
}

/* memfd() -> fd: an anonymous file in memory (close-on-exec), for a hook
 * program's output: no disk to fill, nothing to remove. */
static napi_value Memfd(napi_env env, napi_callback_info info) {
  int fd = memfd_create("liege-output", MFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "memfd_create", NULL);
  return make_int(env, fd);
}

const export_entry shm_exports[] = {
  {"shmCreate", ShmCreate},
  {"memfd", Memfd},
  {"shmMap", ShmMap},
  {NULL, NULL},
};
