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
 *   liege-ns watch FD MERCY -- PROGRAM ARGS...
 *     for attached daemons, started as the leader of their own process
 *     group: fork a watcher that blocks reading FD, then exec PROGRAM in
 *     place (so PROGRAM's parent, $PPID, is the master). When the master's
 *     end of FD closes (it exited, was SIGKILLed, or is done with this
 *     daemon) the watcher SIGTERMs the group and SIGKILLs what is left of
 *     it after MERCY seconds: nothing a daemon started outlives the master.
 *   liege-ns guard MASTER GRACE_MS
 *     the master's death watch (ns-guard.c), detached (prints its pid): when
 *     MASTER dies, even by SIGKILL, it SIGKILLs what was MASTER's process
 *     tree after GRACE_MS, orphans that landed on the master included.
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

int guard_main(pid_t master, int grace_ms); /* ns-guard.c */

/* watch mode: a watcher child waits for EOF on FD (the master's end of a
 * pipe closes when the master exits or dies, or when it is done with this
 * daemon), then stops this process group: SIGTERM, SIGKILL after MERCY s. */
static int watch(int fd, int mercy_s, char **cmd) {
  pid_t w = fork();
  if (w < 0) return 111;
  if (w == 0) {
    /* out of the group it watches, so the group is empty once the daemon
     * and what it started are gone, and the watcher need not wait MERCY */
    pid_t group = getpgrp();
    setpgid(0, 0);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    char b;
    for (;;) {
      ssize_t n = read(fd, &b, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    kill(-group, SIGTERM);
    int ticks = (mercy_s > 0 ? mercy_s : 3) * 50;
    for (int i = 0; i < ticks; i++) {
      if (kill(-group, 0) < 0 && errno == ESRCH) _exit(0);
      usleep(20000);
    }
    kill(-group, SIGKILL);
    _exit(0);
  }
  close(fd);
  execvp(cmd[0], cmd);
  fprintf(stderr, "liege-ns: unable to exec %s: %s\n", cmd[0], strerror(errno));
  return 111;
}

static int usage(void) {
  fprintf(stderr, "usage: liege-ns clone FLAGS PIDFD -- PROGRAM ARGS... | unshare FLAGS -- PROGRAM ARGS... | watch FD MERCY -- PROGRAM ARGS... | guard MASTER GRACE_MS\n");
  return 100;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "guard")) return guard_main(atoi(argv[2]), atoi(argv[3]));
  if (argc < 5) return usage();
  int flags = (int)strtol(argv[2], NULL, 0);
  if (!strcmp(argv[1], "watch")) {
    if (argc < 6 || strcmp(argv[4], "--")) return usage();
    return watch(flags, atoi(argv[3]), argv + 5);
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
