/* sockets family: listening sockets bound by the master (as root, before
 * the privilege drop) and handed to workers as plain fds. Bound here rather
 * than with net.Server so the master never accepts on them. */
#define _GNU_SOURCE
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A dotted-quad IPv4 literal as inet_pton reads it (four decimal parts,
 * 0-255, no leading zeros), without a libc call: the libc pages of the
 * address functions are ~64 KiB of a master's RSS (bench/README.md). */
static int ipv4_literal(const char *s, struct in_addr *out) {
  uint32_t addr = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0 && *s++ != '.') return 0;
    if (*s < '0' || *s > '9') return 0;
    unsigned v = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) v = v * 10 + (unsigned)(*s - '0');
    if (digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0')) return 0;
    addr = addr << 8 | v;
  }
  if (*s) return 0;
  out->s_addr = htonl(addr);
  return 1;
}

/* An IPv4 or IPv6 literal (what a config names most): its address without
 * getaddrinfo, whose resolver code and files a master would otherwise page
 * in for nothing (bench/README.md). */
static int numeric_addr(const char *host, int port, struct sockaddr_storage *sa, struct addrinfo *ai) {
  struct sockaddr_in *in = (struct sockaddr_in *)sa;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
  if (ipv4_literal(host, &in->sin_addr) || inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    ai->ai_addrlen = sizeof *in;
  } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    ai->ai_addrlen = sizeof *in6;
  } else {
    return 0;
  }
  ai->ai_family = sa->ss_family;
  ai->ai_socktype = SOCK_STREAM;
  ai->ai_addr = (struct sockaddr *)sa;
  ai->ai_next = NULL;
  return 1;
}

/* listenTcp(host, port, backlog[, reusePort]) -> fd (FD_CLOEXEC set;
 * cleared to pass on). Errors name the step that failed (getaddrinfo,
 * socket, setsockopt, bind, listen) and the address. */
static napi_value ListenTcp(napi_env env, napi_callback_info info) {
  ARGS(4);
  int reuse_port = arg_int(env, argv[3], 0);
  char *host = arg_string(env, argv[0]);
  int portnum = arg_int(env, argv[1], 0);
  char port[16];
  snprintf(port, sizeof port, "%d", portnum);
  struct addrinfo hints = {0}, *res = NULL, numeric = {0};
  struct sockaddr_storage sa = {0};
  int rc = 0;
  if (host && numeric_addr(host, portnum, &sa, &numeric)) {
    res = &numeric;
  } else {
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
  }
  if (rc) {
    napi_value out = throw_gai(env, rc, errno, host);
    free(host);
    return out;
  }
  int fd = -1, err = 0;
  const char *call = "socket";
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) { err = errno; call = "socket"; continue; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) call = "setsockopt";
    else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) call = "bind";
    else if (listen(fd, arg_int(env, argv[2], 511)) < 0) call = "listen";
    else break;
    err = errno;
    close(fd);
    fd = -1;
  }
  if (res != &numeric) freeaddrinfo(res);
  napi_value out = fd < 0 ? throw_errno_addr(env, err, call, host, portnum) : make_int(env, fd);
  free(host);
  return out;
}

/* listenUnix(path, backlog) -> fd. Never unlinks: the caller removes a
 * stale socket file after checking it (master/sockets.ts). "@name" is an
 * abstract socket, its address exactly the name's bytes (as nginx uses it). */
static napi_value ListenUnix(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]);
  struct sockaddr_un sa = {0};
  sa.sun_family = AF_UNIX;
  if (!path || strlen(path) >= sizeof sa.sun_path) {
    napi_value out = throw_errno(env, ENAMETOOLONG, "bind", path);
    free(path);
    return out;
  }
  strcpy(sa.sun_path, path);
  socklen_t salen = sizeof sa;
  if (path[0] == '@') { /* abstract */
    sa.sun_path[0] = 0;
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
  }
  const char *call = "socket";
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    if (bind(fd, (struct sockaddr *)&sa, salen) < 0) call = "bind";
    else if (listen(fd, arg_int(env, argv[1], 511)) < 0) call = "listen";
    else call = NULL;
  }
  if (call) {
    int err = errno;
    if (fd >= 0) close(fd);
    napi_value out = throw_errno(env, err, call, path);
    free(path);
    return out;
  }
  free(path);
  return make_int(env, fd);
}

/* sockPort(fd) -> the bound TCP port (for :0) */
static napi_value SockPort(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(arg_int(env, argv[0], -1), (struct sockaddr *)&ss, &len)) return throw_errno(env, errno, "getsockname", NULL);
  int port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
           : ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : 0;
  return make_int(env, port);
}

