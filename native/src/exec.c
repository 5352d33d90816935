/* exec family: run a program and wait for it without forking the whole Node
 * heap (vfork + execve, ~10x cheaper than child_process.spawnSync), and
 * execve in place (reload keeps the pid and inherited fds). */
#define _GNU_SOURCE
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>

extern char **environ;

/* stdio must survive exec even when our parent gave it to us close-on-exec
 * (libuv's spawn dup2s for the same reason). */
static void inherit_stdio(void) {
  for (int fd = 0; fd < 3; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
}

/* Reads a JS array of strings into a NULL-terminated char* array. */
static char **arg_strv(napi_env env, napi_value arr) {
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  char **v = calloc(n + 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i] = arg_string(env, e);
  }
  return v;
}

static void free_strv(char **v) {
  for (char **p = v; p && *p; p++) free(*p);
  free(v);
}

/* The vfork child: default signal dispositions (Node ignores SIGPIPE and
 * catches others), an empty mask, death with the parent, then exec. Only
 * async-signal-safe calls here: the child shares the parent's memory. */
static void child_exec(const char *path, char **argv, int pdeathsig) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
  if (pdeathsig) prctl(PR_SET_PDEATHSIG, pdeathsig);
  inherit_stdio();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(path, argv);
  _exit(127);
}

/* spawnWait(path, argv) -> [exitCode, termSignal]: runs path with argv in the
 * current environment and cwd, waits for it (retrying EINTR). */
static napi_value SpawnWait(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]);
  char **args = arg_strv(env, argv[1]);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) child_exec(path, args, SIGKILL);
  int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  free(path);
  free_strv(args);
  if (pid < 0) return throw_errno(env, err, "vfork", NULL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return throw_errno(env, errno, "waitpid", NULL);
  }
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, make_int(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  napi_set_element(env, out, 1, make_int(env, WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  return out;
}

/* execve(path, argv): replace this process image, keeping pid and every fd
 * without FD_CLOEXEC. Returns only on failure (throws). */
static napi_value Execv(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]);
  char **args = arg_strv(env, argv[1]);
  inherit_stdio();
  execv(path, args);
  int err = errno;
  napi_value out = throw_errno(env, err, "execve", path);
  free(path);
  free_strv(args);
  return out;
}

/* setCloexec(fd, on): mark an fd to be inherited (on=false) across exec. */
static napi_value SetCloexec(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = arg_int(env, argv[0], -1);
  bool on = true;
  napi_get_value_bool(env, argv[1], &on);
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)) < 0)
    return throw_errno(env, errno, "fcntl", NULL);
  return make_undefined(env);
}

const export_entry exec_exports[] = {
  {"spawnWait", SpawnWait}, {"execv", Execv}, {"setCloexec", SetCloexec}, {NULL, NULL}};
