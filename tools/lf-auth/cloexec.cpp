// lf-auth: every descriptor the tool holds is close-on-exec, so that nothing
// it runs (the browser of `login --open`) inherits a connection or the
// --save file.
//
// libcpp-httplib 0.11 accepts the login listener's connections with plain
// accept(), which makes descriptors that survive exec, and offers no hook
// that reaches them. This definition interposes libc's accept() for every
// caller in the process (the executable's symbol wins at dynamic link time)
// and adds SOCK_CLOEXEC atomically: there is no moment in which a concurrent
// posix_spawn could inherit the new connection.
#include <sys/socket.h>

extern "C" int accept(int fd, struct sockaddr *addr, socklen_t *addr_len) {
    return accept4(fd, addr, addr_len, SOCK_CLOEXEC);
}
