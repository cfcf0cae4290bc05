// End-to-end test of lf-sandbox (docs/SANDBOX.md): the real binary, over
// HTTPS with a certificate it generates, on a free loopback port; requests
// made with libcurl (an HTTP stack independent of the server's), webhooks
// received by a cpp-httplib server and checked with lf_webhook_verify.
// Every wait is bounded; every sandbox is killed in teardown even when an
// assertion fails.
#include <lightfunnels/auth.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <setjmp.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <cmocka.h>
}

extern char **environ;

namespace {

using Clock = std::chrono::steady_clock;

// ---- helpers -----------------------------------------------------------------

std::string random_hex(size_t n) {
    std::vector<unsigned char> raw(n);
    if (RAND_bytes(raw.data(), static_cast<int>(n)) != 1) std::abort();
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 0xf];
    }
    return out;
}

std::string b64(const std::string &raw) {
    std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(&out[0]),
                            reinterpret_cast<const unsigned char *>(raw.data()), static_cast<int>(raw.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string esc(const std::string &s) {
    char *e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
    std::string out(e ? e : "");
    curl_free(e);
    return out;
}

std::string unesc(const std::string &s) {
    int len = 0;
    char *u = curl_easy_unescape(nullptr, s.c_str(), static_cast<int>(s.size()), &len);
    std::string out(u ? u : "", u ? static_cast<size_t>(len) : 0);
    curl_free(u);
    return out;
}

// Parameters of a URL's query, in order (a repeated name keeps every value).
std::multimap<std::string, std::string> query_of(const std::string &url) {
    std::multimap<std::string, std::string> out;
    size_t q = url.find('?');
    if (q == std::string::npos) return out;
    std::stringstream ss(url.substr(q + 1));
    std::string part;
    while (std::getline(ss, part, '&')) {
        size_t eq = part.find('=');
        out.emplace(unesc(part.substr(0, eq)), eq == std::string::npos ? "" : unesc(part.substr(eq + 1)));
    }
    return out;
}

std::string one(const std::multimap<std::string, std::string> &q, const char *name) {
    assert_int_equal(q.count(name), 1);
    return q.find(name)->second;
}

bool contains(const std::string &hay, const std::string &needle) { return hay.find(needle) != std::string::npos; }

bool is_b64token(const std::string &s) {
    static const std::regex re("^[A-Za-z0-9._~+/-]+=*$");
    return std::regex_match(s, re);
}

// Every secret-like value a test handles; none may appear in a sandbox log.
std::vector<std::string> g_canaries;
std::mutex g_canaries_mu;
// Each is searched raw, percent-encoded and base64-encoded (a secret echoed in any of those forms is still a leak).
void canary(const std::string &s) {
    std::lock_guard<std::mutex> lock(g_canaries_mu);
    g_canaries.push_back(s);
    g_canaries.push_back(esc(s));
    g_canaries.push_back(b64(s).substr(0, b64(s).size() > 8 ? b64(s).size() - 4 : 0));
}

// ---- the sandbox process ----------------------------------------------------------

struct Sandbox {
    pid_t pid = -1;
    int out_fd = -1;
    std::string dir, url, ca, log;
    bool reaped = false;
};

// Processes not yet reaped, by value (a failed assertion longjmps out of the
// test, so nothing on its stack may be referenced): teardown kills them.
struct Running {
    pid_t pid;
    int fd;
    std::string log;
};
std::vector<Running> g_running;

void unregister(pid_t pid) {
    for (auto it = g_running.begin(); it != g_running.end(); ++it)
        if (it->pid == pid) {
            g_running.erase(it);
            return;
        }
}

const char *sandbox_bin() {
    const char *env = std::getenv("LF_SANDBOX_BIN");
    return env && *env ? env : LF_SANDBOX_BIN;
}

std::string make_tmpdir() {
    const char *base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/lf-sandbox-test.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) fail_msg("mkdtemp failed: %s", std::strerror(errno));
    return buf.data();
}

// Spawns lf-sandbox with `args` (plus --tls-self-signed DIR/tls unless
// `plain`), stderr to DIR/log. Returns the exit status if it ended before
// printing a ready line (ready == false), else fills sb.url.
bool spawn_sandbox(Sandbox &sb, std::vector<std::string> args, bool plain, int *early_status) {
    sb.dir = make_tmpdir();
    sb.log = sb.dir + "/sandbox.log";
    sb.ca = sb.dir + "/tls/ca.pem";
    if (!plain) {
        args.insert(args.begin(), sb.dir + "/tls");
        args.insert(args.begin(), "--tls-self-signed");
    }
    args.insert(args.begin(), sandbox_bin());
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);

    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, sb.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&sb.pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) fail_msg("posix_spawn %s: %s", argv[0], std::strerror(rc));
    sb.out_fd = fds[0];
    g_running.push_back(Running{sb.pid, sb.out_fd, sb.log});

    // Read the ready line, bounded by 30 s (key generation on a loaded machine).
    std::string line;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) fail_msg("lf-sandbox printed no ready line within 30 s (log: %s)", sb.log.c_str());
        struct pollfd p = {sb.out_fd, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR) continue;
        char buf[256];
        ssize_t got = n > 0 ? read(sb.out_fd, buf, sizeof buf) : 0;
        if (n > 0 && got == 0) {  // EOF: it exited
            int status = 0;
            for (int i = 0; i < 100 && waitpid(sb.pid, &status, WNOHANG) == 0; ++i) usleep(50 * 1000);
            sb.reaped = true;
            unregister(sb.pid);
            if (early_status) *early_status = status;
            return false;
        }
        if (got > 0) line.append(buf, static_cast<size_t>(got));
    }
    line.resize(line.find('\n'));
    const std::string prefix = "LF_SANDBOX_URL=";
    if (line.compare(0, prefix.size(), prefix) != 0) fail_msg("unexpected first stdout line: %s", line.c_str());
    sb.url = line.substr(prefix.size());
    static const std::regex re("^https?://127\\.0\\.0\\.1:[1-9][0-9]{0,4}$");
    if (!std::regex_match(sb.url, re)) fail_msg("bad ready line: %s", line.c_str());
    return true;
}

void start(Sandbox &sb, std::vector<std::string> args, bool plain = false) {
    if (!spawn_sandbox(sb, std::move(args), plain, nullptr))
        fail_msg("lf-sandbox exited before it was ready (log: %s)", sb.log.c_str());
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Waits (bounded) for the process to end; returns its wait status, or -1.
int wait_exit(Sandbox &sb, int seconds) {
    int status = 0;
    auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
        pid_t r = waitpid(sb.pid, &status, WNOHANG);
        if (r == sb.pid) {
            sb.reaped = true;
            unregister(sb.pid);
            return status;
        }
        usleep(20 * 1000);
    }
    return -1;
}

void cleanup_dir(const Sandbox &sb) {
    for (const char *f : {"/tls/ca.pem", "/tls/server-cert.pem", "/tls/server-key.pem", "/tls", "/sandbox.log", ""}) {
        std::string p = sb.dir + f;
        if (std::remove(p.c_str()) != 0 && errno != ENOENT) std::fprintf(stderr, "could not remove %s\n", p.c_str());
    }
}

void forget(Sandbox &sb) {
    if (!sb.reaped) unregister(sb.pid);
    if (sb.out_fd >= 0) close(sb.out_fd);
    sb.out_fd = -1;
}

// SIGTERM, expect exit 0 within 10 s, then check the log for leaked secrets.
void stop(Sandbox &sb) {
    assert_int_equal(kill(sb.pid, SIGTERM), 0);
    int status = wait_exit(sb, 10);
    if (status == -1) {
        kill(sb.pid, SIGKILL);
        wait_exit(sb, 5);
        fail_msg("lf-sandbox did not exit within 10 s of SIGTERM");
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    std::string log = read_file(sb.log);
    assert_true(contains(log, "lf-sandbox: stopped"));
    std::vector<std::string> canaries;
    {
        std::lock_guard<std::mutex> lock(g_canaries_mu);  // never fail while holding it
        canaries = g_canaries;
    }
    for (const auto &c : canaries)
        if (!c.empty() && contains(log, c))
            fail_msg("a secret, code or token appears in the sandbox log %s", sb.log.c_str());
    forget(sb);
    cleanup_dir(sb);
}

int teardown(void **) {
    std::vector<Running> left;
    left.swap(g_running);
    for (const Running &r : left) {
        kill(r.pid, SIGKILL);
        int status;
        for (int i = 0; i < 250 && waitpid(r.pid, &status, WNOHANG) == 0; ++i) usleep(20 * 1000);
        if (r.fd >= 0) close(r.fd);
        std::fprintf(stderr, "(lf-sandbox killed; its log is kept in %s)\n", r.log.c_str());
    }
    return 0;
}

// ---- HTTP with libcurl ------------------------------------------------------------

struct Resp {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    bool has(const char *h) const { return headers.count(h) != 0; }
    std::string header(const char *h) const {
        auto it = headers.find(h);
        return it == headers.end() ? "" : it->second;
    }
};

size_t on_body(char *p, size_t size, size_t n, void *ud) {
    static_cast<std::string *>(ud)->append(p, size * n);
    return size * n;
}

size_t on_header(char *p, size_t size, size_t n, void *ud) {
    std::string line(p, size * n);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t\r\n") + 1);
        (*static_cast<std::map<std::string, std::string> *>(ud))[name] = value;
    }
    return size * n;
}

