// Code exchange over HTTPS to a loopback server: lf_exchange_code on ONE
// lf_auth shared by all threads, against a hand-written libcurl + cJSON loop
// (one easy handle per thread, reused; the same JSON body built with cJSON;
// the same TLS verification; the token parsed with cJSON).
//
// Modes (bench/run starts the server and calls each):
//   --mode warm   exchanges/s and client CPU µs/exchange with 1 and 2
//                 threads; repetitions interleaved (ours, baseline, then
//                 baseline, ours, ...); prints every sample and the medians.
//                 With --status-urls (each server instance's stub_status), a
//                 run is measured only when its connections are spread one
//                 per instance; otherwise it is made again.
//   --mode cold   a new lf_auth (or easy handle) per exchange vs warm reuse.
//   --mode async  one lf_auth with --inflight (64) lf_exchange_code_async calls
//                 kept in flight by its I/O thread, against one libcurl multi
//                 handle with as many easy handles on one thread; exchanges/s,
//                 process CPU µs/exchange, and the connections the servers
//                 accepted while measured (0: every one reused).
//   --mode profile_async  the same flow under callgrind (--impl lf|curl):
//                 --total completions between the callgrind markers.
//   --mode rss    RSS (and, for ours, live library heap blocks) after 1,000
//                 and after N exchanges on one handle (--impl lf|curl).
//   --mode profile  one warm thread, N exchanges between CALLGRIND_ZERO_STATS
//                 and CALLGRIND_DUMP_STATS (bench/profile runs it under
//                 valgrind --tool=callgrind). --impl lf, lf_trace (a no-op
//                 trace function), curl, or curl_readcb,
//                 curl_ae, curl_ua, curl_uahdr, curl_lfopts: the baseline with
//                 one (or all) of the library's extra libcurl options.
//
// Output: one JSON object on stdout. Errors: a message on stderr, exit 1.
// Client CPU is measured per worker thread (getrusage RUSAGE_THREAD, user +
// system), so the server processes and the idle main thread are not in it.
// Server CPU (utime + stime of the --server-pids, from /proc) is reported
// per exchange too, to show the server is not what is measured.
#include <lightfunnels/auth.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "callgrind_markers.hpp"

#include <algorithm>
#include <cstdarg>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string mode = "warm";
    std::string impl = "lf";
    std::string url;
    std::string ca;
    std::string token;
    std::string ca_bundle;
    std::vector<int> threads{1, 2};
    double seconds = 2.0;
    int reps = 5;
    long total = 100000;
    std::vector<int> server_pids;
    std::vector<std::string> status_urls;  // each nginx instance's stub_status
    int inflight = 64;                     // --mode async
    bool trace = false;                    // ours with a no-op trace function
};

const char kClientId[] = "lf_app_8c1d5e2b9a7f4c3e";
const char kSecret[] = "sk_live_4f9a2c7e1b8d3f6a0c5e9b2d7f1a4c8e3b6d0f9a";
const char kCode[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const char kRedirect[] = "https://app.example.com/oauth/callback";

Options g_opt;

[[noreturn]] __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...) {
    std::fprintf(stderr, "lf_bench_exchange: ");
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fprintf(stderr, "\n");
    std::exit(1);
}

std::vector<int> parse_ints(const char *s) {
    std::vector<int> v;
    while (*s) {
        char *end = nullptr;
        long x = std::strtol(s, &end, 10);
        if (end == s) die("bad number list: %s", s);
        v.push_back(static_cast<int>(x));
        s = *end == ',' ? end + 1 : end;
    }
    return v;
}

double thread_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double server_cpu_s() {
    static const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    double total = 0;
    for (int pid : g_opt.server_pids) {
        char path[64];
        std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = std::fopen(path, "r");
        if (!f) continue;
        char buf[1024];
        size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = '\0';
        const char *p = std::strrchr(buf, ')');  // the command name may hold spaces
        if (!p) continue;
        unsigned long ut = 0, st = 0;
        // Fields after ')': state(3) ... utime(14) stime(15).
        if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            total += static_cast<double>(ut + st) / tick;
    }
    return total;
}

long rss_kib() {
    FILE *f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
    std::fclose(f);
    return kib;
}

std::vector<std::string> split(const char *s) {
    std::vector<std::string> v;
    std::string cur;
    for (; *s; s++) {
        if (*s == ',') {
            v.push_back(cur);
            cur.clear();
        } else {
            cur += *s;
        }
    }
    if (!cur.empty()) v.push_back(cur);
    return v;
}

size_t on_body(char *p, size_t size, size_t n, void *ud);

// One nginx instance's stub_status: the client connections it holds ("Active
// connections", less the status request itself) and the connections it
// has accepted since it started.
struct ServerStatus {
    int active = 0;
    long accepts = 0;
};

