/* liege-ns watch: the keeper of one attached daemon. It is a subreaper and
 * the daemon's parent, so everything the daemon starts stays in its subtree,
 * `setsid` and double-forked grandchildren included (orphans land here, not
 * on the master or on init) and is reaped here. It stops that whole subtree
 * (SIGTERM, SIGKILL after MERCY s) when
 *   - the master's end of FD closes (the master exited, was SIGKILLed, or is
 *     done with this daemon), or the master dies (PDEATHSIG, for FD -1);
 *   - it gets SIGTERM (the master stopping the daemon; other signals sent
 *     to the group, a pty's ^C included, are for the daemon alone);
 *   - the daemon exits (what it left behind goes with it).
 * It exits like tini: the daemon's exit code, or 128+N when signal N killed
 * it. One thread, no allocation: signals are only taken in ppoll. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ns-tree.h"

#define EXIT_SYSCALL 111

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }
static void on_chld(int sig) { (void)sig; }

/* Reap every exited child; remember the daemon's status. Returns the number
 * of children still there (-1: none at all). */
static int reap(pid_t daemon, int *daemon_status, int *daemon_done) {
  for (;;) {
    int st;
    pid_t r = waitpid(-1, &st, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1; /* ECHILD: nothing left */
    if (r == 0) return 1;
    if (r == daemon) {
      *daemon_status = st;
      *daemon_done = 1;
    }
  }
}

static void wait_ms(const sigset_t *mask, long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  ppoll(NULL, 0, &ts, mask);
}

int watch_main(int fd, int mercy_s, char **cmd) {
  pid_t master = getppid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  /* signals arrive only inside ppoll: no race between a check and a wait */
  sigset_t block, open;
  sigemptyset(&block);
  int taken[] = {SIGCHLD, SIGTERM};
  for (unsigned i = 0; i < sizeof taken / sizeof *taken; i++) sigaddset(&block, taken[i]);
  sigprocmask(SIG_BLOCK, &block, &open);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_chld;
  sigaction(SIGCHLD, &sa, NULL);
  /* the group's other signals are for the daemon, not for its keeper */
  int ignored[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU};
  for (unsigned i = 0; i < sizeof ignored / sizeof *ignored; i++) signal(ignored[i], SIG_IGN);
  /* the master's death reaches us even without a pipe (FD -1) */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != master) stop_signal = SIGTERM;

  pid_t daemon = fork();
  if (daemon < 0) {
    fprintf(stderr, "liege-ns: unable to fork: %s\n", strerror(errno));
    return EXIT_SYSCALL;
  }
  if (daemon == 0) {
    for (unsigned i = 0; i < sizeof ignored / sizeof *ignored; i++) signal(ignored[i], SIG_DFL);
    sigprocmask(SIG_SETMASK, &open, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fd >= 0) close(fd);
    execvp(cmd[0], cmd);
    fprintf(stderr, "liege-ns: unable to exec %s: %s\n", cmd[0], strerror(errno));
    _exit(EXIT_SYSCALL);
  }
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

  int status = 0, done = 0, fd_open = fd >= 0;
  while (!done && !stop_signal) {
    reap(daemon, &status, &done);
    if (done) break;
    struct pollfd p = {fd, POLLIN, 0};
    int r = ppoll(&p, fd_open ? 1 : 0, NULL, &open);
    if (r > 0) {
      char b[64];
      ssize_t n = read(fd, b, sizeof b);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break; /* the master is gone */
    }
  }

  /* stop the subtree: SIGTERM, up to MERCY s for it to go, then SIGKILL */
  signal_tree(getpid(), SIGTERM, 0);
  long left_ms = (mercy_s > 0 ? mercy_s : 3) * 1000L;
  while (reap(daemon, &status, &done) > 0 && left_ms > 0) {
    wait_ms(&open, 50);
    left_ms -= 50;
  }
  while (signal_tree(getpid(), SIGKILL, 1) > 0) {
    while (reap(daemon, &status, &done) > 0) wait_ms(&open, 10);
  }
  reap(daemon, &status, &done);
  if (!done) return 0;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