Resp request(const Sandbox &sb, const char *method, const std::string &path, const std::string &body = "",
             std::vector<std::string> headers = {}) {
    CURL *h = curl_easy_init();
    assert_non_null(h);
    Resp r;
    std::string url = sb.url + path;
    struct curl_slist *list = nullptr;
    headers.push_back("Expect:");
    for (const auto &x : headers) list = curl_slist_append(list, x.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (sb.url.compare(0, 6, "https:") == 0)
        curl_easy_setopt(h, CURLOPT_CAINFO, sb.ca.c_str());  // verification stays on
    if (std::strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) fail_msg("%s %s: %s", method, path.c_str(), curl_easy_strerror(rc));
    return r;
}

Resp post_json(const Sandbox &sb, const std::string &path, const std::string &json,
               std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return request(sb, "POST", path, json, std::move(headers));
}

std::string json_str(const std::string &s) {  // enough for the values the tests use
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// A string member of a flat-ish JSON body, with a parse by cJSON-free means:
// the library under test returns the same through lf_* calls; here a regex
// on the sandbox's compact output is enough and independent.
std::string json_field(const std::string &body, const std::string &name) {
    std::regex re("\"" + name + "\":\"([^\"]*)\"");
    std::smatch m;
    if (!std::regex_search(body, m, re)) return "";
    return m[1];
}

// ---- fixtures -----------------------------------------------------------------------

const char *kRedirect = "https://app.example/cb";
const char *kRedirectQ = "http://127.0.0.1:9/cb?x=1";

struct Client {
    std::string id, secret;
};

Client new_client() {
    Client c{"app_" + random_hex(4), "sEcReT-" + random_hex(16) + ":x=/+!"};
    canary(c.secret);
    return c;
}

std::vector<std::string> client_args(const Client &c, std::vector<std::string> extra) {
    std::vector<std::string> a{"--client", c.id + ":" + c.secret + ":" + kRedirect, "--client",
                               c.id + ":" + c.secret + ":" + kRedirectQ};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::string authorize_path(const std::string &id, const std::string &redirect, const std::string &scope,
                           const std::string &state) {
    return "/admin/oauth?client_id=" + esc(id) + "&redirect_uri=" + esc(redirect) + "&scope=" + scope +
           "&state=" + esc(state);
}

std::string nonce_of(const std::string &html) {
    static const std::regex re("name=\"nonce\" value=\"([A-Za-z0-9_-]+)\"");
    std::smatch m;
    if (!std::regex_search(html, m, re)) fail_msg("no nonce in the consent page");
    return m[1];
}

// Auto-approve: a fresh code for (client, redirect).
std::string get_code(const Sandbox &sb, const Client &c, const std::string &redirect = kRedirect) {
    std::string state = random_hex(8);
    Resp r = request(sb, "GET", authorize_path(c.id, redirect, "orders", state));
    assert_int_equal(r.status, 302);
    auto q = query_of(r.header("location"));
    assert_string_equal(one(q, "state").c_str(), state.c_str());
    std::string code = one(q, "code");
    canary(code);
    return code;
}

std::string exchange_json(const Sandbox &sb, const Client &c, const std::string &code, long *status,
                          std::string *body = nullptr) {
    Resp r = post_json(sb, "/oauth/access_token",
                       "{\"client_id\":" + json_str(c.id) + ",\"client_secret\":" + json_str(c.secret) +
                           ",\"code\":" + json_str(code) + "}");
    *status = r.status;
    if (body) *body = r.body;
    std::string tok = json_field(r.body, "access_token");
    if (!tok.empty()) canary(tok);
    return tok;
}

std::string basic(const Client &c) { return "Authorization: Basic " + b64(c.id + ":" + c.secret); }

std::string graphql(const Sandbox &sb, const std::string &token, const std::string &query, long *status) {
    Resp r = post_json(sb, "/api/v2", "{\"query\":" + json_str(query) + ",\"variables\":{}}",
                       {"Authorization: Bearer " + token});
    *status = r.status;
    return r.body;
}

// ---- tests ----------------------------------------------------------------------------

// Runs lf-sandbox to completion (bounded: 10 s); returns the wait status and
// fills stdout / stderr.
int run_to_exit(std::vector<std::string> args, std::string &out, std::string &err) {
    Sandbox sb;
    sb.dir = make_tmpdir();
    std::string out_path = sb.dir + "/out", err_path = sb.dir + "/err";
    args.insert(args.begin(), sandbox_bin());
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&sb.pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("posix_spawn %s: %s", argv[0], std::strerror(rc));
    g_running.push_back(Running{sb.pid, -1, err_path});
    int status = wait_exit(sb, 10);
    if (status == -1) fail_msg("lf-sandbox %s did not exit within 10 s", args.size() > 1 ? args[1].c_str() : "");
    forget(sb);
    out = read_file(out_path);
    err = read_file(err_path);
    std::remove(out_path.c_str());
    std::remove(err_path.c_str());
    std::remove(sb.dir.c_str());
    return status;
}

void test_cli(void **) {
    std::string out, err;
    int status = run_to_exit({"--help"}, out, err);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(contains(out, "--tls-self-signed"));
    assert_true(contains(out, "--auto-approve"));

    // Non-loopback --listen addresses, no client, bad options: exit 2, no ready line.
    Client c = new_client();
    std::vector<std::vector<std::string>> bad = {
        client_args(c, {"--listen", "0.0.0.0:0"}),
        client_args(c, {"--listen", "10.1.2.3:0"}),
        client_args(c, {"--listen", "[::]:0"}),
        client_args(c, {"--listen", "example.com:0"}),
        client_args(c, {"--code-ttl", "0"}),
        client_args(c, {"--tls-cert", "/nonexistent"}),
        client_args(c, {"--bogus"}),
        {"--client", c.id + ":" + c.secret},
        {"--client", c.id + ":" + c.secret + ":ftp://x/cb"},
        {},
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        status = run_to_exit(bad[i], out, err);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) != 2) fail_msg("case %zu: exit %d, want 2", i, WEXITSTATUS(status));
        assert_false(contains(out, "LF_SANDBOX_URL"));
        assert_false(contains(err, c.secret));  // never echo a secret, even a throwaway one
        assert_true(err.size() > 0);
    }
    status = run_to_exit(client_args(c, {"--listen", "1.2.3.4:0"}), out, err);
    assert_true(contains(err, "loopback") || contains(err, "refus"));

    // Plain HTTP when no TLS option is given.
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve"}), true);
    assert_true(sb.url.compare(0, 7, "http://") == 0);
    get_code(sb, c);
    stop(sb);
}

void test_consent_page(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    std::string state = "st\"<b>&'" + random_hex(8);
    canary(state);
    Resp r = request(sb, "GET", authorize_path(c.id, kRedirect, "orders,products,contact_form_data,new_thing", state));
    assert_int_equal(r.status, 200);
    assert_true(contains(r.header("content-type"), "text/html"));
    assert_false(r.has("location"));
    for (const char *s : {"orders", "products", "contact_form_data", "new_thing"})
        assert_true(contains(r.body, std::string("data-scope=\"") + s + "\""));
    assert_true(contains(r.body, "action=\"/admin/oauth/decision\""));
    assert_true(contains(r.body, ">Approve<"));
    assert_true(contains(r.body, ">Deny<"));
    // Interpolated values are escaped.
    assert_false(contains(r.body, "st\"<b>"));
    assert_true(contains(r.body, "st&quot;&lt;b&gt;&amp;&#39;"));

    // Approve: 302 to the redirect URI with code and the exact state.
    std::string nonce = nonce_of(r.body);
    canary(nonce);
    Resp d = request(sb, "POST", "/admin/oauth/decision", "nonce=" + nonce + "&decision=approve",
                     {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 302);
    std::string loc = d.header("location");
    assert_true(loc.compare(0, std::strlen(kRedirect) + 1, std::string(kRedirect) + "?") == 0);
    auto q = query_of(loc);
    assert_string_equal(one(q, "state").c_str(), state.c_str());
    std::string code = one(q, "code");
    canary(code);
    assert_true(code.size() >= 22);  // >= 128 bits in base64url
    assert_true(std::regex_match(code, std::regex("^[A-Za-z0-9_-]+$")));

    // The nonce is single-use.
    Resp again = request(sb, "POST", "/admin/oauth/decision", "nonce=" + nonce + "&decision=approve",
                         {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(again.status, 400);
    assert_false(again.has("location"));

    // The code from the page works once.
    long status = 0;
    assert_true(is_b64token(exchange_json(sb, c, code, &status)));
    assert_int_equal(status, 200);
    stop(sb);
}

void test_consent_errors(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    // Redirect URIs that are not whitelisted byte for byte: 400, never a redirect.
    for (const char *bad : {"https://app.example/cb/", "https://APP.example/cb", "https://app.example/c",
                            "https://evil.example/cb", "http://app.example/cb", "https://app.example/cb?x=1"}) {
        Resp r = request(sb, "GET", authorize_path(c.id, bad, "orders", "s1"));
        assert_int_equal(r.status, 400);
        assert_false(r.has("location"));
        assert_true(contains(r.header("content-type"), "text/html"));
    }
    // Unknown client, missing redirect URI, repeated parameter.
    Resp r = request(sb, "GET", authorize_path("nobody", kRedirect, "orders", "s1"));
    assert_int_equal(r.status, 400);
    assert_false(r.has("location"));
    r = request(sb, "GET", "/admin/oauth?client_id=" + esc(c.id) + "&scope=orders");
    assert_int_equal(r.status, 400);
    assert_false(r.has("location"));
    r = request(sb, "GET", authorize_path(c.id, kRedirect, "orders", "s1") + "&state=s2");
    assert_int_equal(r.status, 400);
    assert_false(r.has("location"));
    // Malformed scopes go back to the app as invalid_scope (the URI is trusted by then).
    for (const char *scope : {"Orders", "orders,,products", "orders%20products", "", "a-b"}) {
        r = request(sb, "GET", authorize_path(c.id, kRedirect, scope, "s3"));
        assert_int_equal(r.status, 302);
        auto q = query_of(r.header("location"));
        assert_string_equal(one(q, "error").c_str(), "invalid_scope");
        assert_string_equal(one(q, "state").c_str(), "s3");
        assert_int_equal(q.count("code"), 0);
    }
    // Wrong methods.
    assert_int_equal(request(sb, "POST", "/admin/oauth", "x=1").status, 405);
    assert_int_equal(request(sb, "GET", "/admin/oauth/decision").status, 405);
    stop(sb);
}

void test_deny_and_forgery(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    std::string state = "deny state/" + random_hex(4);
    // The redirect URI with a query gets '&', not a second '?'.
    Resp r = request(sb, "GET", authorize_path(c.id, kRedirectQ, "orders,products", state));
    assert_int_equal(r.status, 200);
    std::string nonce = nonce_of(r.body);
    // Post every field the way a browser encodes a form (spaces as '+').
    std::string form_state = esc(state);
    for (size_t p = form_state.find("%20"); p != std::string::npos; p = form_state.find("%20"))
        form_state.replace(p, 3, "+");
    assert_true(contains(form_state, "+"));
    Resp d = request(sb, "POST", "/admin/oauth/decision",
                     "nonce=" + nonce + "&client_id=" + esc(c.id) + "&redirect_uri=" + esc(kRedirectQ) +
                         "&scope=orders%2Cproducts&state=" + form_state + "&decision=deny",
                     {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 302);
    std::string loc = d.header("location");
    assert_true(loc.compare(0, std::strlen(kRedirectQ) + 1, std::string(kRedirectQ) + "&") == 0);
    auto q = query_of(loc);
    assert_string_equal(one(q, "x").c_str(), "1");
    assert_string_equal(one(q, "error").c_str(), "access_denied");
    assert_true(one(q, "error_description").size() > 0);
    assert_string_equal(one(q, "state").c_str(), state.c_str());
    assert_int_equal(q.count("code"), 0);

    // A decision whose fields differ from the page's is refused, and burns the nonce.
    r = request(sb, "GET", authorize_path(c.id, kRedirect, "orders", "s"));
    nonce = nonce_of(r.body);
    d = request(sb, "POST", "/admin/oauth/decision",
                "nonce=" + nonce + "&decision=approve&redirect_uri=" + esc("https://evil.example/cb"),
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    assert_false(d.has("location"));
    d = request(sb, "POST", "/admin/oauth/decision", "nonce=" + nonce + "&decision=approve",
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    // No nonce, or a made-up one.
    d = request(sb, "POST", "/admin/oauth/decision",
                "decision=approve&client_id=" + esc(c.id) + "&redirect_uri=" + esc(kRedirect),
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    d = request(sb, "POST", "/admin/oauth/decision", "nonce=" + random_hex(16) + "&decision=approve",
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    assert_false(d.has("location"));
    stop(sb);
}

// Form bodies are read as the sandbox's own: every pair counts (an identical
// repeat is still a repeat), whatever the Content-Type, and never merged with
// the URL's query.
void test_form_bodies(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    Resp r = request(sb, "GET", authorize_path(c.id, kRedirect, "orders", "s"));
    std::string nonce = nonce_of(r.body);
    Resp d = request(sb, "POST", "/admin/oauth/decision?nonce=" + nonce, "decision=approve",
                     {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    d = request(sb, "POST", "/admin/oauth/decision", "nonce=" + nonce + "&decision=approve&decision=approve",
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(d.status, 400);
    assert_false(d.has("location"));
    // Both were refused before the nonce was looked at: it still works, in a
    // form sent as text/plain.
    d = request(sb, "POST", "/admin/oauth/decision", "nonce=" + nonce + "&decision=approve",
                {"Content-Type: text/plain"});
    assert_int_equal(d.status, 302);
    std::string code = one(query_of(d.header("location")), "code");
    canary(code);

    Resp b = request(sb, "POST", "/api/access_token", "code=" + esc(code) + "&code=" + esc(code),
                     {basic(c), "Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_request");
    b = request(sb, "POST", "/api/access_token", "code=" + esc(code), {basic(c), "Content-Type: text/plain"});
    assert_int_equal(b.status, 200);
    canary(json_field(b.body, "access_token"));
    stop(sb);
}

void test_exchange(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--account-id", "acct_42"}));

    // Auto-approve on a redirect URI with a query: '&' joins, code + state present.
    std::string state = random_hex(8);
    Resp r = request(sb, "GET", authorize_path(c.id, kRedirectQ, "orders", state));
    assert_int_equal(r.status, 302);
    std::string loc = r.header("location");
    assert_true(loc.compare(0, std::strlen(kRedirectQ) + 1, std::string(kRedirectQ) + "&") == 0);
    auto q = query_of(loc);
    assert_string_equal(one(q, "state").c_str(), state.c_str());
    std::string code = one(q, "code");
    canary(code);

    // JSON endpoint; then the same code again is invalid_grant.
    long status = 0;
    std::string body;
    std::string tok1 = exchange_json(sb, c, code, &status);
    assert_int_equal(status, 200);
    assert_true(is_b64token(tok1));
    assert_true(tok1.size() >= 22);
    std::string again = exchange_json(sb, c, code, &status, &body);
    assert_int_equal(status, 400);
    assert_true(again.empty());
    assert_string_equal(json_field(body, "error").c_str(), "invalid_grant");
    assert_false(contains(body, code));

    // Basic endpoint, code in a form body.
    std::string code2 = get_code(sb, c);
    Resp b = request(sb, "POST", "/api/access_token", "code=" + esc(code2),
                     {basic(c), "Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 200);
    std::string tok2 = json_field(b.body, "access_token");
    canary(tok2);
    assert_true(is_b64token(tok2));
    assert_string_not_equal(tok1.c_str(), tok2.c_str());
    b = request(sb, "POST", "/api/access_token", "code=" + esc(code2),
                {basic(c), "Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_grant");

    // Basic endpoint, code in a JSON body.
    std::string code3 = get_code(sb, c);
    b = post_json(sb, "/api/access_token", "{\"code\":" + json_str(code3) + "}", {basic(c)});
    assert_int_equal(b.status, 200);
    canary(json_field(b.body, "access_token"));
    assert_true(is_b64token(json_field(b.body, "access_token")));

    // Wrong secret (both endpoints), unknown client, missing Basic: 401 invalid_client,
    // and the code stays usable.
    std::string code4 = get_code(sb, c);
    Client wrong{c.id, c.secret + "x"};
    exchange_json(sb, wrong, code4, &status, &body);
    assert_int_equal(status, 401);
    assert_string_equal(json_field(body, "error").c_str(), "invalid_client");
    Client prefix{c.id, c.secret.substr(0, c.secret.size() - 1)};
    exchange_json(sb, prefix, code4, &status, &body);
    assert_int_equal(status, 401);
    Client nobody{"nobody", c.secret};
    exchange_json(sb, nobody, code4, &status, &body);
    assert_int_equal(status, 401);
    b = request(sb, "POST", "/api/access_token", "code=" + esc(code4),
                {basic(wrong), "Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 401);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_client");
    b = request(sb, "POST", "/api/access_token", "code=" + esc(code4),
                {"Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 401);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_client");
    b = post_json(sb, "/oauth/access_token", "{\"client_id\":" + json_str(c.id) + ",\"code\":" + json_str(code4) + "}");
    assert_int_equal(b.status, 401);
    // A secret with a NUL appended must not match (no C-string truncation).
    b = post_json(sb, "/oauth/access_token",
                  "{\"client_id\":" + json_str(c.id) + ",\"client_secret\":" + json_str(c.secret + "\\u0000x") +
                      ",\"code\":" + json_str(code4) + "}");
    assert_true(b.status == 400 || b.status == 401);
    // Nor one followed by a malformed escape (cJSON decodes \uZZZZ to a NUL).
    for (const char *tail : {"\\uZZZZjunk", "\\u00", "\\u12G4"}) {
        b = post_json(sb, "/oauth/access_token",
                      "{\"client_id\":" + json_str(c.id) + ",\"client_secret\":\"" + c.secret + tail +
                          "\",\"code\":" + json_str(code4) + "}");
        assert_int_equal(b.status, 400);
        assert_string_equal(json_field(b.body, "error").c_str(), "invalid_request");
    }
    exchange_json(sb, c, code4, &status);
    assert_int_equal(status, 200);

    // Unknown code; malformed bodies; missing code; wrong methods.
    exchange_json(sb, c, "not-a-code", &status, &body);
    assert_int_equal(status, 400);
    assert_string_equal(json_field(body, "error").c_str(), "invalid_grant");
    b = post_json(sb, "/oauth/access_token", "{\"client_id\":");
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_request");
    b = post_json(sb, "/oauth/access_token",
                  "{\"client_id\":" + json_str(c.id) + ",\"client_secret\":" + json_str(c.secret) + "}");
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_request");
    b = post_json(sb, "/oauth/access_token",
                  "{\"client_id\":" + json_str(c.id) + ",\"client_secret\":" + json_str(c.secret) + ",\"code\":1}");
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_request");
    for (const char *m : {"GET", "PUT", "DELETE"}) {
        assert_int_equal(request(sb, m, "/oauth/access_token").status, 405);
        assert_int_equal(request(sb, m, "/api/access_token").status, 405);
        assert_int_equal(request(sb, m, "/api/v2").status, 405);
    }

    // GraphQL: account id, with the accepted spellings.
    for (const char *query : {"query { account { id } }", "{ account { id } }", "query{account{id}}",
                              "\n query  Q {\n\taccount {\n id\n }\n}\n"}) {
        std::string out = graphql(sb, tok1, query, &status);
        assert_int_equal(status, 200);
        assert_string_equal(out.c_str(), "{\"data\":{\"account\":{\"id\":\"acct_42\"}}}");
    }
    std::string out = graphql(sb, tok2, "query { products { id } }", &status);
    assert_int_equal(status, 200);
    assert_true(contains(out, "\"key\":\"unsupported_query\""));
    out = graphql(sb, "unknown-" + random_hex(8), "query { account { id } }", &status);
    assert_int_equal(status, 401);
    assert_true(contains(out, "\"errors\":[{"));
    assert_true(contains(out, "\"key\":\"unauthorized\""));
    assert_true(contains(out, "\"name\":\"UnauthorizedError\""));
    Resp g = request(sb, "POST", "/api/v2", "{\"query\":\"{ account { id } }\"}", {"Content-Type: application/json"});
    assert_int_equal(g.status, 401);
    g = post_json(sb, "/api/v2", "not json", {"Authorization: Bearer " + tok1});
    assert_int_equal(g.status, 400);
    assert_true(contains(g.body, "\"errors\""));

    // Revoke: the token stops working; revoking it again is 404.
    Resp rv = post_json(sb, "/_sandbox/revoke", "{\"access_token\":" + json_str(tok1) + "}");
    assert_int_equal(rv.status, 200);
    assert_true(contains(rv.body, "\"revoked\":true"));
    graphql(sb, tok1, "query { account { id } }", &status);
    assert_int_equal(status, 401);
    rv = post_json(sb, "/_sandbox/revoke", "{\"access_token\":" + json_str(tok1) + "}");
    assert_int_equal(rv.status, 404);
    graphql(sb, tok2, "query { account { id } }", &status);
    assert_int_equal(status, 200);

    // SIGUSR1 revokes every token (bounded poll: signals are asynchronous).
    assert_int_equal(kill(sb.pid, SIGUSR1), 0);
    auto deadline = Clock::now() + std::chrono::seconds(10);
    do {
        graphql(sb, tok2, "query { account { id } }", &status);
        if (status == 401) break;
        usleep(50 * 1000);
    } while (Clock::now() < deadline);
    assert_int_equal(status, 401);
    stop(sb);
}

void test_code_expiry(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--code-ttl", "1"}));
    std::string code = get_code(sb, c);
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    long status = 0;
    std::string body;
    exchange_json(sb, c, code, &status, &body);
    assert_int_equal(status, 400);
    assert_string_equal(json_field(body, "error").c_str(), "invalid_grant");
    // Through the other endpoint too, with a fresh code that also expires.
    code = get_code(sb, c);
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    Resp b = request(sb, "POST", "/api/access_token", "code=" + esc(code),
                     {basic(c), "Content-Type: application/x-www-form-urlencoded"});
    assert_int_equal(b.status, 400);
    assert_string_equal(json_field(b.body, "error").c_str(), "invalid_grant");
    stop(sb);
}

// A webhook receiver on a free loopback port (plain or TLS).
struct Receiver {
    std::unique_ptr<httplib::Server> svr;
    std::thread th;
    int port = 0;
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> got;  // (hmac header, raw body)
    std::vector<std::string> paths;                        // of each request in `got`
    std::string topic;
    int answer = 204;      // set before start()
    std::string location;  // sent when not empty

    void start(const std::string &cert = "", const std::string &key = "") {
        if (cert.empty())
            svr = std::make_unique<httplib::Server>();
        else
            svr = std::make_unique<httplib::SSLServer>(cert.c_str(), key.c_str());
        assert_true(svr->is_valid());
        svr->Post(R"(/hooks/[a-z/_-]+)", [this](const httplib::Request &req, httplib::Response &res) {
            std::lock_guard<std::mutex> lock(mu);
            got.emplace_back(req.get_header_value("lightfunnels-hmac"), req.body);
            paths.push_back(req.path);
            topic = req.get_header_value("lightfunnels-topic");
            res.status = answer;
            if (!location.empty()) res.set_header("Location", location);
        });
        port = svr->bind_to_any_port("127.0.0.1");
        assert_true(port > 0);
        th = std::thread([this] { svr->listen_after_bind(); });
        for (int i = 0; i < 200 && !svr->is_running(); ++i) usleep(10 * 1000);
        assert_true(svr->is_running());
    }
    void stop() {
        if (svr) svr->stop();
        if (th.joinable()) th.join();
    }
    size_t count() {
        std::lock_guard<std::mutex> lock(mu);
        return got.size();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hooks/lf"; }
    ~Receiver() { stop(); }
};

lf_auth *auth_for(const Client &c) {
    static const char *const redirects[] = {"https://app.example/cb"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = c.id.c_str();
    cfg.client_secret = c.secret.c_str();
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    lf_auth *a = nullptr;
    lf_error err;
    lf_status st = lf_auth_new(&cfg, &a, &err);
    if (st != LF_OK) fail_msg("lf_auth_new: %s %s", lf_status_name(st), err.message);
    return a;
}

void test_webhook(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve"}));

    Receiver plain;
    plain.start();
    std::string url = "http://127.0.0.1:" + std::to_string(plain.port) + "/hooks/lf";
    Resp r = post_json(sb, "/_sandbox/webhook", "{\"client_id\":" + json_str(c.id) + ",\"url\":" + json_str(url) + "}");
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "\"delivered\":true"));
    assert_true(contains(r.body, "\"status\":204"));

    // HTTPS receiver using the sandbox's own server certificate; ca_file to trust it.
    Receiver tls;
    tls.start(sb.dir + "/tls/server-cert.pem", sb.dir + "/tls/server-key.pem");
    std::string turl = "https://localhost:" + std::to_string(tls.port) + "/hooks/lf";
    r = post_json(
        sb, "/_sandbox/webhook",
        "{\"client_id\":" + json_str(c.id) + ",\"url\":" + json_str(turl) + ",\"ca_file\":" + json_str(sb.ca) + "}");
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "\"status\":204"));
    // Without the CA the delivery fails certificate verification: 502, not delivered.
    r = post_json(sb, "/_sandbox/webhook", "{\"client_id\":" + json_str(c.id) + ",\"url\":" + json_str(turl) + "}");
    assert_int_equal(r.status, 502);
    assert_true(contains(r.body, "\"delivered\":false"));

    // Non-loopback and malformed targets are refused before any connection.
    for (const char *bad :
         {"http://10.0.0.1:9/x", "http://example.com/x", "https://8.8.8.8/x", "http://127.0.0.1.example.com/x",
          "http://user@127.0.0.1:9/x", "ftp://127.0.0.1/x", "http://[::2]:9/x"}) {
        r = post_json(sb, "/_sandbox/webhook", "{\"client_id\":" + json_str(c.id) + ",\"url\":" + json_str(bad) + "}");
        assert_int_equal(r.status, 400);
    }
    r = post_json(sb, "/_sandbox/webhook", "{\"client_id\":\"nobody\",\"url\":" + json_str(url) + "}");
    assert_int_equal(r.status, 404);
    plain.stop();
    tls.stop();

    // Exactly the two good deliveries arrived, each correctly signed over the raw body.
    lf_auth *a = auth_for(c);
    Client other = new_client();
    lf_auth *b = auth_for(other);
    std::vector<std::pair<std::string, std::string>> all = plain.got;
    all.insert(all.end(), tls.got.begin(), tls.got.end());
    assert_int_equal(plain.got.size(), 1);
    assert_int_equal(tls.got.size(), 1);
    for (const auto &g : all) {
        assert_int_equal(g.first.size(), 44);
        assert_true(g.second.compare(0, 9, "{\"node\":{") == 0);  // the platform's shape
        assert_true(contains(g.second, "\"name\":\"#1001\""));
        assert_int_equal(lf_webhook_verify(a, g.second.data(), g.second.size(), g.first.c_str()), LF_OK);
        assert_int_equal(lf_webhook_verify(b, g.second.data(), g.second.size(), g.first.c_str()),
                         LF_E_SIGNATURE_MISMATCH);
        std::string tampered = g.second + " ";
        assert_int_equal(lf_webhook_verify(a, tampered.data(), tampered.size(), g.first.c_str()),
                         LF_E_SIGNATURE_MISMATCH);
    }
    assert_string_equal(plain.topic.c_str(), "order/confirmed");
    lf_auth_free(a);
    lf_auth_free(b);
    stop(sb);
}

std::string webhook_body(const Client &c, const std::string &url) {
    return "{\"client_id\":" + json_str(c.id) + ",\"url\":" + json_str(url) + "}";
}

long long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// Anything but an http(s) target on loopback without user info is refused by
// its spelling alone: no DNS lookup, no connection (a connection attempt would
// end in 502, or take the 5 s connect timeout). The spellings a resolver would
// turn into 127.0.0.1 (127.1, 2130706433, "localhost.", a v4-mapped address)
// aim at a live loopback receiver, which must see nothing.
void test_webhook_refuses_other_targets(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    Receiver rx;
    rx.start();
    const std::string port = std::to_string(rx.port);
    const std::string refused[] = {
        // not loopback, by address or by name
        "http://192.0.2.1:9/x", "https://192.0.2.1/x", "http://[2001:db8::1]:9/x", "http://example.invalid/x",
        "https://example.invalid:8443/x", "http://localhost.example.invalid/x", "http://127.0.0.1.example.invalid/x",
        // loopback only once resolved
        "http://127.1:" + port + "/hooks/lf", "http://2130706433:" + port + "/hooks/lf",
        "http://0x7f.0.0.1:" + port + "/hooks/lf", "http://localhost.:" + port + "/hooks/lf",
        "http://[::ffff:127.0.0.1]:" + port + "/hooks/lf",
        // user info, whichever side of it the loopback address is
        "http://user@127.0.0.1:" + port + "/hooks/lf", "http://user:pw@127.0.0.1:" + port + "/hooks/lf",
        "http://192.0.2.1\\@127.0.0.1:" + port + "/hooks/lf", "http://127.0.0.1:" + port + "@192.0.2.1/x",
        // other schemes, or none
        "ftp://127.0.0.1:" + port + "/hooks/lf", "gopher://127.0.0.1:" + port + "/x", "file:///etc/passwd",
        "//127.0.0.1:" + port + "/hooks/lf", "127.0.0.1:" + port + "/hooks/lf"};
    for (const auto &url : refused) {
        auto t0 = Clock::now();
        Resp r = post_json(sb, "/_sandbox/webhook", webhook_body(c, url));
        long long ms = ms_since(t0);
        if (r.status != 400 || json_field(r.body, "error") != "invalid_request" || ms > 1000)
            fail_msg("%s: HTTP %ld after %lld ms: %s", url.c_str(), r.status, ms, r.body.c_str());
    }
    assert_int_equal(rx.count(), 0);
    // The same receiver named plainly gets it: the refusals were about the spelling.
    Resp r = post_json(sb, "/_sandbox/webhook", webhook_body(c, rx.url()));
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "\"delivered\":true"));
    rx.stop();
    assert_int_equal(rx.count(), 1);
    lf_auth *a = auth_for(c);
    assert_int_equal(lf_webhook_verify(a, rx.got[0].second.data(), rx.got[0].second.size(), rx.got[0].first.c_str()),
                     LF_OK);
    lf_auth_free(a);
    stop(sb);
}

// A 3xx from the target is its answer: the delivery is never repeated to the
// Location, which could be any host.
void test_webhook_does_not_follow_redirects(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    Receiver target;
    target.start();
    Receiver hop;
    hop.location = target.url();
    hop.start();
    lf_auth *a = auth_for(c);
    size_t n = 0;
    for (int code : {301, 302, 303, 307, 308}) {
        {
            std::lock_guard<std::mutex> lock(hop.mu);
            hop.answer = code;
        }
        Resp r = post_json(sb, "/_sandbox/webhook", webhook_body(c, hop.url()));
        assert_int_equal(r.status, 200);
        assert_true(contains(r.body, "\"delivered\":true"));
        assert_true(contains(r.body, "\"status\":" + std::to_string(code)));
        assert_int_equal(hop.count(), ++n);
    }
    hop.stop();
    target.stop();
    assert_int_equal(target.count(), 0);
    for (const auto &g : hop.got)
        assert_int_equal(lf_webhook_verify(a, g.second.data(), g.second.size(), g.first.c_str()), LF_OK);
    lf_auth_free(a);
    stop(sb);
}

// A loopback target that misbehaves once it has read the request. A raw
// socket: cpp-httplib's server can neither trickle headers nor send without
// end. Its state is shared with its detached thread, so a failed assertion
// (which longjmps past destructors) leaves the thread nothing dangling.
enum class Misbehave { endless_body, trickle_body, trickle_headers };

struct RawTarget {
    std::atomic<size_t> sent{0};
    std::atomic<bool> got_request{false};
    std::atomic<bool> done{false};
};

constexpr size_t kEndlessCap = 64u << 20;  // what "endless" means here

bool send_all(int fd, const std::string &s, RawTarget &st) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
        st.sent += static_cast<size_t>(n);
    }
    return true;
}

void misbehave(int fd, Misbehave how, RawTarget &st) {
    auto deadline = Clock::now() + std::chrono::seconds(how == Misbehave::trickle_headers ? 25 : 20);
    switch (how) {
    case Misbehave::endless_body: {
        if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\n", st)) return;
        const std::string block(64 * 1024, 'x');
        while (st.sent < kEndlessCap && Clock::now() < deadline && send_all(fd, block, st)) {
        }
        return;
    }
    case Misbehave::trickle_body:
        if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", st)) return;
        while (Clock::now() < deadline && send_all(fd, "x", st)) usleep(100 * 1000);
        return;
    case Misbehave::trickle_headers:
        if (!send_all(fd, "HTTP/1.1 200 OK\r\n", st)) return;
        while (Clock::now() < deadline && send_all(fd, "X-Slow: 1\r\n", st)) usleep(100 * 1000);
        return;
    }
}

void serve_one(int ls, Misbehave how, RawTarget &st) {
    struct pollfd p = {ls, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1) return;
    int fd = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    struct timeval tv = {5, 0};  // a peer that stops reading cannot block a send for long
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
    }
    st.got_request = req.compare(0, 5, "POST ") == 0 && contains(req, "\r\n\r\n");
    if (st.got_request) misbehave(fd, how, st);
    close(fd);
}

// Listens on a free 127.0.0.1 port for one connection; returns the port.
int start_raw_target(Misbehave how, const std::shared_ptr<RawTarget> &st) {
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(ls >= 0);
    struct sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(ls, reinterpret_cast<struct sockaddr *>(&a), sizeof a), 0);
    assert_int_equal(listen(ls, 1), 0);
    assert_int_equal(getsockname(ls, reinterpret_cast<struct sockaddr *>(&a), &len), 0);
    std::thread([ls, how, st] {
        serve_one(ls, how, *st);
        close(ls);
        st->done = true;
    }).detach();
    return ntohs(a.sin_port);
}

void wait_done(const RawTarget &st) {
    for (int i = 0; i < 400 && !st.done; ++i)  // 40 s: above every misbehaviour's own bound
        usleep(100 * 1000);
    assert_true(st.done);
}

// The target's answer is bounded: its status is all the sandbox reports, so
// the body is not read (an endless or trickled body costs nothing), and the
// whole delivery has a deadline (10 s) that a target trickling its headers
// cannot stretch (the read timeout alone restarts with every byte).
void test_webhook_bounded_answer(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));

    auto endless = std::make_shared<RawTarget>();
    int port = start_raw_target(Misbehave::endless_body, endless);
    auto t0 = Clock::now();
    Resp r = post_json(sb, "/_sandbox/webhook", webhook_body(c, "http://127.0.0.1:" + std::to_string(port) + "/h"));
    long long ms = ms_since(t0);
    wait_done(*endless);
    assert_true(endless->got_request);
    if (endless->sent >= kEndlessCap / 2)
        fail_msg("the sandbox read %zu bytes of an endless answer", endless->sent.load());
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "\"delivered\":true"));
    assert_true(contains(r.body, "\"status\":200"));
    assert_true(ms < 5000);

    auto slow_body = std::make_shared<RawTarget>();
    port = start_raw_target(Misbehave::trickle_body, slow_body);
    t0 = Clock::now();
    r = post_json(sb, "/_sandbox/webhook", webhook_body(c, "http://127.0.0.1:" + std::to_string(port) + "/h"));
    ms = ms_since(t0);
    if (ms > 3000) fail_msg("a trickled body held the delivery for %lld ms", ms);
    assert_int_equal(r.status, 200);
    assert_true(contains(r.body, "\"status\":200"));
    wait_done(*slow_body);
    assert_true(slow_body->got_request);

    auto slow_headers = std::make_shared<RawTarget>();
    port = start_raw_target(Misbehave::trickle_headers, slow_headers);
    t0 = Clock::now();
    r = post_json(sb, "/_sandbox/webhook", webhook_body(c, "http://127.0.0.1:" + std::to_string(port) + "/h"));
    ms = ms_since(t0);
    if (ms > 14000) fail_msg("trickled headers held the delivery for %lld ms", ms);
    assert_int_equal(r.status, 502);
    assert_true(contains(r.body, "\"delivered\":false"));
    assert_true(contains(json_field(r.body, "error"), "deadline"));
    wait_done(*slow_headers);
    assert_true(slow_headers->got_request);
    stop(sb);
}

// What any web page can make a browser send must not start a delivery: a
// cross-site "simple" POST (text/plain or a form type: no CORS preflight) and
// a request whose Host is not loopback (a page that rebinds its own name to
// 127.0.0.1) are refused before the body is even read.
void test_webhook_refuses_browser_requests(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    Receiver rx;
    rx.start();
    const std::string body = webhook_body(c, rx.url());
    for (const char *type : {"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"}) {
        Resp r = request(sb, "POST", "/_sandbox/webhook", body, {std::string("Content-Type: ") + type});
        if (r.status != 415 || json_field(r.body, "error") != "invalid_request")
            fail_msg("Content-Type %s: HTTP %ld %s", type, r.status, r.body.c_str());
    }
    const std::string sb_port = sb.url.substr(sb.url.rfind(':') + 1);
    for (const std::string &host : {std::string("evil.example"), "evil.example:" + sb_port,
                                    "127.0.0.1.evil.example:" + sb_port, "192.0.2.1:" + sb_port}) {
        Resp r = post_json(sb, "/_sandbox/webhook", body, {"Host: " + host});
        if (r.status != 403 || json_field(r.body, "error") != "forbidden_host")
            fail_msg("Host %s: HTTP %ld %s", host.c_str(), r.status, r.body.c_str());
    }
    assert_int_equal(rx.count(), 0);
    // What the tools send is delivered, with any loopback spelling of the Host.
    Resp r = request(sb, "POST", "/_sandbox/webhook", body, {"Content-Type: application/json; charset=utf-8"});
    assert_int_equal(r.status, 200);
    r = post_json(sb, "/_sandbox/webhook", body, {"Host: localhost:" + sb_port});
    assert_int_equal(r.status, 200);
    r = post_json(sb, "/_sandbox/webhook", body, {"Host: [::1]:" + sb_port});
    assert_int_equal(r.status, 200);
    assert_int_equal(rx.count(), 3);
    rx.stop();
    stop(sb);
}

// ---- the platform's webhooks (GraphQL registry, events, uninstall) ------------------

struct JsonDel {
    void operator()(cJSON *p) const { cJSON_Delete(p); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDel>;

JsonPtr parse(const std::string &body) {
    JsonPtr j(cJSON_ParseWithLength(body.data(), body.size()));
    if (!j) fail_msg("not JSON: %s", body.c_str());
    return j;
}

// obj.a.b... as a string ("" when missing or not a string).
std::string str_at(const cJSON *obj, std::initializer_list<const char *> path) {
    const cJSON *at = obj;
    for (const char *k : path) at = cJSON_GetObjectItemCaseSensitive(at, k);
    return cJSON_IsString(at) ? at->valuestring : "";
}

// A token for `c` (auto-approve sandbox), through the JSON endpoint.
std::string token_for(const Sandbox &sb, const Client &c) {
    long status = 0;
    std::string tok = exchange_json(sb, c, get_code(sb, c), &status);
    assert_int_equal(status, 200);
    return tok;
}

// POST /api/v2 with a query and a variables document (JSON text, may be "").
Resp gql(const Sandbox &sb, const std::string &token, const std::string &query, const std::string &variables = "") {
    std::string body = "{\"query\":" + json_str(query) + (variables.empty() ? "" : ",\"variables\":" + variables) + "}";
    std::vector<std::string> h;
    if (!token.empty()) h.push_back("Authorization: Bearer " + token);
    return post_json(sb, "/api/v2", body, h);
}

// The platform's error shape: {"errors":[{"message","name","key","path":[]}]}, no data.
void assert_graphql_error(const Resp &r, const char *key) {
    JsonPtr j = parse(r.body);
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j.get(), "errors");
    if (!cJSON_IsArray(errors) || cJSON_GetArraySize(errors) != 1) fail_msg("no errors array: %s", r.body.c_str());
    const cJSON *e = cJSON_GetArrayItem(errors, 0);
    assert_true(str_at(e, {"message"}).size() > 0);
    assert_true(str_at(e, {"name"}).size() > 0);
    if (str_at(e, {"key"}) != key) fail_msg("want key %s: %s", key, r.body.c_str());
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "path")));
    assert_null(cJSON_GetObjectItemCaseSensitive(j.get(), "data"));
}

std::string webhook_input(const std::string &type, const std::string &url) {
    return "{\"type\":" + json_str(type) + ",\"url\":" + json_str(url) + ",\"settings\":{}}";
}

const char *kCreateWithVars = "mutation($node: WebhookInput!){ createWebhook(node: $node){ id } }";

// createWebhook through variables, as apps send it; the new webhook's id.
std::string create_webhook(const Sandbox &sb, const std::string &token, const std::string &type,
                           const std::string &url) {
    Resp r = gql(sb, token, kCreateWithVars, "{\"node\":" + webhook_input(type, url) + "}");
    assert_int_equal(r.status, 200);
    JsonPtr j = parse(r.body);
    std::string id = str_at(j.get(), {"data", "createWebhook", "id"});
    if (id.empty()) fail_msg("createWebhook: %s", r.body.c_str());
    return id;
}

// The ids of the token's webhooks, in the order listed.
std::vector<std::string> list_webhooks(const Sandbox &sb, const std::string &token) {
    Resp r = gql(sb, token, "query { webhooks { id type url settings } }");
    assert_int_equal(r.status, 200);
    JsonPtr j = parse(r.body);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j.get(), "data"), "webhooks");
    if (!cJSON_IsArray(list)) fail_msg("webhooks: %s", r.body.c_str());
    std::vector<std::string> ids;
    const cJSON *w;
    cJSON_ArrayForEach(w, list) ids.push_back(str_at(w, {"id"}));
    return ids;
}

void test_graphql_webhooks(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--account-id", "acct_wh"}));
    std::string tok = token_for(sb, c);

    // Inline arguments: the answer has the selected fields, in the documented shape.
    Resp r = gql(sb, tok,
                 "mutation { createWebhook(node: {type: \"order/confirmed\", "
                 "url: \"http://127.0.0.1:9/hooks/order\", settings: {}}) { id type settings url } }");
    assert_int_equal(r.status, 200);
    JsonPtr j = parse(r.body);
    const cJSON *w =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j.get(), "data"), "createWebhook");
    assert_true(cJSON_IsObject(w));
    assert_int_equal(cJSON_GetArraySize(w), 4);
    std::string id1 = str_at(w, {"id"});
    assert_true(id1.size() > 8);
    assert_string_equal(str_at(w, {"type"}).c_str(), "order/confirmed");
    assert_string_equal(str_at(w, {"url"}).c_str(), "http://127.0.0.1:9/hooks/order");
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(w, "settings")));

    // The docs' own mutation, with variables, an operation name, comments and
    // odd whitespace; then the short anonymous form.
    r = gql(sb, tok,
            "# Query\nmutation CreateWebhookMutation($node: WebhookInput!) {\n createWebhook(node: $node) {\n\ttype\n"
            "\tsettings ,\n\turl id\n }\n}\n",
            "{\"node\":{\"type\":\"app/uninstalled\",\"url\":\"http://localhost:9/hooks/gone\","
            "\"settings\":{\"segments_uids\":[]}}}");
    assert_int_equal(r.status, 200);
    j = parse(r.body);
    std::string id2 = str_at(j.get(), {"data", "createWebhook", "id"});
    assert_true(id2.size() > 8);
    assert_string_equal(str_at(j.get(), {"data", "createWebhook", "type"}).c_str(), "app/uninstalled");
    std::string id3 = create_webhook(sb, tok, "contact/signup", "https://[::1]:9/hooks/contact");
    // Only the selected fields come back.
    r = gql(sb, tok, kCreateWithVars, "{\"node\":" + webhook_input("order/created", "http://127.0.0.1:9/h") + "}");
    std::string id4 = str_at(parse(r.body).get(), {"data", "createWebhook", "id"});
    assert_string_equal(r.body.c_str(), ("{\"data\":{\"createWebhook\":{\"id\":" + json_str(id4) + "}}}").c_str());
    assert_true(list_webhooks(sb, tok) == (std::vector<std::string>{id1, id2, id3, id4}));

    // Delete: with variables (the docs' mutation) and inline; the answer is the id.
    r = gql(sb, tok, "mutation webhooksDeleteMutation($id: ID!){\n\tdeleteWebhook(id: $id)\n}",
            "{\"id\":" + json_str(id1) + "}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.c_str(), ("{\"data\":{\"deleteWebhook\":" + json_str(id1) + "}}").c_str());
    r = gql(sb, tok, "mutation { deleteWebhook(id: " + json_str(id4) + ") }");
    assert_string_equal(r.body.c_str(), ("{\"data\":{\"deleteWebhook\":" + json_str(id4) + "}}").c_str());
    assert_graphql_error(gql(sb, tok, "mutation { deleteWebhook(id: " + json_str(id1) + ") }"), "webhooks_not_found");
    assert_true(list_webhooks(sb, tok) == (std::vector<std::string>{id2, id3}));

    // Refused: an undocumented type, non-loopback or non-http targets, a
    // missing variable or settings, a duplicate. Nothing is registered.
    for (const char *type : {"order/shipped", "orders/created", "ORDER/CREATED", ""})
        assert_graphql_error(
            gql(sb, tok, kCreateWithVars, "{\"node\":" + webhook_input(type, "http://127.0.0.1:9/h") + "}"),
            "webhooks_invalid_type");
    for (const char *url : {"http://192.0.2.1/h", "https://example.com/h", "ftp://127.0.0.1/h", "http://127.1:9/h",
                            "http://user@127.0.0.1:9/h", "/relative"})
        assert_graphql_error(gql(sb, tok, kCreateWithVars, "{\"node\":" + webhook_input("order/created", url) + "}"),
                             "webhooks_invalid_url");
    assert_graphql_error(gql(sb, tok, kCreateWithVars), "graphql_validation");
    assert_graphql_error(
        gql(sb, tok, kCreateWithVars, "{\"node\":{\"type\":\"order/created\",\"url\":\"http://127.0.0.1:9/h\"}}"),
        "graphql_validation");
    assert_graphql_error(gql(sb, tok, "mutation { createWebhook(node: {type: \"order/created\"}) { id } }"),
                         "graphql_validation");
    assert_graphql_error(gql(sb, tok, "mutation { createWebhook(node: $node) { id } }", "{\"node\":{}}"),
                         "graphql_validation");  // $node used but not declared
    assert_graphql_error(gql(sb, tok, "mutation { createWebhook(node: {type: \"order/created\", "), "graphql_syntax");
    assert_graphql_error(gql(sb, tok, kCreateWithVars,
                             "{\"node\":" + webhook_input("contact/signup", "https://[::1]:9/hooks/contact") + "}"),
                         "webhooks_duplicated");
    assert_true(list_webhooks(sb, tok) == (std::vector<std::string>{id2, id3}));

    // The bearer is checked first: missing, unknown or revoked → 401.
    const std::string create_vars = "{\"node\":" + webhook_input("order/created", "http://127.0.0.1:9/x") + "}";
    for (const std::string &bad : {std::string(), "unknown-" + random_hex(8)}) {
        r = gql(sb, bad, kCreateWithVars, create_vars);
        assert_int_equal(r.status, 401);
        assert_graphql_error(r, "unauthorized");
        assert_int_equal(gql(sb, bad, "query { webhooks { id } }").status, 401);
        assert_int_equal(gql(sb, bad, "mutation { deleteWebhook(id: " + json_str(id2) + ") }").status, 401);
    }

    // Another app's token sees none of them and cannot delete them.
    Client other = new_client();
    Sandbox sb2;  // a second client needs its own --client lines: same sandbox, restarted
    stop(sb);
    start(sb2, {"--auto-approve", "--account-id", "acct_wh", "--client", c.id + ":" + c.secret + ":" + kRedirect,
                "--client", other.id + ":" + other.secret + ":" + kRedirect});
    std::string mine = token_for(sb2, c), theirs = token_for(sb2, other);
    std::string kept = create_webhook(sb2, mine, "order/confirmed", "http://127.0.0.1:9/hooks/order");
    assert_true(list_webhooks(sb2, theirs).empty());
    assert_graphql_error(gql(sb2, theirs, "mutation { deleteWebhook(id: " + json_str(kept) + ") }"),
                         "webhooks_not_found");
    assert_true(list_webhooks(sb2, mine) == (std::vector<std::string>{kept}));
    // A second token of the same install sees the same registry.
    std::string mine2 = token_for(sb2, c);
    assert_true(list_webhooks(sb2, mine2) == (std::vector<std::string>{kept}));
    stop(sb2);
}

