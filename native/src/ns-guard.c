/* liege-ns guard MASTER GRACE_MS: the master's death watch, a process apart
 * from the master's event loop and outside its tree (it forks, prints the
 * pid it will watch from, and its parent exits: started before the master
 * becomes a subreaper, it lands on init, so the master's children are only
 * its workers and daemons). Every second it records the master's whole
 * process tree (pid + start time). When the master dies — even by SIGKILL —
 * it waits GRACE_MS (what a worker gets to finish its requests), then
 * SIGKILLs every recorded process still alive and its subtree. It catches
 * what nothing else can: an app's double-forked child that landed on the
 * master (a subreaper) and would land on init next. A reload keeps it (the
 * master's pid and start time do not change across execve). Only SIGKILL
 * stops it; the master's stop kills it.
 * What was born in the master's last second is in no record: it is found
 * by its environment instead. The master puts LIEGE_GUARD_PID=<this guard>
 * in its own before it spawns anything, so every descendant that kept the
 * environment it was started with carries it, wherever it was reparented. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "proc-tree.h"

#define MAX_PROCS 8192
#define EXIT_SYSCALL 111

struct proc { pid_t pid; unsigned long long start; };
static struct proc seen[MAX_PROCS], next[MAX_PROCS];
static int nseen, nnext;
static pid_t self;

static void record(pid_t c, void *arg) {
  (void)arg;
  if (c == self || nnext >= MAX_PROCS) return;
  unsigned long long t = start_time(c);
  if (!t) return;
  next[nnext].pid = c;
  next[nnext].start = t;
  nnext++;
  each_child(c, record, NULL);
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts)) { /* EINTR: sleep the rest */ }
}

/* Whether /proc/PID/environ holds the entry `mark` (NUL-terminated entries;
 * read in pieces: an entry may straddle two reads). */
static int has_mark(pid_t pid, const char *mark, size_t len) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t at = 0; /* bytes of the current entry matched so far */
  int found = 0, alive = 1; /* alive: the current entry can still match */
  ssize_t n;
  while (!found && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      char c = buf[i];
      if (c == '\0') {
        if (alive && at == len) { found = 1; break; }
        at = 0;
        alive = 1;
      } else if (alive && at < len && c == mark[at]) {
        at++;
      } else {
        alive = 0;
      }
    }
  }
  close(fd);
  return found;
}

/* SIGKILLs every process (but this one) whose environment carries `mark`;
 * returns how many. */
static int kill_marked(const char *mark) {
  DIR *d = opendir("/proc");
  if (!d) return 0;
  size_t len = strlen(mark);
  int killed = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    pid_t pid = (pid_t)atoi(e->d_name);
    if (pid <= 1 || pid == self || !has_mark(pid, mark, len)) continue;
    kill(pid, SIGSTOP);
    kill(pid, SIGKILL);
    killed++;
  }
  closedir(d);
  return killed;
}

int guard_main(pid_t master, int grace_ms) {
  self = getpid();
  int ignored[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
  for (unsigned i = 0; i < sizeof ignored / sizeof *ignored; i++) signal(ignored[i], SIG_IGN);
  if (chdir("/")) { /* keep no directory busy; "/" always exists */ }
  unsigned long long born = start_time(master);
  if (!born) return 1;
  pid_t p = fork();
  if (p < 0) return EXIT_SYSCALL;
  if (p > 0) _exit(0);
  setsid();
  self = getpid();
  printf("%d\n", (int)self);
  fflush(stdout);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  /* The master's liveness is checked every 200 ms (one stat read), its tree
   * recorded every second: a walk reads every thread's children file of
   * every process, and with hundreds of instances per host (vassals) that
   * costs more than the last second's orphans are worth. */
  for (int tick = 0; start_time(master) == born; tick++) {
    if (tick % 5 == 0) {
      nnext = 0;
      each_child(master, record, NULL);
      memcpy(seen, next, (size_t)nnext * sizeof *next);
      nseen = nnext;
    }
    nap_ms(200);
  }
  nap_ms(grace_ms);
  /* a few rounds: what we stop cannot fork, but a recorded parent may have
   * forked between our last look and its death */
  for (int round = 0; round < 10; round++) {
    int killed = 0;
    for (int i = 0; i < nseen; i++) {
      if (start_time(seen[i].pid) != seen[i].start) continue; /* gone (or a new process) */
      kill(seen[i].pid, SIGSTOP);
      killed += signal_tree(seen[i].pid, SIGKILL, 1);
      kill(seen[i].pid, SIGKILL);
      killed++;
    }
    if (!killed) break;
    nap_ms(50);
  }
  char mark[64];
  snprintf(mark, sizeof mark, "LIEGE_GUARD_PID=%d", (int)self);
  for (int round = 0; round < 10 && kill_marked(mark); round++) nap_ms(50);
  return 0;
}