std::vector<ServerStatus> server_status() {
    std::vector<ServerStatus> out;
    for (const std::string &u : g_opt.status_urls) {
        CURL *h = curl_easy_init();
        if (!h) die("curl_easy_init failed");
        std::string body;
        curl_easy_setopt(h, CURLOPT_URL, u.c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_cleanup(h);
        ServerStatus st;
        if (rc != CURLE_OK || std::sscanf(body.c_str(), "Active connections: %d server accepts handled requests %ld",
                                          &st.active, &st.accepts) != 2)
            die("cannot read the server status at %s", u.c_str());
        st.active -= 1;
        out.push_back(st);
    }
    return out;
}

std::vector<int> server_connections() {
    std::vector<int> out;
    for (const ServerStatus &st : server_status()) out.push_back(st.active);
    return out;
}

// Connections the servers have accepted so far (the status requests' own
// included: callers take differences over spans with the same number of them).
long server_accepts() {
    long n = 0;
    for (const ServerStatus &st : server_status()) n += st.accepts;
    return n;
}

// The instances share one port (SO_REUSEPORT), and the kernel picks one per
// connection by a hash of the client port: with 2 threads, half the runs
// would put both connections on one single-worker server, pinned to one CPU,
// and measure the lottery rather than the client. A run goes ahead only when
// the warm connections are spread evenly; otherwise it is made again with
// new connections, for ours and the baseline alike.
bool connections_spread(int threads) {
    size_t k = g_opt.status_urls.size();
    if (k < 2 || threads < 2) return true;
    int cap = static_cast<int>((static_cast<size_t>(threads) + k - 1) / k);
    for (int attempt = 0; attempt < 25; attempt++) {  // the previous run's connections may still be closing
        std::vector<int> c = server_connections();
        int sum = 0, most = 0;
        for (int x : c) {
            sum += x;
            most = std::max(most, x);
        }
        if (sum == threads) return most <= cap;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// ---- ours -----------------------------------------------------------------------

// Tracing on at its least: every line is formatted and redacted, then dropped.
std::atomic<long> g_trace_lines{0};
void noop_trace(void *, int, const char *) { g_trace_lines.fetch_add(1, std::memory_order_relaxed); }

lf_auth_config lf_config() {
    static const char *const redirects[] = {kRedirect};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = kClientId;
    cfg.client_secret = kSecret;
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    cfg.token_url = g_opt.url.c_str();
    cfg.ca_file = g_opt.ca.c_str();
    cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
    if (g_opt.trace) cfg.trace = noop_trace;
    return cfg;
}

lf_auth *lf_make(const char *ca = nullptr) {
    lf_auth_config cfg = lf_config();
    if (ca) cfg.ca_file = ca;
    lf_auth *a = nullptr;
    lf_error err;
    if (lf_auth_new(&cfg, &a, &err) != LF_OK) die("lf_auth_new: %s", err.message);
    return a;
}

bool lf_once(const lf_auth *a) {
    lf_token *t = nullptr;
    lf_error err;
    lf_status s = lf_exchange_code(a, kCode, &t, &err);
    if (s != LF_OK) {
        std::fprintf(stderr, "lf_exchange_code: %s: %s\n", lf_status_name(s), err.message);
        return false;
    }
    bool ok = g_opt.token == lf_token_value(t);
    lf_token_free(t);
    if (!ok) std::fprintf(stderr, "lf_exchange_code: unexpected token\n");
    return ok;
}

// ---- baseline: libcurl + cJSON by hand --------------------------------------------

size_t on_body(char *p, size_t size, size_t n, void *ud) {
    static_cast<std::string *>(ud)->append(p, size * n);
    return size * n;
}

// The body through a read callback (CURLOPT_POST + CURLOPT_READFUNCTION)
// instead of CURLOPT_POSTFIELDS: libcurl then sends the headers and the body
// in two separate writes (two TLS records). The "curl_readcb" series measures
// what that costs on its own.
struct BodySource {
    const char *data = nullptr;
    size_t len = 0, off = 0;
};
size_t on_read(char *buf, size_t size, size_t n, void *ud) {
    auto *s = static_cast<BodySource *>(ud);
    size_t k = std::min(s->len - s->off, size * n);
    std::memcpy(buf, s->data + s->off, k);
    s->off += k;
    return k;
}

// Options of the library's transport that the plain baseline does not use,
// switched on one at a time by bench/profile to price each of them.
enum CurlExtra : unsigned {
    kReadCallback = 1,     // body through CURLOPT_READFUNCTION
    kAcceptEncoding = 2,   // CURLOPT_ACCEPT_ENCODING ""
    kUserAgentOpt = 4,     // CURLOPT_USERAGENT
    kUserAgentHeader = 8,  // the same User-Agent as a line of the header list
};

unsigned curl_extras(const std::string &impl) {
    if (impl == "curl") return 0;
    if (impl == "curl_readcb") return kReadCallback;
    if (impl == "curl_ae") return kAcceptEncoding;
    if (impl == "curl_ua") return kUserAgentOpt;
    if (impl == "curl_uahdr") return kUserAgentHeader;
    if (impl == "curl_lfopts") return kReadCallback | kAcceptEncoding | kUserAgentOpt;
    die("unknown --impl %s", impl.c_str());
}

class CurlClient {
public:
    explicit CurlClient(const char *ca = nullptr, unsigned extras = 0) : read_callback_(extras & kReadCallback) {
        h_ = curl_easy_init();
        headers_ = curl_slist_append(headers_, "Content-Type: application/json");
        headers_ = curl_slist_append(headers_, "Accept: application/json");
        headers_ = curl_slist_append(headers_, "Expect:");
        if (extras & kUserAgentHeader) headers_ = curl_slist_append(headers_, "User-Agent: lightfunnels-auth/1.0.0");
        if (!h_ || !headers_) die("curl_easy_init failed");
        if (extras & kAcceptEncoding) curl_easy_setopt(h_, CURLOPT_ACCEPT_ENCODING, "");
        if (extras & kUserAgentOpt) curl_easy_setopt(h_, CURLOPT_USERAGENT, "lightfunnels-auth/1.0.0");
        curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h_, CURLOPT_URL, g_opt.url.c_str());
        curl_easy_setopt(h_, CURLOPT_CAINFO, ca ? ca : g_opt.ca.c_str());
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers_);
        curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h_, CURLOPT_WRITEDATA, &resp_);
        curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, 30000L);
        if (read_callback_) {
            curl_easy_setopt(h_, CURLOPT_POST, 1L);
            curl_easy_setopt(h_, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(h_, CURLOPT_READDATA, &source_);
        }
    }
    ~CurlClient() {
        curl_easy_cleanup(h_);
        cJSON_free(body_);
        curl_slist_free_all(headers_);
    }
    CurlClient(const CurlClient &) = delete;
    CurlClient &operator=(const CurlClient &) = delete;

    bool exchange(const char *code) { return prepare(code) && finish(curl_easy_perform(h_)); }

    // One exchange in two halves, for a multi handle to run in between
    // (the async baseline): the body is built and set, then the answer checked.
    bool prepare(const char *code) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "client_id", kClientId) ||
            !cJSON_AddStringToObject(o, "client_secret", kSecret) || !cJSON_AddStringToObject(o, "code", code)) {
            cJSON_Delete(o);
            return false;
        }
        body_ = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!body_) return false;
        resp_.clear();
        if (read_callback_) {
            source_ = BodySource{body_, std::strlen(body_), 0};
            curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(source_.len));
        } else {
            curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body_);
        }
        return true;
    }
    bool finish(CURLcode rc) {
        cJSON_free(body_);
        body_ = nullptr;
        long status = 0;
        curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            std::fprintf(stderr, "baseline: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
            return false;
        }
        cJSON *doc = cJSON_ParseWithLength(resp_.data(), resp_.size());
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(doc, "access_token");
        char *token = cJSON_IsString(tok) && tok->valuestring[0] ? strdup(tok->valuestring) : nullptr;
        cJSON_Delete(doc);
        bool ok = token && g_opt.token == token;
        std::free(token);
        if (!ok) std::fprintf(stderr, "baseline: unexpected token\n");
        return ok;
    }
    CURL *easy() const { return h_; }