// The GraphQL reader against documents apps and clients really send, and
// against hostile ones: each refusal is an error body, and the sandbox goes on.
void test_graphql_documents(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--account-id", "acct_doc"}));
    std::string tok = token_for(sb, c);

    // Aliases, __typename, a string with escapes (\u00e9, \"), a block
    // string, a default value for a variable that is not sent.
    Resp r = gql(sb, tok,
                 "mutation Make($s: WebhookInput! = {type: \"product/created\", url: \"http://127.0.0.1:9/p\", "
                 "settings: {segments_uids: [\"caf\\u00e9\", \"\"\"a \"b\" c\"\"\"]}}) {\n"
                 "  made: createWebhook(node: $s) { key: id kind: type settings __typename }\n  t: __typename\n}");
    assert_int_equal(r.status, 200);
    JsonPtr j = parse(r.body);
    assert_string_equal(str_at(j.get(), {"data", "made", "kind"}).c_str(), "product/created");
    assert_string_equal(str_at(j.get(), {"data", "made", "__typename"}).c_str(), "Webhook");
    assert_string_equal(str_at(j.get(), {"data", "t"}).c_str(), "Mutation");
    const cJSON *uids = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j.get(), "data"), "made"), "settings"),
        "segments_uids");
    assert_int_equal(cJSON_GetArraySize(uids), 2);
    assert_string_equal(cJSON_GetArrayItem(uids, 0)->valuestring, "caf\xc3\xa9");
    assert_string_equal(cJSON_GetArrayItem(uids, 1)->valuestring, "a \"b\" c");
    r = gql(sb, tok, "{ a: account { id } b: account { i: id } }");
    assert_string_equal(r.body.c_str(), "{\"data\":{\"a\":{\"id\":\"acct_doc\"},\"b\":{\"i\":\"acct_doc\"}}}");

    // Refused: fragments, directives, two operations, a variable of another
    // type, an enum where a String goes, a scalar with a selection, a
    // repeated response key, an unknown input field, a subscription.
    const std::string vars = "{\"node\":" + webhook_input("order/created", "http://127.0.0.1:9/h") + "}";
    const struct {
        const char *query;
        const char *key;
    } bad[] = {
        {"query { ...F } fragment F on Query { account { id } }", "graphql_syntax"},
        {"query { account @include(if: true) { id } }", "graphql_syntax"},
        {"query A { account { id } } query B { account { id } }", "graphql_syntax"},
        {"query { account { id }", "graphql_syntax"},
        {"query { account(id: 01) { id } }", "graphql_syntax"},
        {"query { account { id } } }", "graphql_syntax"},
        {"mutation($node: String!){ createWebhook(node: $node){ id } }", "graphql_validation"},
        {"mutation($node: WebhookInput){ createWebhook(node: $node){ id } }", "graphql_validation"},
        {"mutation($node: Nope!){ createWebhook(node: $node){ id } }", "graphql_validation"},
        {"mutation { createWebhook(node: {type: order, url: \"http://127.0.0.1:9/h\", settings: {}}) { id } }",
         "graphql_validation"},
        {"mutation { createWebhook(node: {type: \"order/created\", url: \"http://127.0.0.1:9/h\", settings: {}, "
         "colour: \"red\"}) { id } }",
         "graphql_validation"},
        {"mutation { createWebhook(node: {type: \"order/created\", url: \"http://127.0.0.1:9/h\", settings: {a: 1}}) "
         "{ id } }",
         "graphql_validation"},
        {"mutation($node: WebhookInput!){ createWebhook(node: $node) }", "graphql_validation"},
        {"mutation($node: WebhookInput!){ createWebhook(node: $node){ id { x } } }", "graphql_validation"},
        {"mutation($node: WebhookInput!){ a: createWebhook(node: $node){ id } a: __typename }", "graphql_validation"},
        {"mutation($node: WebhookInput!){ createWebhook(node: $node, extra: 1){ id } }", "graphql_validation"},
        {"mutation($id: ID!){ deleteWebhook(id: $id) { id } }", "graphql_validation"},
        {"subscription { account { id } }", "unsupported_query"},
        {"mutation($node: WebhookInput!){ createWebhook(node: $node){ id secret } }", "unsupported_query"},
        {"query { account { id name } }", "unsupported_query"},
    };
    for (const auto &b : bad) {
        r = gql(sb, tok, b.query, contains(b.query, "$id") ? "{\"id\":\"x\"}" : vars);
        if (r.status != 200 || !contains(r.body, std::string("\"key\":\"") + b.key + "\""))
            fail_msg("%s: HTTP %ld %s", b.query, r.status, r.body.c_str());
        assert_graphql_error(r, b.key);
    }
    // Nesting beyond 32 levels, in values and in selections, is refused
    // before it can exhaust the stack.
    std::string deep_value = "query { account(x: " + std::string(5000, '[') + std::string(5000, ']') + ") { id } }";
    assert_graphql_error(gql(sb, tok, deep_value), "graphql_syntax");
    std::string deep_sel = "query { account ";
    for (int i = 0; i < 40; ++i) deep_sel += "{ id ";
    deep_sel += std::string(41, '}');
    assert_graphql_error(gql(sb, tok, deep_sel), "graphql_syntax");
    // Nothing of the refused documents was registered; the sandbox still answers.
    assert_int_equal(list_webhooks(sb, tok).size(), 1);
    stop(sb);
}

