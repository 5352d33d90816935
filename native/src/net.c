/* sockets family: listening sockets bound by the master (as root, before
 * the privilege drop) and handed to workers as plain fds. Bound here rather
 * than with net.Server so the master never accepts on them. */
#define _GNU_SOURCE
#include "util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* listenTcp(host, port, backlog) -> fd (FD_CLOEXEC set; cleared to pass on).
 * Errors name the step that failed (getaddrinfo, socket, bind, listen). */
static napi_value ListenTcp(napi_env env, napi_callback_info info) {
  ARGS(3);
  char *host = arg_string(env, argv[0]);
  int portnum = arg_int(env, argv[1], 0);
  char port[16];
  snprintf(port, sizeof port, "%d", portnum);
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
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
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) call = "bind";
    else if (listen(fd, arg_int(env, argv[2], 511)) < 0) call = "listen";
    else break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  napi_value out = fd < 0 ? throw_errno_addr(env, err, call, host, portnum) : make_int(env, fd);
  free(host);
  return out;
}

/* listenUnix(path, backlog) -> fd; a stale socket file is replaced. */
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
  if (path[0] == '@') sa.sun_path[0] = 0; /* abstract */
  else unlink(path);
  const char *call = "socket";
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) call = "bind";
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

static napi_value Close(napi_env env, napi_callback_info info) {
  ARGS(1);
  close(arg_int(env, argv[0], -1));
  return make_undefined(env);
}

/* sdNotify(path, message): one AF_UNIX datagram to systemd's NOTIFY_SOCKET
 * ("@name" = abstract namespace). Node has no unix datagram sockets. */
static napi_value SdNotify(napi_env env, napi_callback_info info) {
  ARGS(2);
  char *path = arg_string(env, argv[0]), *msg = arg_string(env, argv[1]);
  struct sockaddr_un sa = {0};
  sa.sun_family = AF_UNIX;
  size_t len = path ? strlen(path) : 0;
  napi_value out = make_undefined(env);
  if (!path || !msg || len == 0 || len >= sizeof sa.sun_path) {
    out = throw_errno(env, EINVAL, "sendto", path);
  } else {
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@') sa.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '@' ? 0 : 1));
    if (fd < 0 || sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0) out = throw_errno(env, errno, "sendto", path);
    if (fd >= 0) close(fd);
  }
  free(path);
  free(msg);
  return out;
}

const export_entry net_exports[] = {
  {"listenTcp", ListenTcp}, {"listenUnix", ListenUnix}, {"sockPort", SockPort}, {"closeFd", Close}, {"sdNotify", SdNotify}, {NULL, NULL}};
