// lf-sandbox: a local stand-in for the Lightfunnels OAuth and API endpoints.
// The contract is docs/SANDBOX.md; the manual is docs/man/lf-sandbox.1.
#include "options.hpp"
#include "routes.hpp"
#include "store.hpp"
#include "tls.hpp"

#include <lightfunnels/auth.h>

#include <httplib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

namespace {

constexpr size_t kMaxBody = 1 << 20;

// The signals the sandbox acts on: SIGINT and SIGTERM stop it, SIGUSR1
// revokes every token.
sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    return set;
}

// Runs until a stop signal arrives or `done` is set. Signals are blocked in
// every thread (the mask is set before any thread starts) and taken here with
// sigtimedwait, so nothing runs in async-signal context.
void signal_loop(httplib::Server &svr, sandbox::Store &store, const std::atomic<bool> &done,
                 std::atomic<bool> &stopping) {
    const sigset_t set = handled_signals();
    const struct timespec tick = {0, 200 * 1000 * 1000};
    while (!done.load()) {
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig == SIGUSR1) {
            size_t n = store.revoke_all();
            std::fprintf(stderr, "lf-sandbox: SIGUSR1: revoked %zu token(s)\n", n);
            std::fflush(stderr);
        } else if (sig == SIGINT || sig == SIGTERM) {
            stopping.store(true);
            std::fprintf(stderr, "lf-sandbox: %s: shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
            std::fflush(stderr);
            // stop() is a no-op until listen has started: repeat until main is done.
            while (!done.load()) {
                svr.stop();
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            return;
        }
    }
}

// The exit status for a command line that does not start the server
// (help, version, error); -1 when it does.
int answer_without_running(sandbox::ParseResult r, const std::string &err) {
    switch (r) {
    case sandbox::ParseResult::help:
        sandbox::print_usage(stdout);
        return 0;
    case sandbox::ParseResult::version:
        std::printf("lf-sandbox %s (lightfunnels-auth %s)\n", LF_AUTH_VERSION_STRING, lf_version());
        return 0;
    case sandbox::ParseResult::error:
        std::fprintf(stderr, "lf-sandbox: %s\nTry 'lf-sandbox --help'.\n", err.c_str());
        return 2;
    case sandbox::ParseResult::run:
        break;
    }
    return -1;
}

// Blocks the signals we handle before any thread exists, so every thread
// (including cpp-httplib's pool) inherits the mask. With --exit-with-parent,
// false when the parent is already gone.
bool prepare_process(const sandbox::Options &opts) {
    const sigset_t set = handled_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    if (opts.exit_with_parent) {
        // SIGTERM (handled like a normal stop) when the parent dies; if it
        // already died before this call, stop now.
        pid_t parent = getppid();
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || parent == 1) {
            std::fprintf(stderr, "lf-sandbox: the parent process is gone\n");
            return false;
        }
    }
    return true;
}

// HTTPS with the given or a freshly generated certificate, else HTTP. Null
// (the reason printed) when the certificate cannot be made or loaded.
std::unique_ptr<httplib::Server> make_server(sandbox::Options &opts, std::string &scheme) {
    std::unique_ptr<httplib::Server> svr;
    std::string err;
    if (!opts.tls_self_signed_dir.empty()) {
        sandbox::TlsFiles files;
        if (!sandbox::generate_self_signed(opts.tls_self_signed_dir, files, err)) {
            std::fprintf(stderr, "lf-sandbox: %s\n", err.c_str());
            return nullptr;
        }
        opts.tls_cert = files.server_cert;
        opts.tls_key = files.server_key;
        std::fprintf(stderr, "lf-sandbox: wrote %s (trust this CA), %s, %s\n", files.ca_cert.c_str(),
                     files.server_cert.c_str(), files.server_key.c_str());
    }
    scheme = "http";
    if (!opts.tls_cert.empty()) {
        svr = std::make_unique<httplib::SSLServer>(opts.tls_cert.c_str(), opts.tls_key.c_str());
        scheme = "https";
    } else {
        svr = std::make_unique<httplib::Server>();
    }
    if (!svr->is_valid()) {
        std::fprintf(stderr, "lf-sandbox: cannot load the TLS certificate %s or key %s\n", opts.tls_cert.c_str(),
                     opts.tls_key.c_str());
        return nullptr;
    }
    return svr;
}