// POSTs a control request (JSON) and parses the answer.
JsonPtr control(const Sandbox &sb, const std::string &path, const std::string &body, long want) {
    Resp r = post_json(sb, path, body);
    if (r.status != want) fail_msg("%s: HTTP %ld, want %ld: %s", path.c_str(), r.status, want, r.body.c_str());
    return parse(r.body);
}

int deliveries(const JsonPtr &answer) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(answer.get(), "deliveries");
    if (!cJSON_IsArray(d)) fail_msg("no deliveries array");
    const cJSON *x;
    cJSON_ArrayForEach(x, d) {
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "delivered")));
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(x, "status")->valueint, 204);
    }
    return cJSON_GetArraySize(d);
}

// The delivered body: signed with the client's secret over the raw bytes,
// {"node": {...}} and nothing else; returns the node.
JsonPtr delivered_node(const Client &c, const std::pair<std::string, std::string> &got) {
    lf_auth *a = auth_for(c);
    lf_status st = lf_webhook_verify(a, got.second.data(), got.second.size(), got.first.c_str());
    lf_auth_free(a);
    assert_int_equal(st, LF_OK);
    JsonPtr j = parse(got.second);
    assert_int_equal(cJSON_GetArraySize(j.get()), 1);
    cJSON *node = cJSON_DetachItemFromObjectCaseSensitive(j.get(), "node");
    if (!cJSON_IsObject(node)) fail_msg("no node: %s", got.second.c_str());
    return JsonPtr(node);
}