private:
    CURL *h_ = nullptr;
    curl_slist *headers_ = nullptr;
    std::string resp_;
    bool read_callback_ = false;
    BodySource source_;
    char *body_ = nullptr;  // the request in flight's
};

// ---- a measured run ------------------------------------------------------------

struct Sample {
    double xps = 0;        // exchanges per second (all threads)
    double cpu_us = 0;     // client CPU per exchange
    double server_us = 0;  // server CPU per exchange
    long count = 0;
};

class Gate {
public:
    explicit Gate(int n) : waiting_(n) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> l(mu_);
        if (--waiting_ == 0) cv_.notify_all();
        cv_.wait(l, [&] { return open_; });
    }
    void wait_all_arrived() {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return waiting_ == 0; });
    }
    void open() {
        std::lock_guard<std::mutex> l(mu_);
        open_ = true;
        cv_.notify_all();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    int waiting_;
    bool open_ = false;
};

// Runs `threads` workers; each calls warm() a few times, waits at the gate,
// then calls one() until the deadline. Returns the totals; with check_spread,
// a sample with count -1 when the connections were not spread evenly over the
// servers (nothing was measured).
template <class MakeWorker>
Sample run_threads(int threads, double seconds, MakeWorker make_worker, bool check_spread = false) {
    Gate gate(threads);
    std::atomic<bool> failed{false};
    bool skip = false;
    std::vector<long> counts(static_cast<size_t>(threads), 0);
    std::vector<double> cpu(static_cast<size_t>(threads), 0);
    std::vector<Clock::time_point> ends(static_cast<size_t>(threads));
    Clock::time_point deadline;
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; i++) {
        ts.emplace_back([&, i] {
            auto w = make_worker();  // per-thread state (e.g. the easy handle)
            for (int k = 0; k < 20; k++)
                if (!w()) failed = true;
            gate.arrive_and_wait();
            double c0 = thread_cpu_s();
            long n = 0;
            while (!skip && !failed.load(std::memory_order_relaxed) && Clock::now() < deadline) {
                if (!w()) failed = true;
                n++;
            }
            cpu[static_cast<size_t>(i)] = thread_cpu_s() - c0;
            counts[static_cast<size_t>(i)] = n;
            ends[static_cast<size_t>(i)] = Clock::now();
        });
    }
    gate.wait_all_arrived();
    if (check_spread && !failed && !connections_spread(threads)) {
        skip = true;  // written before open(), read after it: ordered by the gate's mutex
        gate.open();
        for (auto &t : ts) t.join();
        Sample none;
        none.count = -1;
        return none;
    }
    double s0 = server_cpu_s();
    Clock::time_point start = Clock::now();
    deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    gate.open();  // the mutex orders the write of deadline before the workers read it
    for (auto &t : ts) t.join();
    if (failed) die("an exchange failed during the run");
    double s1 = server_cpu_s();
    Clock::time_point end = *std::max_element(ends.begin(), ends.end());
    Sample s;
    for (int i = 0; i < threads; i++) s.count += counts[static_cast<size_t>(i)];
    double cpu_total = 0;
    for (double c : cpu) cpu_total += c;
    double wall = std::chrono::duration<double>(end - start).count();
    s.xps = static_cast<double>(s.count) / wall;
    s.cpu_us = cpu_total * 1e6 / static_cast<double>(s.count);
    s.server_us = (s1 - s0) * 1e6 / static_cast<double>(s.count);
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Series {
    std::string name;
    std::vector<Sample> samples;
};

