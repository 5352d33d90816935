/* liege-ns: the single-threaded helper for what a multi-threaded Node
 * process cannot do itself.
 *
 *   liege-ns clone FLAGS PIDFD -- PROGRAM ARGS...
 *     clone(2) a child in new namespaces (FLAGS: a number of CLONE_NEW*
 *     bits); the child execs PROGRAM (so it is pid 1 of a new pid namespace).
 *     The helper writes the child's pid + "\n" to fd PIDFD, closes it, then
 *     waits for the child and exits with its status (128+N when killed by
 *     signal N). SIGTERM/SIGINT/SIGHUP/SIGQUIT are forwarded to the child.
 *   liege-ns unshare FLAGS -- PROGRAM ARGS...
 *     unshare(2) FLAGS (user namespaces included) and exec PROGRAM in place.
 *   liege-ns guard MERCY -- PROGRAM ARGS...
 *     for attached daemons: run PROGRAM as a child in a process group of
 *     its own and wait for it. A signal to the guard is forwarded to that
 *     whole group; when the process that spawned the
 *     guard dies (PR_SET_PDEATHSIG), the group gets SIGTERM, then SIGKILL
 *     after MERCY seconds — so no daemon, nor anything it started, outlives
 *     the master. Exits with PROGRAM's status.
 *
 * Exit codes (s6 style): 100 usage, 111 system call failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

static pid_t child;
static char stack[64 * 1024];
static char **child_argv;

static void forward(int sig) { if (child > 0) kill(child, sig); }

static int child_main(void *arg) {
  (void)arg;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  execvp(child_argv[0], child_argv);
  fprintf(stderr, "liege-ns: unable to exec %s: %s\n", child_argv[0], strerror(errno));
  return 111;
}

static volatile sig_atomic_t mercy;
static pid_t spawner;

/* the daemon runs in a process group of its own (pgid = its pid), so the
 * guard can signal everything it started without signalling itself */
static void guard_signal(int sig) {
  if (child <= 0) return;
  if (sig == SIGALRM) { kill(-child, SIGKILL); return; }
  if (getppid() != spawner) alarm(mercy); /* the master died */
  kill(-child, sig);
}

static int guard(int mercy_s, char **cmd) {
  spawner = getppid();
  mercy = mercy_s > 0 ? mercy_s : 3;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = guard_signal;
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != spawner) return 111;
  pid_t pid = fork();
  if (pid < 0) return 111;
  if (pid == 0) {
    setpgid(0, 0);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &dfl, NULL);
    execvp(cmd[0], cmd);
    fprintf(stderr, "liege-ns: unable to exec %s: %s\n", cmd[0], strerror(errno));
    _exit(111);
  }
  setpgid(pid, pid);
  child = pid;
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 111;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

static int usage(void) {
  fprintf(stderr, "usage: liege-ns clone FLAGS PIDFD -- PROGRAM ARGS... | unshare FLAGS -- PROGRAM ARGS... | guard MERCY -- PROGRAM ARGS...\n");
  return 100;
}

int main(int argc, char **argv) {
  if (argc < 5) return usage();
  int flags = (int)strtol(argv[2], NULL, 0);
  if (!strcmp(argv[1], "guard")) {
    if (strcmp(argv[3], "--")) return usage();
    return guard(flags, argv + 4);
  }
  if (!strcmp(argv[1], "unshare")) {
    if (strcmp(argv[3], "--")) return usage();
    if (unshare(flags)) { fprintf(stderr, "liege-ns: unable to unshare: %s\n", strerror(errno)); return 111; }
    execvp(argv[4], argv + 4);
    fprintf(stderr, "liege-ns: unable to exec %s: %s\n", argv[4], strerror(errno));
    return 111;
  }
  if (strcmp(argv[1], "clone") || argc < 6 || strcmp(argv[4], "--")) return usage();
  int pidfd = atoi(argv[3]);
  child_argv = argv + 5;
  if (pidfd >= 0) {
    /* the child must not keep the pid pipe open */
    int fl = fcntl(pidfd, F_GETFD);
    if (fl >= 0) fcntl(pidfd, F_SETFD, fl | FD_CLOEXEC);
  }
  child = clone(child_main, stack + sizeof stack, flags | SIGCHLD, NULL);
  if (child < 0) { fprintf(stderr, "liege-ns: unable to clone: %s\n", strerror(errno)); return 111; }
  if (pidfd >= 0) { dprintf(pidfd, "%d\n", (int)child); close(pidfd); }
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], forward);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return 111;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