void test_events(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--account-id", "acct_ev"}));
    std::string tok = token_for(sb, c);
    Receiver rx;
    rx.start();
    const std::string base = "http://127.0.0.1:" + std::to_string(rx.port) + "/hooks/";
    create_webhook(sb, tok, "order/confirmed", base + "order");
    create_webhook(sb, tok, "contact/signup", base + "contact");
    create_webhook(sb, tok, "app/uninstalled", base + "gone");

    // An order event reaches the order/confirmed webhook only.
    JsonPtr a = control(sb, "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"order/confirmed\"}", 200);
    assert_int_equal(deliveries(a), 1);
    a = control(sb, "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"contact/signup\"}", 200);
    assert_int_equal(deliveries(a), 1);
    // A type nobody registered: nothing to deliver. Another account: nothing either.
    a = control(sb, "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"product/created\"}", 200);
    assert_int_equal(deliveries(a), 0);
    a = control(sb, "/_sandbox/event", "{\"account_id\":\"acct_other\",\"type\":\"order/confirmed\"}", 200);
    assert_int_equal(deliveries(a), 0);
    // Undocumented types, and app/uninstalled (only an uninstall sends it), are refused.
    control(sb, "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"order/shipped\"}", 400);
    control(sb, "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"app/uninstalled\"}", 400);
    control(sb, "/_sandbox/event", "{\"type\":\"order/confirmed\"}", 400);
    Resp r = request(sb, "POST", "/_sandbox/event", "{\"account_id\":\"acct_ev\",\"type\":\"order/confirmed\"}",
                     {"Content-Type: text/plain"});
    assert_int_equal(r.status, 415);
    rx.stop();

    assert_int_equal(rx.got.size(), 2);
    assert_string_equal(rx.paths[0].c_str(), "/hooks/order");
    assert_string_equal(rx.paths[1].c_str(), "/hooks/contact");
    assert_true(rx.topic.empty());  // the platform sends no topic header
    JsonPtr order = delivered_node(c, rx.got[0]);
    assert_true(str_at(order.get(), {"id"}).compare(0, 6, "order_") == 0);
    assert_string_equal(str_at(order.get(), {"__typename"}).c_str(), "Order");
    assert_string_equal(str_at(order.get(), {"account_id"}).c_str(), "acct_ev");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(order.get(), "_id")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(order.get(), "total")));
    assert_true(str_at(order.get(), {"customer", "id"}).compare(0, 4, "cus_") == 0);
    assert_true(str_at(order.get(), {"shipping_address", "country"}).size() == 2);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(order.get(), "items");
    assert_true(cJSON_IsArray(items) && cJSON_GetArraySize(items) >= 1);
    assert_string_equal(str_at(cJSON_GetArrayItem(items, 0), {"__typename"}).c_str(), "VariantSnapshot");
    const cJSON *payments = cJSON_GetObjectItemCaseSensitive(order.get(), "payments");
    assert_true(cJSON_IsArray(payments) && cJSON_GetArraySize(payments) >= 1);
    JsonPtr contact = delivered_node(c, rx.got[1]);
    assert_true(str_at(contact.get(), {"id"}).compare(0, 4, "cus_") == 0);
    assert_string_equal(str_at(contact.get(), {"__typename"}).c_str(), "Customer");
    assert_true(str_at(contact.get(), {"email"}).find('@') != std::string::npos);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(contact.get(), "billing_address")));
    stop(sb);
}

