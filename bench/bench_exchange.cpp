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
//   --mode rss    RSS (and, for ours, live library heap blocks) after 1,000
//                 and after N exchanges on one handle (--impl lf|curl).
//   --mode profile  one warm thread, N exchanges between CALLGRIND_ZERO_STATS
//                 and CALLGRIND_DUMP_STATS (bench/profile runs it under
//                 valgrind --tool=callgrind). --impl lf, curl, or curl_readcb,
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

// Client connections each nginx instance holds: its stub_status "Active
// connections", less the status request itself.
std::vector<int> server_connections() {
    std::vector<int> out;
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
        int n = 0;
        if (rc != CURLE_OK || std::sscanf(body.c_str(), "Active connections: %d", &n) != 1)
            die("cannot read the server status at %s", u.c_str());
        out.push_back(n - 1);
    }
    return out;
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
        curl_slist_free_all(headers_);
    }
    CurlClient(const CurlClient &) = delete;
    CurlClient &operator=(const CurlClient &) = delete;

    bool exchange(const char *code) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "client_id", kClientId) ||
            !cJSON_AddStringToObject(o, "client_secret", kSecret) || !cJSON_AddStringToObject(o, "code", code)) {
            cJSON_Delete(o);
            return false;
        }
        char *body = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!body) return false;
        resp_.clear();
        if (read_callback_) {
            source_ = BodySource{body, std::strlen(body), 0};
            curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(source_.len));
        } else {
            curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body);
        }
        CURLcode rc = curl_easy_perform(h_);
        cJSON_free(body);
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

private:
    CURL *h_ = nullptr;
    curl_slist *headers_ = nullptr;
    std::string resp_;
    bool read_callback_ = false;
    BodySource source_;
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
    bool ours = g_opt.impl == "lf";
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
    std::printf("{\"mode\": \"profile\", \"impl\": \"%s\", \"total\": %ld}\n", g_opt.impl.c_str(), g_opt.total);
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
    else if (g_opt.mode == "profile")
        mode_profile();
    else
        die("unknown mode %s", g_opt.mode.c_str());
    curl_global_cleanup();
    return 0;
}