/* dupFd(fd) -> a new fd (FD_CLOEXEC) on the same open file: the emperor
 * watches an on-demand socket through a copy Node may close. */
static napi_value DupFd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = fcntl(arg_int(env, argv[0], -1), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "dup", NULL);
  return make_int(env, fd);
}

/* sockName(fd) -> "HOST:PORT", "[V6]:PORT", a unix path, "@abstract", or
 * null when fd is not a listening stream socket (systemd LISTEN_FDS). */
static napi_value SockName(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = arg_int(env, argv[0], -1);
  int listening = 0, type = 0;
  socklen_t ol = sizeof listening;
  napi_value out;
  napi_get_null(env, &out);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) || !listening) return out;
  ol = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) || type != SOCK_STREAM) return out;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len)) return throw_errno(env, errno, "getsockname", NULL);
  char buf[INET6_ADDRSTRLEN + 120] = {0};
  if (ss.ss_family == AF_INET) {
    char a[INET_ADDRSTRLEN];
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
    snprintf(buf, sizeof buf, "%s:%d", a, ntohs(in->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    char a[INET6_ADDRSTRLEN];
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
    snprintf(buf, sizeof buf, "[%s]:%d", a, ntohs(in6->sin6_port));
  } else if (ss.ss_family == AF_UNIX) {
    struct sockaddr_un *un = (struct sockaddr_un *)&ss;
    size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (n > 0 && un->sun_path[0] == 0) { buf[0] = '@'; memcpy(buf + 1, un->sun_path + 1, n - 1 < sizeof buf - 2 ? n - 1 : sizeof buf - 2); }
    else memcpy(buf, un->sun_path, strnlen(un->sun_path, n < sizeof buf - 1 ? n : sizeof buf - 1));
  } else {
    return out;
  }
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &out);
  return out;
}

/* The accept queue of a listening unix socket: sock_diag's UNIX_DIAG_RQLEN
 * for the socket's inode (the kernel has no getsockopt for it). -1 when the
 * kernel cannot say (no unix_diag). */
static int unix_queue(int fd) {
  struct stat st;
  if (fstat(fd, &st)) return -1;
  int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -1;
  struct { struct nlmsghdr nlh; struct unix_diag_req r; } req = {0};
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = -1;
  req.r.udiag_ino = (unsigned)st.st_ino;
  req.r.udiag_show = UDIAG_SHOW_RQLEN;
  req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0U; /* no cookie check */
  long buf[1024];
  int queue = -1;
  if (send(nl, &req, sizeof req, 0) == (ssize_t)sizeof req) {
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      struct unix_diag_msg *m = NLMSG_DATA(h);
      int left = h->nlmsg_len - NLMSG_LENGTH(sizeof *m);
      for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
        if (a->rta_type == UNIX_DIAG_RQLEN) queue = (int)((struct unix_diag_rqlen *)RTA_DATA(a))->udiag_rqueue;
      }
    }
  }
  close(nl);
  return queue;
}

/* listenQueue(fd) -> the connections waiting in a listening socket's accept
 * queue that no worker took yet (uWSGI's listen_queue), or -1 when unknown.
 * TCP: TCP_INFO's tcpi_unacked (what the kernel reports for LISTEN);
 * unix: sock_diag. O(1) whatever the host's connection count. */
static napi_value ListenQueue(napi_env env, napi_callback_info info) {
  ARGS(1);
  int fd = arg_int(env, argv[0], -1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int queue = -1;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
      struct tcp_info ti;
      socklen_t tl = sizeof ti;
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) queue = (int)ti.tcpi_unacked;
    } else if (ss.ss_family == AF_UNIX) {
      queue = unix_queue(fd);
    }
  }
  return make_int(env, queue);
}

/* shutdownListen(fd): shutdown(SHUT_RD) of a listening socket, so that a
 * connect() is refused (ECONNREFUSED) from now on instead of queued, for
 * every process holding the socket. TCP: the socket leaves LISTEN (the
 * connections waiting in its accept queue are reset); unix: it stays
 * listening, connect() is refused and the queued connections can still be
 * accepted. Never undone: only a stop calls it. */
static napi_value ShutdownListen(napi_env env, napi_callback_info info) {
  ARGS(1);
  if (shutdown(arg_int(env, argv[0], -1), SHUT_RD) < 0) return throw_errno(env, errno, "shutdown", NULL);
  return make_undefined(env);
}

/* dup2(oldfd, newfd): logto/daemonize point stdout/stderr at a log file. */
static napi_value Dup2(napi_env env, napi_callback_info info) {
  ARGS(2);
  int rc;
  do rc = dup2(arg_int(env, argv[0], -1), arg_int(env, argv[1], -1)); while (rc < 0 && errno == EINTR);
  if (rc < 0) return throw_errno(env, errno, "dup2", NULL);
  return make_undefined(env);
}