void test_uninstall(void **) {
    Client c = new_client(), other = new_client();
    Sandbox sb;
    start(sb, {"--auto-approve", "--account-id", "acct_un", "--client", c.id + ":" + c.secret + ":" + kRedirect,
               "--client", other.id + ":" + other.secret + ":" + kRedirect});
    std::string tok = token_for(sb, c), tok2 = token_for(sb, c), theirs = token_for(sb, other);
    Receiver rx;
    rx.start();
    const std::string base = "http://127.0.0.1:" + std::to_string(rx.port) + "/hooks/";
    create_webhook(sb, tok, "app/uninstalled", base + "gone");
    create_webhook(sb, tok, "order/confirmed", base + "order");
    create_webhook(sb, theirs, "app/uninstalled", base + "other");

    JsonPtr a = control(sb, "/_sandbox/uninstall", "{\"client_id\":" + json_str(c.id) + "}", 200);
    assert_int_equal(deliveries(a), 1);
    // The install's tokens stop working; the other app's does not.
    assert_int_equal(gql(sb, tok, "query { account { id } }").status, 401);
    assert_int_equal(gql(sb, tok2, "query { webhooks { id } }").status, 401);
    assert_int_equal(gql(sb, theirs, "query { account { id } }").status, 200);
    // Its webhooks are gone with it: an order event reaches nobody of it.
    a = control(sb, "/_sandbox/event", "{\"account_id\":\"acct_un\",\"type\":\"order/confirmed\"}", 200);
    assert_int_equal(deliveries(a), 0);
    // Nothing left to uninstall; an unknown client.
    control(sb, "/_sandbox/uninstall", "{\"client_id\":" + json_str(c.id) + "}", 404);
    control(sb, "/_sandbox/uninstall", "{\"client_id\":\"nobody\"}", 404);
    rx.stop();

    assert_int_equal(rx.got.size(), 1);
    assert_string_equal(rx.paths[0].c_str(), "/hooks/gone");
    assert_string_equal(rx.got[0].second.c_str(), "{\"node\":{\"id\":\"acct_un\"}}");
    delivered_node(c, rx.got[0]);
    // A new install starts with a working token and an empty registry.
    std::string again = token_for(sb, c);
    assert_true(list_webhooks(sb, again).empty());
    stop(sb);
}