void print_series(const Series &s, bool last) {
    std::vector<double> x, c, sv;
    for (const Sample &m : s.samples) {
        x.push_back(m.xps);
        c.push_back(m.cpu_us);
        sv.push_back(m.server_us);
    }
    std::printf("    \"%s\": {\"xps\": [", s.name.c_str());
    for (size_t i = 0; i < x.size(); i++) std::printf("%s%.1f", i ? ", " : "", x[i]);
    std::printf("], \"cpu_us\": [");
    for (size_t i = 0; i < c.size(); i++) std::printf("%s%.2f", i ? ", " : "", c[i]);
    std::printf("], \"median_xps\": %.1f, \"median_cpu_us\": %.2f, \"median_server_us\": %.2f}%s\n", median(x),
                median(c), median(sv), last ? "" : ",");
}

// ---- modes ------------------------------------------------------------------------

void mode_warm() {
    std::vector<Series> series;
    for (int t : g_opt.threads) {
        series.push_back({"lf_t" + std::to_string(t), {}});
        series.push_back({"curl_t" + std::to_string(t), {}});
        series.push_back({"curl_readcb_t" + std::to_string(t), {}});
    }
    for (int rep = 0; rep < g_opt.reps; rep++) {
        for (size_t ti = 0; ti < g_opt.threads.size(); ti++) {
            int t = g_opt.threads[ti];
            // ONE handle shared by all the threads of a run. Like the
            // baseline's easy handles it is made afresh for each run (outside
            // the measured time; the warm-up connects), so that each run's
            // connections land on the nginx instances by the same lottery.
            auto spread = [&](auto run) {
                for (int attempt = 0; attempt < 40; attempt++) {
                    Sample s = run();
                    if (s.count >= 0) return s;
                }
                die("the connections of %d threads never spread evenly over the servers", t);
            };
            auto ours = [&] {
                return spread([&] {
                    lf_auth *auth = lf_make();
                    Sample s = run_threads(
                        t, g_opt.seconds, [auth] { return [auth] { return lf_once(auth); }; }, true);
                    lf_auth_free(auth);
                    return s;
                });
            };
            auto base = [&](bool read_callback) {
                return spread([&] {
                    return run_threads(
                        t, g_opt.seconds,
                        [read_callback] {
                            auto c = std::make_shared<CurlClient>(nullptr, read_callback ? kReadCallback : 0u);
                            return [c] { return c->exchange(kCode); };
                        },
                        true);
                });
            };
            // ours, baseline, read-callback baseline; backwards on odd
            // repetitions, so that drift hits all alike.
            Series *ss = &series[3 * ti];
            if (rep % 2 == 0) {
                ss[0].samples.push_back(ours());
                ss[1].samples.push_back(base(false));
                ss[2].samples.push_back(base(true));
            } else {
                ss[2].samples.push_back(base(true));
                ss[1].samples.push_back(base(false));
                ss[0].samples.push_back(ours());
            }
            std::fprintf(stderr,
                         "  rep %d, %d thread(s): lf %.0f/s %.1f us, curl %.0f/s %.1f us, curl_readcb %.0f/s %.1f us\n",
                         rep + 1, t, ss[0].samples.back().xps, ss[0].samples.back().cpu_us, ss[1].samples.back().xps,
                         ss[1].samples.back().cpu_us, ss[2].samples.back().xps, ss[2].samples.back().cpu_us);
        }
    }
    std::printf("{\n  \"mode\": \"warm\", \"seconds\": %.2f, \"reps\": %d,\n  \"series\": {\n", g_opt.seconds,
                g_opt.reps);
    for (size_t i = 0; i < series.size(); i++) print_series(series[i], i + 1 == series.size());
    std::printf("  }\n}\n");
}