void set_limits(httplib::Server &svr) {
    svr.set_payload_max_length(kMaxBody);
    svr.set_read_timeout(10);
    svr.set_write_timeout(10);
    svr.set_keep_alive_timeout(2);
}

// The bound port (a free one for --listen HOST:0); 0 (the reason printed)
// when binding fails.
int bind_server(httplib::Server &svr, const sandbox::Options &opts) {
    int port = opts.listen_port;
    if (port == 0) {
        port = svr.bind_to_any_port(opts.listen_host);
        if (port <= 0) {
            std::fprintf(stderr, "lf-sandbox: cannot bind %s\n", opts.listen_host.c_str());
            return 0;
        }
    } else if (!svr.bind_to_port(opts.listen_host, port)) {
        std::fprintf(stderr, "lf-sandbox: cannot bind %s port %d\n", opts.listen_host.c_str(), port);
        return 0;
    }
    return port;
}

// An app URL on the sandbox's own port would make the admin page embed the
// sandbox's origin in itself: nothing the real admin does. Known only once
// the port is bound (--listen HOST:0).
bool app_urls_elsewhere(const sandbox::Options &opts, int port) {
    for (const auto &c : opts.clients) {
        if (c.app_url.empty() || sandbox::loopback_port(c.app_url) != port) continue;
        std::fprintf(stderr,
                     "lf-sandbox: client %s: the app URL must be another origin than the sandbox (port %d is the "
                     "sandbox's own)\nTry 'lf-sandbox --help'.\n",
                     c.id.c_str(), port);
        return false;
    }
    return true;
}

// LF_SANDBOX_URL on stdout is what harnesses wait for.
void announce(const sandbox::Options &opts, const std::string &scheme, int port) {
    std::string host = opts.listen_host == "::1" ? "[::1]" : opts.listen_host;
    std::printf("LF_SANDBOX_URL=%s://%s:%d\n", scheme.c_str(), host.c_str(), port);
    std::fflush(stdout);
    std::fprintf(stderr, "lf-sandbox: listening on %s://%s:%d (%zu client(s), %s, code ttl %lds)\n", scheme.c_str(),
                 host.c_str(), port, opts.clients.size(), opts.auto_approve ? "auto-approve" : "consent page",
                 opts.code_ttl_s);
}

// Serves until a stop signal; the exit status.
int serve(httplib::Server &svr, sandbox::Store &store) {
    std::atomic<bool> done{false}, stopping{false};
    std::thread signals(signal_loop, std::ref(svr), std::ref(store), std::cref(done), std::ref(stopping));
    bool ok = svr.listen_after_bind();
    done.store(true);
    signals.join();
    if (!ok && !stopping.load()) {
        std::fprintf(stderr, "lf-sandbox: the server failed\n");
        return 1;
    }
    std::fprintf(stderr, "lf-sandbox: stopped\n");
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    sandbox::Options opts;
    std::string err;
    int status = answer_without_running(sandbox::parse_options(argc, argv, opts, err), err);
    if (status >= 0) return status;
    if (!prepare_process(opts)) return 1;
    std::string scheme;
    std::unique_ptr<httplib::Server> svr = make_server(opts, scheme);
    if (!svr) return 1;
    sandbox::Store store(opts.clients, std::chrono::seconds(opts.code_ttl_s));
    sandbox::install_routes(*svr, store, opts);
    set_limits(*svr);
    int port = bind_server(*svr, opts);
    if (port == 0) return 1;
    if (!app_urls_elsewhere(opts, port)) return 2;
    announce(opts, scheme, port);
    return serve(*svr, store);
}