int free_port() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, reinterpret_cast<struct sockaddr *>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<struct sockaddr *>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

void test_admin_page(void **) {
    Client c = new_client(), bare = new_client();
    Sandbox sb;
    const std::string app = "http://127.0.0.1:" + std::to_string(free_port()) + "/app?x=1";
    start(sb, {"--account-id", "acct_adm", "--client", c.id + ":" + c.secret + ":" + kRedirect, "--client",
               bare.id + ":" + bare.secret + ":" + kRedirect, "--app-url", c.id + ":" + app});
    Resp r = request(sb, "GET", "/admin/apps/" + esc(c.id));
    assert_int_equal(r.status, 200);
    assert_true(contains(r.header("content-type"), "text/html"));
    // The platform's embedded URL: the app's URL with account_id and iframe=true.
    static const std::regex iframe("<iframe [^>]*src=\"([^\"]*)\"");
    std::smatch m;
    if (!std::regex_search(r.body, m, iframe)) fail_msg("no iframe: %s", r.body.c_str());
    assert_string_equal(m[1].str().c_str(), (app + "&amp;account_id=acct_adm&amp;iframe=true").c_str());
    assert_true(contains(r.header("content-security-policy"), "frame-src"));
    // The consent page may be framed by the admin (same origin), by no one else.
    r = request(sb, "GET", authorize_path(c.id, kRedirect, "orders", "s"));
    assert_int_equal(r.status, 200);
    assert_true(contains(r.header("content-security-policy"), "frame-ancestors 'self'"));
    assert_string_equal(r.header("x-frame-options").c_str(), "SAMEORIGIN");
    // No app URL, unknown client: 404.
    assert_int_equal(request(sb, "GET", "/admin/apps/" + esc(bare.id)).status, 404);
    assert_int_equal(request(sb, "GET", "/admin/apps/nobody").status, 404);
    assert_int_equal(request(sb, "POST", "/admin/apps/" + esc(c.id), "x").status, 405);
    stop(sb);

    // The app must be another origin than the sandbox: same scheme, host and port is refused.
    int port = free_port();
    std::string out, err;
    int status = run_to_exit(
        {"--listen", "127.0.0.1:" + std::to_string(port), "--client", c.id + ":" + c.secret + ":" + kRedirect,
         "--app-url", c.id + ":http://127.0.0.1:" + std::to_string(port) + "/app"},
        out, err);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_true(contains(err, "origin"));
    for (const char *bad : {"ftp://127.0.0.1/app", "http://127.0.0.1/app#frag", "127.0.0.1:9/app"}) {
        status =
            run_to_exit({"--client", c.id + ":" + c.secret + ":" + kRedirect, "--app-url", c.id + ":" + bad}, out, err);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 2);
    }
    status =
        run_to_exit({"--client", c.id + ":" + c.secret + ":" + kRedirect, "--app-url", "nobody:http://x/"}, out, err);
    assert_int_equal(WEXITSTATUS(status), 2);
}