// ---- async: N exchanges kept in flight, driven by one thread ------------------------

double process_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// What the measuring (main) thread and the thread that drives the calls
// share. A completed call is replaced at once by a new one until `stop`:
// each of the N places ("lanes") is a chain of calls, one after the other.
struct Flow {
    std::atomic<long> done{0};
    std::atomic<int> lanes_warm{0};  // lanes whose chain has completed kWarmCalls calls
    std::atomic<long> in_flight{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    bool go_on() const { return !stop.load(std::memory_order_relaxed) && !failed.load(std::memory_order_relaxed); }
};

// A lane is warm once it has completed this many calls: its first went out
// with the others at the start, when the server accepts connections in
// turn (a lane whose connection is accepted late would still be in its
// first call when the others are well under way).
constexpr long kWarmCalls = 2;

struct Lane {
    void *owner = nullptr;  // the LfAsync or the CurlClient
    long calls = 0;         // completed; the driving thread's own
    void completed(Flow &f) {
        f.done.fetch_add(1, std::memory_order_relaxed);
        if (++calls == kWarmCalls) f.lanes_warm.fetch_add(1, std::memory_order_relaxed);
    }
};

// Polls `pred` every millisecond for at most `seconds`; every wait of the
// async runs is bounded by it.
template <class Pred>
bool wait_for(Pred pred, double seconds) {
    Clock::time_point end =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (!pred()) {
        if (Clock::now() >= end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Ours: one lf_auth; every completion (on the handle's I/O thread) starts
// the next call from inside its done callback, as an event-loop program does.
struct LfAsync {
    lf_auth *auth = nullptr;
    Flow flow;
    std::vector<Lane> lanes;
};

bool lf_async_start(Lane *lane);

void lf_async_done(void *user, lf_status s, lf_token *t, const lf_error *err) {
    auto *lane = static_cast<Lane *>(user);
    auto *r = static_cast<LfAsync *>(lane->owner);
    bool ok = s == LF_OK && g_opt.token == lf_token_value(t);
    if (s != LF_OK)
        std::fprintf(stderr, "lf_exchange_code_async: %s: %s\n", lf_status_name(s), err ? err->message : "");
    else if (!ok)
        std::fprintf(stderr, "lf_exchange_code_async: unexpected token\n");
    if (t) lf_token_free(t);
    if (!ok) r->flow.failed = true;
    lane->completed(r->flow);
    if (r->flow.go_on() && lf_async_start(lane)) return;  // the new call takes this one's place
    r->flow.in_flight.fetch_sub(1, std::memory_order_release);
}

bool lf_async_start(Lane *lane) {
    auto *r = static_cast<LfAsync *>(lane->owner);
    lf_error err;
    lf_status s = lf_exchange_code_async(r->auth, kCode, nullptr, lf_async_done, lane);
    if (s == LF_OK) return true;
    std::fprintf(stderr, "lf_exchange_code_async: %s: %s\n", lf_status_name(s), err.message);
    r->flow.failed = true;
    return false;
}

// The baseline: one libcurl multi handle and N easy handles (the warm
// baseline's, same options, body and parse) on one thread; a finished easy
// handle is re-armed and added again, so the multi handle's connection cache
// gives it a kept-alive connection back, as ours does.
void curl_multi_drive(Flow &flow, int n) {
    CURLM *m = curl_multi_init();
    if (!m) die("curl_multi_init failed");
    std::vector<std::unique_ptr<CurlClient>> clients;
    std::vector<Lane> lanes(static_cast<size_t>(n));
    auto start = [&](CurlClient *c) {
        if (!c->prepare(kCode) || curl_multi_add_handle(m, c->easy()) != CURLM_OK) {
            flow.failed = true;
            return false;
        }
        return true;
    };
    for (int i = 0; i < n; i++) {
        clients.push_back(std::make_unique<CurlClient>());
        Lane &lane = lanes[static_cast<size_t>(i)];
        lane.owner = clients.back().get();
        curl_easy_setopt(clients.back()->easy(), CURLOPT_PRIVATE, static_cast<void *>(&lane));
        if (!start(clients.back().get())) break;
        flow.in_flight.fetch_add(1, std::memory_order_relaxed);
    }
    while (flow.in_flight.load(std::memory_order_relaxed) > 0) {
        int running = 0;
        if (curl_multi_perform(m, &running) != CURLM_OK) die("curl_multi_perform failed");
        int queued = 0;
        while (CURLMsg *msg = curl_multi_info_read(m, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *h = msg->easy_handle;
            CURLcode rc = msg->data.result;
            void *p = nullptr;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &p);
            curl_multi_remove_handle(m, h);
            auto *lane = static_cast<Lane *>(p);
            auto *c = static_cast<CurlClient *>(lane->owner);
            if (!c->finish(rc)) flow.failed = true;
            lane->completed(flow);
            if (flow.go_on() && start(c)) continue;
            flow.in_flight.fetch_sub(1, std::memory_order_release);
        }
        if (flow.in_flight.load(std::memory_order_relaxed) > 0) curl_multi_poll(m, nullptr, 0, 100, nullptr);
    }
    clients.clear();  // none is in the multi handle any more
    curl_multi_cleanup(m);
}

struct AsyncSample {
    Sample s;
    long new_conns = 0;  // connections the servers accepted during the measured time
};

// Every lane has completed kWarmCalls calls: every connection was made,
// accepted and reused.
void warm_up(Flow &flow) {
    if (!wait_for([&] { return flow.failed || flow.lanes_warm.load() >= g_opt.inflight; }, 60))
        die("the async warm-up did not finish within 60 s");
    if (flow.failed) die("an exchange failed during the async warm-up");
}

void stop_and_drain(Flow &flow) {
    flow.stop = true;
    if (!wait_for([&] { return flow.in_flight.load(std::memory_order_acquire) == 0; }, 60))
        die("the async calls did not drain within 60 s");
    if (flow.failed) die("an exchange failed during the async run");
}

// Measures `seconds` of the steady flow from the main thread, which only
// sleeps meanwhile: the process's CPU is the driving thread's.
AsyncSample measure_flow(Flow &flow) {
    warm_up(flow);
    long a0 = server_accepts();
    double s0 = server_cpu_s(), c0 = process_cpu_s();
    long n0 = flow.done.load();
    Clock::time_point t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(g_opt.seconds));
    long n1 = flow.done.load();
    Clock::time_point t1 = Clock::now();
    double c1 = process_cpu_s(), s1 = server_cpu_s();
    long a1 = server_accepts();
    stop_and_drain(flow);
    AsyncSample r;
    long n = n1 - n0;
    if (n <= 0) die("no exchange completed in the measured time");
    r.s.count = n;
    r.s.xps = static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count();
    r.s.cpu_us = (c1 - c0) * 1e6 / static_cast<double>(n);
    r.s.server_us = (s1 - s0) * 1e6 / static_cast<double>(n);
    // The second status read's own connections were accepted after a0.
    r.new_conns = a1 - a0 - static_cast<long>(g_opt.status_urls.size());
    return r;
}

// Runs `measure` (which ends with stop_and_drain) on a flow of ours or of
// the baseline, made for it and torn down after.
template <class Measure>
auto async_ours(Measure measure) {
    LfAsync r;
    r.auth = lf_make();
    r.lanes.resize(static_cast<size_t>(g_opt.inflight));
    for (Lane &lane : r.lanes) {
        lane.owner = &r;
        if (!r.flow.go_on()) break;
        r.flow.in_flight.fetch_add(1);
        if (!lf_async_start(&lane)) r.flow.in_flight.fetch_sub(1);
    }
    auto result = measure(r.flow);
    lf_auth_free(r.auth);
    return result;
}

template <class Measure>
auto async_base(Measure measure) {
    Flow flow;
    std::thread driver([&flow] { curl_multi_drive(flow, g_opt.inflight); });
    auto result = measure(flow);  // returns once the driver has nothing in flight
    driver.join();
    return result;
}

void mode_async() {
    if (g_opt.inflight < 1) die("--inflight must be at least 1");
    Series ours{"lf_async", {}}, base{"curl_multi", {}};
    std::vector<long> conns_ours, conns_base;
    for (int rep = 0; rep < g_opt.reps; rep++) {
        // ours first on even repetitions, the baseline first on odd ones
        for (int k = 0; k < 2; k++) {
            if ((k == 0) == (rep % 2 == 0)) {
                AsyncSample a = async_ours(measure_flow);
                ours.samples.push_back(a.s);
                conns_ours.push_back(a.new_conns);
            } else {
                AsyncSample b = async_base(measure_flow);
                base.samples.push_back(b.s);
                conns_base.push_back(b.new_conns);
            }
        }
        std::fprintf(stderr, "  rep %d, %d in flight: lf %.0f/s %.1f us, curl multi %.0f/s %.1f us\n", rep + 1,
                     g_opt.inflight, ours.samples.back().xps, ours.samples.back().cpu_us, base.samples.back().xps,
                     base.samples.back().cpu_us);
    }
    auto print_longs = [](const std::vector<long> &v) {
        for (size_t i = 0; i < v.size(); i++) std::printf("%s%ld", i ? ", " : "", v[i]);
    };
    std::printf("{\n  \"mode\": \"async\", \"seconds\": %.2f, \"reps\": %d, \"inflight\": %d,\n", g_opt.seconds,
                g_opt.reps, g_opt.inflight);
    std::printf("  \"new_conns\": {\"lf_async\": [");
    print_longs(conns_ours);
    std::printf("], \"curl_multi\": [");
    print_longs(conns_base);
    std::printf("]},\n  \"series\": {\n");
    print_series(ours, false);
    print_series(base, true);
    std::printf("  }\n}\n");
}

// The async flow under callgrind: after the warm-up, --total completions
// between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS, every thread of the
// process counted (the I/O or driving thread, and the main thread, which
// only polls). Prints the completions actually counted ("ops").
void mode_profile_async() {
    if (g_opt.impl != "lf" && g_opt.impl != "curl") die("--mode profile_async takes --impl lf or curl");
    auto measure = [](Flow &flow) {
        warm_up(flow);
        long n0 = flow.done.load();
        CALLGRIND_ZERO_STATS;
        if (!wait_for([&] { return flow.failed || flow.done.load() >= n0 + g_opt.total; }, 600))
            die("the profiled async run did not finish within 600 s");
        CALLGRIND_DUMP_STATS;
        long n1 = flow.done.load();
        stop_and_drain(flow);
        return n1 - n0;
    };
    long ops = g_opt.impl == "lf" ? async_ours(measure) : async_base(measure);
    std::printf("{\"mode\": \"profile_async\", \"impl\": \"%s\", \"inflight\": %d, \"ops\": %ld}\n", g_opt.impl.c_str(),
                g_opt.inflight, ops);
}

// Cold: everything made per exchange (handle, connection, TLS handshake, CA
// store). With --ca-bundle also with a system-sized CA file (the system
// bundle plus the test CA), which is what a real deployment loads.
void mode_cold() {
    lf_auth *warm = lf_make();
    struct Variant {
        Series series;
        std::function<Sample()> run;
    };
    auto ours_cold = [](const std::string &ca) {
        return [ca] {
            return run_threads(1, g_opt.seconds, [ca] {
                return [ca] {
                    lf_auth *a = lf_make(ca.c_str());
                    bool ok = lf_once(a);
                    lf_auth_free(a);
                    return ok;
                };
            });
        };
    };
    auto base_cold = [](const std::string &ca) {
        return [ca] {
            return run_threads(1, g_opt.seconds, [ca] {
                return [ca] {
                    CurlClient c(ca.c_str());
                    return c.exchange(kCode);
                };
            });
        };
    };
    std::vector<Variant> v;
    v.push_back({{"lf_cold", {}}, ours_cold(g_opt.ca)});
    v.push_back({{"curl_cold", {}}, base_cold(g_opt.ca)});
    v.push_back({{"lf_warm", {}}, [warm] {
                     return run_threads(1, g_opt.seconds, [warm] { return [warm] { return lf_once(warm); }; });
                 }});
    v.push_back({{"curl_warm", {}}, [] {
                     return run_threads(1, g_opt.seconds, [] {
                         auto c = std::make_shared<CurlClient>();
                         return [c] { return c->exchange(kCode); };
                     });
                 }});
    if (!g_opt.ca_bundle.empty()) {
        v.push_back({{"lf_cold_bundle", {}}, ours_cold(g_opt.ca_bundle)});
        v.push_back({{"curl_cold_bundle", {}}, base_cold(g_opt.ca_bundle)});
    }
    for (int rep = 0; rep < g_opt.reps; rep++) {
        // Forward order on even repetitions, backward on odd ones.
        for (size_t k = 0; k < v.size(); k++) {
            Variant &x = v[rep % 2 == 0 ? k : v.size() - 1 - k];
            x.series.samples.push_back(x.run());
        }
        std::fprintf(stderr, "  rep %d:", rep + 1);
        for (const Variant &x : v)
            std::fprintf(stderr, " %s %.0f/s %.0f us;", x.series.name.c_str(), x.series.samples.back().xps,
                         x.series.samples.back().cpu_us);
        std::fprintf(stderr, "\n");
    }
    lf_auth_free(warm);
    std::printf("{\n  \"mode\": \"cold\", \"seconds\": %.2f, \"reps\": %d,\n  \"series\": {\n", g_opt.seconds,
                g_opt.reps);
    for (size_t i = 0; i < v.size(); i++) print_series(v[i].series, i + 1 == v.size());
    std::printf("  }\n}\n");
}

// Live library heap blocks, counted through lf_global_init's hook.
std::atomic<long> g_live{0};
void *count_alloc(void *, size_t n) {
    void *p = std::malloc(n);
    if (p) g_live.fetch_add(1, std::memory_order_relaxed);
    return p;
}
void *count_realloc(void *, void *p, size_t n) {
    void *q = std::realloc(p, n);
    if (!p && q) g_live.fetch_add(1, std::memory_order_relaxed);
    return q;
}
void count_free(void *, void *p) {
    if (p) g_live.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
}

void mode_rss() {
    if (g_opt.total < 2000) die("--total must be at least 2000 for --mode rss");
    bool ours = g_opt.impl == "lf";
    int threads = g_opt.threads.empty() ? 1 : g_opt.threads[0];
    lf_auth *auth = ours ? lf_make() : nullptr;
    std::vector<std::unique_ptr<CurlClient>> clients;
    if (!ours)
        for (int i = 0; i < threads; i++) clients.push_back(std::make_unique<CurlClient>());
    auto phase = [&](long total) {
        std::atomic<bool> failed{false};
        std::vector<std::thread> ts;
        for (int i = 0; i < threads; i++) {
            long mine = total / threads + (i < total % threads ? 1 : 0);
            ts.emplace_back([&, i, mine] {
                for (long k = 0; k < mine && !failed; k++) {
                    bool ok = ours ? lf_once(auth) : clients[static_cast<size_t>(i)]->exchange(kCode);
                    if (!ok) failed = true;
                }
            });
        }
        for (auto &t : ts) t.join();
        if (failed) die("an exchange failed");
    };
    Clock::time_point t0 = Clock::now();
    phase(1000);
    long rss_1k = rss_kib();
    long live_1k = g_live.load();
    phase(g_opt.total - 1000);
    long rss_n = rss_kib();
    long live_n = g_live.load();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (auth) lf_auth_free(auth);
    clients.clear();
    std::printf(
        "{\"mode\": \"rss\", \"impl\": \"%s\", \"threads\": %d, \"total\": %ld, \"seconds\": %.1f, "
        "\"rss_kib_1k\": %ld, \"rss_kib_n\": %ld, \"live_blocks_1k\": %ld, \"live_blocks_n\": %ld}\n",
        g_opt.impl.c_str(), threads, g_opt.total, secs, rss_1k, rss_n, ours ? live_1k : -1L, ours ? live_n : -1L);
}

// One thread, warm: 100 exchanges to connect and settle, then --total
// exchanges between CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS.
void mode_profile() {
    bool ours = g_opt.impl == "lf" || g_opt.impl == "lf_trace";
    g_opt.trace = g_opt.impl == "lf_trace";
    lf_auth *auth = ours ? lf_make() : nullptr;
    std::unique_ptr<CurlClient> client =
        ours ? nullptr : std::make_unique<CurlClient>(nullptr, curl_extras(g_opt.impl));
    auto once = [&] { return ours ? lf_once(auth) : client->exchange(kCode); };
    for (int i = 0; i < 100; i++)
        if (!once()) die("an exchange failed");
    CALLGRIND_ZERO_STATS;
    for (long i = 0; i < g_opt.total; i++)
        if (!once()) die("an exchange failed");
    CALLGRIND_DUMP_STATS;
    client.reset();
    if (auth) lf_auth_free(auth);
    std::printf("{\"mode\": \"profile\", \"impl\": \"%s\", \"total\": %ld, \"trace_lines\": %ld}\n", g_opt.impl.c_str(),
                g_opt.total, g_trace_lines.load());
}

}  // namespace

int main(int argc, char **argv) {
    // The rss mode counts the library's live blocks: its allocator goes in
    // before anything else (flags 0: libcurl and cJSON keep the C heap, as
    // in the throughput runs).
    bool rss = false;
    for (int i = 1; i + 1 < argc; i++)
        if (std::strcmp(argv[i], "--mode") == 0 && std::strcmp(argv[i + 1], "rss") == 0) rss = true;
    if (rss) {
        static const lf_allocator counting = {count_alloc, count_realloc, count_free, nullptr};
        if (lf_global_init(&counting, 0) != LF_OK) die("lf_global_init failed");
    } else if (lf_global_init(nullptr, 0) != LF_OK) {
        die("lf_global_init failed");
    }
    // lf_global_init has initialised libcurl; this call only adds a reference.
    curl_global_init(CURL_GLOBAL_DEFAULT);

    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 >= argc) die("missing value for %s", argv[i]);
        const char *v = argv[++i];
        if (a == "--mode")
            g_opt.mode = v;
        else if (a == "--impl")
            g_opt.impl = v;
        else if (a == "--url")
            g_opt.url = v;
        else if (a == "--ca")
            g_opt.ca = v;
        else if (a == "--token")
            g_opt.token = v;
        else if (a == "--ca-bundle")
            g_opt.ca_bundle = v;
        else if (a == "--threads")
            g_opt.threads = parse_ints(v);
        else if (a == "--seconds")
            g_opt.seconds = std::atof(v);
        else if (a == "--reps")
            g_opt.reps = std::atoi(v);
        else if (a == "--total")
            g_opt.total = std::atol(v);
        else if (a == "--server-pids")
            g_opt.server_pids = parse_ints(v);
        else if (a == "--status-urls")
            g_opt.status_urls = split(v);
        else if (a == "--inflight")
            g_opt.inflight = std::atoi(v);
        else
            die("unknown option %s", a.c_str());
    }
    if (g_opt.url.empty() || g_opt.ca.empty() || g_opt.token.empty()) die("--url, --ca and --token are required");
    if (g_opt.reps < 1 || g_opt.seconds <= 0 || g_opt.total < 1) die("bad --reps/--seconds/--total");

    if (g_opt.mode == "warm")
        mode_warm();
    else if (g_opt.mode == "cold")
        mode_cold();
    else if (g_opt.mode == "rss")
        mode_rss();
    else if (g_opt.mode == "async")
        mode_async();
    else if (g_opt.mode == "profile_async")
        mode_profile_async();
    else if (g_opt.mode == "profile")
        mode_profile();
    else
        die("unknown mode %s", g_opt.mode.c_str());
    curl_global_cleanup();
    return 0;
}
