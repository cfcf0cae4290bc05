// lf-auth login: the whole flow with a loopback redirect listener
// (cpp-httplib). State is generated and checked with the library; the
// listener answers exactly one callback request that carries this login's
// state and then stops. Requests without it (any local page can send them)
// get 400 and the login keeps waiting.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <httplib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <thread>

extern char **environ;

namespace lfcli {

namespace {

// Where the listener binds and which path it serves.
struct Listen {
    std::string redirect_uri;  // exact string registered with the app
    std::string path = "/callback";
    int port = 0;
    bool port_was_free = false;  // --port 0: bound to whatever port was free
};

// Splits an explicit --redirect-uri with libcurl's URL parser. It must be
// http:// to 127.0.0.1 or localhost (the listener binds 127.0.0.1 only).
Listen parse_redirect(const std::string &uri, int port_flag) {
    Listen l;
    l.redirect_uri = uri;
    CURLU *u = curl_url();
    if (u == nullptr) throw LocalError{"out of memory"};
    char *scheme = nullptr, *host = nullptr, *port = nullptr, *path = nullptr, *user = nullptr;
    bool ok = curl_url_set(u, CURLUPART_URL, uri.c_str(), 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK;
    std::string why;
    if (!ok) {
        why = "it is not a valid URL";
    } else if (std::strcmp(scheme, "http") != 0) {
        why = "the listener speaks plain http:// on the loopback interface";
    } else if (std::strcmp(host, "127.0.0.1") != 0 && std::strcmp(host, "localhost") != 0) {
        why = "its host must be 127.0.0.1 or localhost (the listener binds 127.0.0.1 only)";
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        why = "it must not carry user info";
    } else if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        char *end = nullptr;
        long p = std::strtol(port, &end, 10);
        if (*end != '\0' || p <= 0 || p > 65535)
            why = "bad port";
        else if (port_flag > 0 && p != port_flag)
            why = "its port differs from --port";
        else
            l.port = static_cast<int>(p);
    } else if (port_flag > 0) {
        why = "it has no port but --port was given";
    } else {
        l.port = 80;
    }
    if (ok && why.empty()) l.path = path;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(user);
    curl_url_cleanup(u);
    if (!why.empty()) throw UsageError{"--redirect-uri: " + why};
    return l;
}

// What the one callback request produced.
struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    bool claimed = false;  // a callback request is being handled
    bool done = false;
    lf_status status = LF_OK;
    lf_error err{};
    lf_token *token = nullptr;
};

const char kPageHead[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>lf-auth</title></head>"
    "<body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\">";
const char kPageTail[] = "</body></html>";

// Only fixed strings and status names (identifiers) go into the page: never
// anything the request or a server sent.
std::string page(const char *title, const char *text, const char *status_name) {
    std::string s = kPageHead;
    s += "<h1>";
    s += title;
    s += "</h1><p>";
    s += text;
    s += "</p>";
    if (status_name != nullptr) {
        s += "<p><code>";
        s += status_name;
        s += "</code></p>";
    }
    s += kPageTail;
    return s;
}

// True when the query carries exactly one state parameter and it is this
// login's. Only such a request may end the login: anything else could come
// from any page in the merchant's browser. The library decodes the value
// strictly and compares it in constant time, as for the real parse.
bool carries_state(const std::string &query, const char *state) {
    // Walk the query in place: it holds the code, which is not copied.
    size_t start = !query.empty() && query[0] == '?' ? 1 : 0;
    const size_t stop = std::min(query.find('#'), query.size());
    std::string value;
    int seen = 0;
    while (start <= stop) {
        size_t end = std::min(query.find('&', start), stop);
        if (query.compare(start, end - start, "state") == 0 || query.compare(start, 6, "state=") == 0) {
            ++seen;
            value = end - start > 6 ? query.substr(start + 6, end - start - 6) : std::string();
        }
        start = end + 1;
    }
    if (seen != 1) return false;
    std::string probe = "code=x&state=" + value;
    char code[2];
    size_t needed = 0;
    return lf_parse_callback(nullptr, probe.c_str(), state, code, sizeof code, &needed, nullptr) == LF_OK;
}

void open_browser(const Common &c, const std::string &url) {
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    // Our descriptors are close-on-exec already; this also drops whatever
    // lf-auth itself inherited, and anything a library opened without it.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    char arg0[] = "xdg-open";
    std::string u = url;
    char *argv[] = {arg0, &u[0], nullptr};
    int rc = posix_spawnp(&pid, "xdg-open", &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        progress(c, "could not run xdg-open (%s): open the URL above yourself", std::strerror(rc));
        return;
    }
    // Reap it in the background; xdg-open returns quickly.
    std::thread([pid]() {
        int st = 0;
        waitpid(pid, &st, 0);
    }).detach();
}

void refuse_without_state(httplib::Response &res) {
    res.status = 400;
    res.set_content(page("Not this login's redirect",
                         "This request does not carry the state of the running lf-auth login (it is "
                         "missing or different), so it was ignored. lf-auth is still waiting for the "
                         "redirect from the consent screen.",
                         lf_status_name(LF_E_STATE_MISMATCH)),
                    "text/html; charset=utf-8");
}

const char *login_help() {
    return "usage: lf-auth login --client-id ID (--client-secret-env VAR | ...) --scope LIST\n"
           "                    [--port N | --redirect-uri http://127.0.0.1:N/PATH] [--timeout S]\n"
           "                    [--open] [--save FILE [--force]] [endpoint options]\n"
           "\n"
           "Runs the whole flow: generates a state, listens on 127.0.0.1:N, prints the\n"
           "consent URL, waits for the merchant's redirect, checks the state, answers the\n"
           "browser, exchanges the code and prints the access token on stdout (or saves\n"
           "it to FILE, mode 0600; an existing FILE is refused unless --force; if FILE\n"
           "cannot be put in place at the end, the token is kept in another 0600 file\n"
           "named on stderr, exit 1).\n"
           "\n"
           "On stderr, for scripts, one line each (flushed as soon as they are known):\n"
           "  LF_AUTH_REDIRECT_URI=<the redirect URI the listener serves>\n"
           "  LF_AUTH_CONSENT_URL=<the URL to open in a browser>\n"
           "\n"
           "  --scope LIST              comma-separated scopes, e.g. products,orders\n"
           "  --port N                  listen on 127.0.0.1:N (default 8976); the redirect URI\n"
           "                            is then http://127.0.0.1:N/callback, which must be\n"
           "                            whitelisted for the app exactly (0: a free port, which\n"
           "                            only a server that accepts any port will take)\n"
           "  --redirect-uri URI        serve this whitelisted redirect URI instead (http,\n"
           "                            host 127.0.0.1 or localhost, its port and path)\n"
           "  --timeout S               give up after S seconds without a redirect (default 300):\n"
           "                            exit 19 (LF_E_TIMEOUT)\n"
           "  --open                    open the consent URL with xdg-open\n"
           "  --save FILE               write the token to FILE (mode 0600) instead of stdout\n"
           "  --force                   with --save: replace an existing FILE\n"
           "\n"
           "Only a request to the redirect path that carries this login's state ends it:\n"
           "a declined consent exits 17 (LF_E_ACCESS_DENIED). A request with a missing or\n"
           "wrong state gets HTTP 400 and the login keeps waiting (any local page could\n"
           "have sent it).\n"
           "\n";
}

// A fixed port, so that its redirect URI can be whitelisted once for good.
constexpr int kDefaultPort = 8976;

struct LoginArgs {
    Common c;
    std::string scope, save;
    bool force = false, open = false;
    int port_flag = -1;  // -1: no --port
    long timeout_s = 300;
};

void print_login_help() {
    std::fputs(login_help(), stdout);
    std::fputs(client_help(), stdout);
    std::fputs(
        "Endpoints and transport: as for `lf-auth exchange --help`, plus\n"
        "  --authorize-url URL       default https://app.lightfunnels.com/admin/oauth\n"
        "Output:\n"
        "  --json                    one JSON object on stdout\n"
        "  --quiet                   no progress messages (the LF_AUTH_* lines stay)\n"
        "\n",
        stdout);
    std::fputs(exit_help(), stdout);
}

// Reads "0".."max" (or "min".."max"); throws UsageError with `message` otherwise.
long bounded_number(const std::string &v, long min, long max, const char *message) {
    char *end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < min || n > max) throw UsageError{message};
    return n;
}

// False when --help was asked for (and printed).
bool parse_args(const Args &args, LoginArgs &a) {
    Parser p;
    add_common_options(p, a.c, kClient | kRedirect | kAuthorize | kToken | kTransport);
    p.option("scope", [&a](const std::string &v) { a.scope = v; });
    p.option("port", [&a](const std::string &v) {
        a.port_flag = static_cast<int>(bounded_number(v, 0, 65535, "--port must be 0..65535"));
    });
    p.option("timeout", [&a](const std::string &v) {
        a.timeout_s = bounded_number(v, 1, 86400, "--timeout must be 1..86400 seconds");
    });
    p.flag("open", [&a]() { a.open = true; });
    p.option("save", [&a](const std::string &v) { a.save = v; });
    p.flag("force", [&a]() { a.force = true; });
    if (!p.parse(args)) {
        print_login_help();
        return false;
    }
    if (a.scope.empty()) throw UsageError{"--scope is required (e.g. --scope products,orders)"};
    warn_undocumented_scopes(a.scope);
    if (a.c.client_id.empty()) throw UsageError{"--client-id is required"};
    if (a.c.redirect_uris.size() > 1) throw UsageError{"give --redirect-uri once"};
    if (a.force && a.save.empty()) throw UsageError{"--force only applies to --save"};
    return true;
}

// Binds 127.0.0.1 on the port the redirect URI or --port names (0: a free
// one) and settles the redirect URI the listener serves.
void bind_listener(httplib::Server &svr, Listen &l) {
    svr.set_keep_alive_max_count(1);
    svr.set_read_timeout(5, 0);
    svr.set_write_timeout(5, 0);
    svr.set_payload_max_length(64 * 1024);
    if (l.port == 0) {
        l.port_was_free = true;
        l.port = svr.bind_to_any_port("127.0.0.1");
        if (l.port <= 0) throw LocalError{"cannot listen on 127.0.0.1"};
    } else if (!svr.bind_to_port("127.0.0.1", l.port)) {
        throw LocalError{"cannot listen on 127.0.0.1:" + std::to_string(l.port) + " (in use?)"};
    }
    if (l.redirect_uri.empty()) l.redirect_uri = "http://127.0.0.1:" + std::to_string(l.port) + "/callback";
}

// What the listener's handler works with; lives as long as the listener.
struct Callback {
    const Common &c;
    const lf_auth *auth;
    const char *state;
    std::string path;
    Outcome &oc;
};

void send_page(httplib::Response &res, int status, const std::string &html) {
    res.status = status;
    res.set_content(html, "text/html; charset=utf-8");
}

// Only the first request with this login's state may go on; a later one gets 409.
bool claim(Outcome &oc, httplib::Response &res) {
    std::lock_guard<std::mutex> lk(oc.mu);
    if (oc.claimed) {
        send_page(res, 409, page("Already handled", "This login has already received its redirect.", nullptr));
        return false;
    }
    oc.claimed = true;
    return true;
}

// The code from the query, exchanged for the token. The query and the code
// are wiped before this returns.
lf_status redeem(const Callback &cb, std::string &query, lf_token **tok, lf_error *e) {
    std::vector<char> code(512);
    lf_status st = parse_callback(cb.auth, query.c_str(), cb.state, code, e);
    explicit_bzero(&query[0], query.size());
    if (st == LF_OK) {
        progress(cb.c, "redirect received, exchanging the code");
        st = lf_exchange_code(cb.auth, code.data(), tok, e);
    }
    explicit_bzero(code.data(), code.size());
    return st;
}

void answer_browser(httplib::Response &res, lf_status st) {
    if (st == LF_OK)
        send_page(res, 200,
                  page("Authorized", "lf-auth received the access token. You can close this window.", nullptr));
    else if (st == LF_E_ACCESS_DENIED)
        send_page(res, 200,
                  page("Declined", "The authorization was declined. You can close this window.", lf_status_name(st)));
    else
        send_page(res, 400,
                  page("Authorization failed", "lf-auth could not complete the authorization.", lf_status_name(st)));
}

void settle(Outcome &oc, lf_status st, const lf_error &e, lf_token *tok) {
    std::lock_guard<std::mutex> lk(oc.mu);
    oc.status = st;
    oc.err = e;
    oc.token = tok;
    oc.done = true;
    oc.cv.notify_all();
}

void handle_callback(const Callback &cb, const httplib::Request &req, httplib::Response &res) {
    // Compare the raw path of the request target with the redirect URI's.
    const std::string &target = req.target;
    size_t q = target.find('?');
    if (target.substr(0, q) != cb.path) {
        send_page(res, 404, page("Not found", "This is the lf-auth login listener.", nullptr));
        return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer");
    std::string query = q == std::string::npos ? std::string() : target.substr(q);
    if (!carries_state(query, cb.state)) {
        explicit_bzero(&query[0], query.size());
        refuse_without_state(res);
        progress(cb.c, "refused a request to %s without this login's state (HTTP 400); still waiting", cb.path.c_str());
        return;
    }
    if (!claim(cb.oc, res)) {
        explicit_bzero(&query[0], query.size());
        return;
    }
    lf_error e;
    lf_token *tok = nullptr;
    lf_status st = redeem(cb, query, &tok, &e);
    answer_browser(res, st);
    settle(cb.oc, st, e, tok);
}

void serve_callback(const Callback &cb, const httplib::Request &req, httplib::Response &res) {
    try {
        handle_callback(cb, req, res);
    } catch (...) {
        // Never leave the main thread waiting for an outcome that will not come.
        std::lock_guard<std::mutex> lk(cb.oc.mu);
        if (cb.oc.claimed && !cb.oc.done) {
            cb.oc.status = LF_E_INTERNAL;
            cb.oc.done = true;
            cb.oc.cv.notify_all();
        }
        res.status = 500;
    }
}

void announce(const LoginArgs &a, const Listen &l, const std::vector<char> &consent) {
    // Scripts rely on these two lines, so they are printed even with --quiet.
    std::fprintf(stderr, "LF_AUTH_REDIRECT_URI=%s\nLF_AUTH_CONSENT_URL=%s\n", l.redirect_uri.c_str(), consent.data());
    std::fflush(stderr);
    progress(a.c, "the app must whitelist exactly this redirect URI: %s", l.redirect_uri.c_str());
    if (l.port_was_free)
        std::fputs(
            "lf-auth: warning: --port 0 took a free port; a redirect URI with a random port cannot be "
            "whitelisted on the platform\n",
            stderr);
    progress(a.c, "open the consent URL above in a browser; waiting up to %ld s for the redirect to %s", a.timeout_s,
             l.redirect_uri.c_str());
    if (a.open) open_browser(a.c, consent.data());
}

// False when no redirect arrived within `timeout_s`.
bool wait_for_redirect(Outcome &oc, long timeout_s) {
    std::unique_lock<std::mutex> lk(oc.mu);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    // Once a redirect is being handled, the exchange is bounded by the
    // library's own timeouts: wait for it to finish.
    while (!oc.done) {
        if (oc.claimed) {
            oc.cv.wait(lk);
        } else if (oc.cv.wait_until(lk, deadline) == std::cv_status::timeout && !oc.claimed && !oc.done) {
            return false;
        }
    }
    return true;
}

int finish(const LoginArgs &a, Outcome &oc, bool arrived, SaveFile &out, const Listen &l) {
    if (!arrived) {
        lf_error te{};
        te.status = LF_E_TIMEOUT;
        std::snprintf(te.message, sizeof te.message, "no redirect arrived within %ld s", a.timeout_s);
        return report_failure(a.c, "login", LF_E_TIMEOUT, &te);
    }
    if (oc.status != LF_OK) return report_failure(a.c, "login", oc.status, &oc.err);
    if (!out.active()) progress(a.c, "authorized; the access token follows on stdout");
    deliver_token(a.c, oc.token, out, l.redirect_uri.c_str());
    return kExitOk;
}

}  // namespace

int cmd_login(const Args &args) {
    LoginArgs a;
    if (!parse_args(args, a)) return kExitOk;
    Common &c = a.c;
    Listen l;
    if (!c.redirect_uris.empty())
        l = parse_redirect(c.redirect_uris.front(), a.port_flag);
    else
        l.port = a.port_flag < 0 ? kDefaultPort : a.port_flag;
    SaveFile out;
    if (!a.save.empty()) out.prepare(a.save, a.force);
    httplib::Server svr;
    bind_listener(svr, l);
    c.redirect_uris.assign(1, l.redirect_uri);

    lf_error err;
    Client client;
    lf_status s = client.open(c, true, true, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    char state[LF_STATE_BUFFER_SIZE];
    s = lf_state_generate(state, sizeof state);
    if (s != LF_OK) return report_failure(c, "state generation", s, nullptr);
    std::vector<char> consent;
    s = consent_url(client.get(), l.redirect_uri, a.scope, state, consent);
    if (s != LF_OK) return report_failure(c, "consent URL", s, nullptr);

    Outcome oc;
    const Callback cb{c, client.get(), state, l.path, oc};
    svr.Get(R"(.*)", [&cb](const httplib::Request &req, httplib::Response &res) { serve_callback(cb, req, res); });
    std::thread server([&svr]() { svr.listen_after_bind(); });
    announce(a, l, consent);
    bool arrived = wait_for_redirect(oc, a.timeout_s);
    svr.stop();
    server.join();
    return finish(a, oc, arrived, out, l);
}

}  // namespace lfcli