// The whole flow through the library's public API against the sandbox, for
// each client-auth style.
void test_library_flow(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {"--auto-approve", "--account-id", "acct_lib"}));
    std::string authorize = sb.url + "/admin/oauth";
    std::string json_url = sb.url + "/oauth/access_token";
    std::string basic_url = sb.url + "/api/access_token";
    std::string api = sb.url + "/api/v2";
    struct Style {
        lf_client_auth mode;
        const std::string *token_url;
    } styles[] = {{LF_CLIENT_AUTH_JSON_BODY, &json_url},
                  {LF_CLIENT_AUTH_BASIC, &basic_url},
                  {LF_CLIENT_AUTH_AUTO, &basic_url},
                  {LF_CLIENT_AUTH_AUTO, &json_url}};
    for (const auto &s : styles) {
        const char *const redirects[] = {kRedirect};
        lf_auth_config cfg;
        lf_auth_config_init(&cfg, sizeof cfg);
        cfg.client_id = c.id.c_str();
        cfg.client_secret = c.secret.c_str();
        cfg.redirect_uris = redirects;
        cfg.redirect_uri_count = 1;
        cfg.authorize_url = authorize.c_str();
        cfg.token_url = s.token_url->c_str();
        cfg.api_url = api.c_str();
        cfg.client_auth = s.mode;
        cfg.ca_file = sb.ca.c_str();
        cfg.timeout_ms = 20000;
        lf_auth *a = nullptr;
        lf_error err;
        lf_status st = lf_auth_new(&cfg, &a, &err);
        assert_int_equal(st, LF_OK);

        char state[LF_STATE_BUFFER_SIZE];
        assert_int_equal(lf_state_generate(state, sizeof state), LF_OK);
        char url[2048];
        assert_int_equal(lf_consent_url(a, kRedirect, "orders, products", state, url, sizeof url, nullptr), LF_OK);
        assert_true(std::strncmp(url, authorize.c_str(), authorize.size()) == 0);
        Resp r = request(sb, "GET", std::string(url).substr(sb.url.size()));
        assert_int_equal(r.status, 302);
        char code[512];
        st = lf_parse_callback(a, r.header("location").c_str(), state, code, sizeof code, nullptr, &err);
        if (st != LF_OK) fail_msg("lf_parse_callback: %s %s", lf_status_name(st), err.message);
        canary(code);

        lf_token *tok = nullptr;
        st = lf_exchange_code(a, code, &tok, &err);
        if (st != LF_OK)
            fail_msg("lf_exchange_code (client_auth %d, %s): %s http %ld key %s: %s", static_cast<int>(s.mode),
                     s.token_url->c_str(), lf_status_name(st), err.http_status, err.key, err.message);
        canary(lf_token_value(tok));
        // The code is spent: a second exchange is LF_E_INVALID_CODE.
        lf_token *tok2 = nullptr;
        assert_int_equal(lf_exchange_code(a, code, &tok2, &err), LF_E_INVALID_CODE);
        assert_null(tok2);

        char account[128];
        st = lf_account_id(a, lf_token_value(tok), account, sizeof account, nullptr, &err);
        if (st != LF_OK) fail_msg("lf_account_id: %s %s", lf_status_name(st), err.message);
        assert_string_equal(account, "acct_lib");

        Resp rv = post_json(sb, "/_sandbox/revoke", "{\"access_token\":" + json_str(lf_token_value(tok)) + "}");
        assert_int_equal(rv.status, 200);
        assert_int_equal(lf_account_id(a, lf_token_value(tok), account, sizeof account, nullptr, &err),
                         LF_E_UNAUTHORIZED);
        lf_token_free(tok);
        lf_auth_free(a);
    }
    stop(sb);
}

void test_sigterm(void **) {
    Client c = new_client();
    Sandbox sb;
    start(sb, client_args(c, {}));
    // An idle keep-alive connection must not hold up the shutdown.
    CURL *h = curl_easy_init();
    std::string sink;
    std::string url = sb.url + "/admin/oauth";
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, sb.ca.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    auto t0 = Clock::now();
    assert_int_equal(kill(sb.pid, SIGTERM), 0);
    int status = wait_exit(sb, 5);
    curl_easy_cleanup(h);
    assert_int_not_equal(status, -1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(Clock::now() - t0 < std::chrono::seconds(5));
    // The log has one line per request, without the query string.
    std::string log = read_file(sb.log);
    assert_true(contains(log, "GET /admin/oauth 400 client_id=-"));
    forget(sb);
    cleanup_dir(sb);

    // SIGINT also exits 0.
    Sandbox sb2;
    start(sb2, client_args(c, {}));
    assert_int_equal(kill(sb2.pid, SIGINT), 0);
    status = wait_exit(sb2, 5);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    forget(sb2);
    cleanup_dir(sb2);
}

}  // namespace

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cli, teardown),
        cmocka_unit_test_teardown(test_consent_page, teardown),
        cmocka_unit_test_teardown(test_consent_errors, teardown),
        cmocka_unit_test_teardown(test_deny_and_forgery, teardown),
        cmocka_unit_test_teardown(test_form_bodies, teardown),
        cmocka_unit_test_teardown(test_exchange, teardown),
        cmocka_unit_test_teardown(test_code_expiry, teardown),
        cmocka_unit_test_teardown(test_webhook, teardown),
        cmocka_unit_test_teardown(test_webhook_refuses_other_targets, teardown),
        cmocka_unit_test_teardown(test_webhook_does_not_follow_redirects, teardown),
        cmocka_unit_test_teardown(test_webhook_bounded_answer, teardown),
        cmocka_unit_test_teardown(test_webhook_refuses_browser_requests, teardown),
        cmocka_unit_test_teardown(test_graphql_webhooks, teardown),
        cmocka_unit_test_teardown(test_graphql_documents, teardown),
        cmocka_unit_test_teardown(test_events, teardown),
        cmocka_unit_test_teardown(test_uninstall, teardown),
        cmocka_unit_test_teardown(test_admin_page, teardown),
        cmocka_unit_test_teardown(test_library_flow, teardown),
        cmocka_unit_test_teardown(test_sigterm, teardown),
    };
    int failed = cmocka_run_group_tests(tests, nullptr, nullptr);
    curl_global_cleanup();
    return failed;
}