static napi_value Close(napi_env env, napi_callback_info info) {
  ARGS(1);
  close(arg_int(env, argv[0], -1));
  return make_undefined(env);
}

/* A unix socket's address, NOTIFY_SOCKET's or a logger's ("@name" =
 * abstract namespace); 0 when empty or too long. */
static socklen_t unix_addr(const char *path, struct sockaddr_un *sa) {
  size_t len = path ? strlen(path) : 0;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (len == 0 || len >= sizeof sa->sun_path) return 0;
  memcpy(sa->sun_path, path, len);
  if (path[0] == '@') sa->sun_path[0] = 0;
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
}

/* A datagram destination: a unix socket path ("@name": abstract) when
 * port < 0, else an IPv4/IPv6 literal and a port. 0 when it is neither. */
static socklen_t dgram_addr(const char *address, int port, struct sockaddr_storage *sa) {
  memset(sa, 0, sizeof *sa);
  if (port < 0) return unix_addr(address, (struct sockaddr_un *)sa);
  struct addrinfo ai = {0};
  return numeric_addr(address, port, sa, &ai) ? (socklen_t)ai.ai_addrlen : 0;
}

/* dgramSocket(address, port, connectUnix): a non-blocking, close-on-exec
 * datagram socket of the destination's family. A UDP one is connected, so
 * that a target that is down (ICMP port unreachable) fails a later send
 * with ECONNREFUSED instead of nothing. A unix one is connected only when
 * asked: NOTIFY_SOCKET's (the kernel checks write permission on the socket
 * file at connect only, so one connected as root still reaches a root-only
 * socket after the privileges are dropped, as libsystemd users do), not a
 * logger's (a syslog daemon that restarts binds a new socket at the same
 * path: the next sendto finds it). */
static napi_value DgramSocket(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *address = arg_string(env, argv[0]);
  int port = arg_int(env, argv[1], -1);
  bool connect_unix = false;
  napi_get_value_bool(env, argv[2], &connect_unix); /* absent: false */
  struct sockaddr_storage sa;
  napi_value out;
  socklen_t salen = address ? dgram_addr(address, port, &sa) : 0;
  if (!salen) {
    out = throw_errno(env, EINVAL, "socket", address);
  } else {
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (fd >= 0 && (port >= 0 || connect_unix)) {
      do rc = connect(fd, (struct sockaddr *)&sa, salen); while (rc < 0 && errno == EINTR);
    }
    if (fd < 0) {
      out = throw_errno(env, errno, "socket", address);
    } else if (rc < 0) {
      int err = errno;
      close(fd);
      out = throw_errno_addr(env, err, "connect", address, port);
    } else {
      out = make_int(env, fd);
    }
  }
  free(address);
  return out;
}

/* dgramSend(fd, message, path?): one datagram, never blocking (a full
 * receiver: EAGAIN); to the unix socket `path` when given (a logger's,
 * unconnected: found again after its receiver restarts), else on the
 * socket dgramSocket connected (UDP, NOTIFY_SOCKET). Bytes sent; throws
 * the errno (ENOENT, ECONNREFUSED ...). */
static napi_value DgramSend(napi_env env, napi_callback_info info) {
  ARGS(3);
  int fd = arg_int(env, argv[0], -1);
  char *msg = arg_string(env, argv[1]);
  size_t len = 0; /* the message's own length: a NUL inside is sent too */
  if (msg) napi_get_value_string_utf8(env, argv[1], NULL, 0, &len);
  char *path = argc > 2 ? arg_string(env, argv[2]) : NULL;
  struct sockaddr_un sa;
  socklen_t salen = path ? unix_addr(path, &sa) : 0;
  napi_value out;
  if (!msg || (path && !salen)) {
    out = throw_errno(env, EINVAL, "sendto", path);
  } else {
    ssize_t n;
    do n = path ? sendto(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, salen) : send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT); while (n < 0 && errno == EINTR);
    out = n < 0 ? throw_errno(env, errno, "sendto", path) : make_int(env, n);
  }
  free(msg);
  free(path);
  return out;
}

const export_entry net_exports[] = {
  {"listenTcp", ListenTcp}, {"listenUnix", ListenUnix}, {"sockPort", SockPort}, {"sockName", SockName}, {"listenQueue", ListenQueue}, {"shutdownListen", ShutdownListen}, {"dup2", Dup2},
  {"closeFd", Close}, {"dupFd", DupFd}, {"dgramSocket", DgramSocket}, {"dgramSend", DgramSend}, {NULL, NULL}};
