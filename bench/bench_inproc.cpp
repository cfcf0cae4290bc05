// In-process benchmarks (Google Benchmark): each workload of the library
// next to a baseline written here, measured in the same run.
//
//   consent URL      lf_consent_url        vs snprintf + curl_easy_escape
//   callback parse   lf_parse_callback     vs libcurl CURLU + curl_easy_unescape
//   webhook verify   lf_webhook_verify     vs pre-keyed EVP_MAC (dup per call)
//                                            + EVP_EncodeBlock + CRYPTO_memcmp
//   lf_auth_new      new + free, with and without ca_file
//
// Allocations are counted per operation in three places, installed first in
// main() before anything else: the library's own allocator hook
// (lf_global_init), libcurl's (curl_global_init_mem) and OpenSSL's
// (CRYPTO_set_mem_functions). The counters are reported as lf_allocs/op,
// curl_allocs/op and ossl_allocs/op.
//
// Run with --benchmark_enable_random_interleaving=true and
// --benchmark_repetitions=N so that repetitions of ours and the baseline
// alternate; bench/run reads the medians from the JSON output.
#include <lightfunnels/auth.h>

#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "callgrind_markers.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// ---- counting allocators ------------------------------------------------------

std::atomic<unsigned long> g_lf_allocs{0};
std::atomic<unsigned long> g_curl_allocs{0};
std::atomic<unsigned long> g_ossl_allocs{0};

void *lf_count_alloc(void *, size_t n) {
    g_lf_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
void *lf_count_realloc(void *, void *p, size_t n) {
    g_lf_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
void lf_count_free(void *, void *p) { std::free(p); }

void *curl_count_malloc(size_t n) {
    g_curl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
void curl_count_free(void *p) { std::free(p); }
void *curl_count_realloc(void *p, size_t n) {
    g_curl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
char *curl_count_strdup(const char *s) {
    g_curl_allocs.fetch_add(1, std::memory_order_relaxed);
    return strdup(s);
}
void *curl_count_calloc(size_t n, size_t size) {
    g_curl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::calloc(n, size);
}

void *ossl_count_malloc(size_t n, const char *, int) {
    g_ossl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
void *ossl_count_realloc(void *p, size_t n, const char *, int) {
    g_ossl_allocs.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
void ossl_count_free(void *p, const char *, int) { std::free(p); }

bool g_ossl_counted = false;

void install_counting_allocators() {
    // OpenSSL first: it refuses once it has allocated anything, and libcurl's
    // global init (below, and inside lf_global_init) initialises OpenSSL.
    g_ossl_counted = CRYPTO_set_mem_functions(ossl_count_malloc, ossl_count_realloc, ossl_count_free) == 1;
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_count_malloc, curl_count_free, curl_count_realloc,
                             curl_count_strdup, curl_count_calloc) != CURLE_OK) {
        std::fprintf(stderr, "curl_global_init_mem failed\n");
        std::exit(2);
    }
    static const lf_allocator counting = {lf_count_alloc, lf_count_realloc, lf_count_free, nullptr};
    // Flags 0: only the library's own allocations go through the hook, so
    // the lf_allocs counter is exactly "what the library allocated".
    if (lf_global_init(&counting, 0) != LF_OK) {
        std::fprintf(stderr, "lf_global_init failed\n");
        std::exit(2);
    }
}

struct AllocSnapshot {
    unsigned long lf, curl, ossl;
    static AllocSnapshot now() {
        return {g_lf_allocs.load(std::memory_order_relaxed), g_curl_allocs.load(std::memory_order_relaxed),
                g_ossl_allocs.load(std::memory_order_relaxed)};
    }
};

void report_allocs(benchmark::State &st, const AllocSnapshot &before) {
    AllocSnapshot after = AllocSnapshot::now();
    double it = static_cast<double>(st.iterations());
    if (it <= 0) return;
    st.counters["lf_allocs"] = static_cast<double>(after.lf - before.lf) / it;
    st.counters["curl_allocs"] = static_cast<double>(after.curl - before.curl) / it;
    if (g_ossl_counted) st.counters["ossl_allocs"] = static_cast<double>(after.ossl - before.ossl) / it;
}

// ---- fixture data -------------------------------------------------------------

const char kClientId[] = "lf_app_8c1d5e2b9a7f4c3e";
const char kSecret[] = "sk_live_4f9a2c7e1b8d3f6a0c5e9b2d7f1a4c8e3b6d0f9a";
const char kAuthorize[] = "https://app.lightfunnels.com/admin/oauth";
const char kRedirect[] = "https://app.example.com/oauth/callback";
const char kScopes[] = "products,orders";

lf_auth *g_auth = nullptr;
std::string g_state;
std::string g_ca_file;  // a real PEM file, for lf_auth_new with ca_file

lf_auth_config base_config() {
    static const char *const redirects[] = {kRedirect, "https://app.example.com/oauth/callback2"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = kClientId;
    cfg.client_secret = kSecret;
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 2;
    cfg.authorize_url = kAuthorize;
    cfg.token_url = "https://127.0.0.1:8443/oauth/access_token";
    return cfg;
}

void die(const char *what, lf_status s) {
    std::fprintf(stderr, "%s: %s\n", what, lf_status_name(s));
    std::exit(2);
}

// ---- consent URL --------------------------------------------------------------

void BM_ConsentUrl_Lf(benchmark::State &st) {
    char buf[1024];
    size_t needed = 0;
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        lf_status s = lf_consent_url(g_auth, kRedirect, kScopes, g_state.c_str(), buf, sizeof buf, &needed);
        if (s != LF_OK) {
            st.SkipWithError("lf_consent_url failed");
            break;
        }
        benchmark::DoNotOptimize(buf);
        benchmark::ClobberMemory();
    }
    report_allocs(st, before);
}

// What a hand-written builder looks like: allow-list check, curl_easy_escape
// each value, snprintf the URL.
int naive_consent_url(const char *redirect_uri, const char *scopes, const char *state, char *buf, size_t size) {
    static const char *const allowed[] = {kRedirect, "https://app.example.com/oauth/callback2"};
    bool ok = false;
    for (const char *a : allowed)
        if (std::strcmp(a, redirect_uri) == 0) ok = true;
    if (!ok) return -1;
    char *id = curl_easy_escape(nullptr, kClientId, 0);
    char *ru = curl_easy_escape(nullptr, redirect_uri, 0);
    char *sc = curl_easy_escape(nullptr, scopes, 0);
    char *stt = curl_easy_escape(nullptr, state, 0);
    int n = -1;
    if (id && ru && sc && stt)
        n = std::snprintf(buf, size, "%s?client_id=%s&redirect_uri=%s&scope=%s&state=%s", kAuthorize, id, ru, sc, stt);
    curl_free(id);
    curl_free(ru);
    curl_free(sc);
    curl_free(stt);
    return n;
}

void BM_ConsentUrl_Naive(benchmark::State &st) {
    char buf[1024];
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        int n = naive_consent_url(kRedirect, kScopes, g_state.c_str(), buf, sizeof buf);
        if (n <= 0) {
            st.SkipWithError("naive builder failed");
            break;
        }
        benchmark::DoNotOptimize(buf);
        benchmark::ClobberMemory();
    }
    report_allocs(st, before);
}

// ---- callback parse -----------------------------------------------------------

std::string g_callback;
const char kCode[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

void BM_ParseCallback_Lf(benchmark::State &st) {
    char code[256];
    size_t needed = 0;
    lf_error err;
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        lf_status s = lf_parse_callback(g_auth, g_callback.c_str(), g_state.c_str(), code, sizeof code, &needed, &err);
        if (s != LF_OK) {
            st.SkipWithError("lf_parse_callback failed");
            break;
        }
        benchmark::DoNotOptimize(code);
        benchmark::ClobberMemory();
    }
    report_allocs(st, before);
}

// Hand-written with libcurl's URL API: parse, take the query, split on '&',
// unescape the values we want, compare the state in constant time.
int naive_parse_callback(const char *url, const char *expected_state, char *code, size_t size) {
    CURLU *u = curl_url();
    if (!u) return -1;
    int rc = -1;
    char *query = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
        bool state_ok = false, have_code = false;
        char *save = nullptr;
        for (char *p = strtok_r(query, "&", &save); p; p = strtok_r(nullptr, "&", &save)) {
            char *eq = std::strchr(p, '=');
            if (!eq) continue;
            *eq = '\0';
            int len = 0;
            char *v = curl_easy_unescape(nullptr, eq + 1, 0, &len);
            if (!v) break;
            if (std::strcmp(p, "state") == 0) {
                size_t el = std::strlen(expected_state);
                state_ok = static_cast<size_t>(len) == el && CRYPTO_memcmp(v, expected_state, el) == 0;
            } else if (std::strcmp(p, "code") == 0 && static_cast<size_t>(len) < size) {
                std::memcpy(code, v, static_cast<size_t>(len) + 1);
                have_code = len > 0;
            }
            curl_free(v);
        }
        rc = state_ok && have_code ? 0 : -1;
    }
    curl_free(query);
    curl_url_cleanup(u);
    return rc;
}

void BM_ParseCallback_Naive(benchmark::State &st) {
    char code[256];
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        if (naive_parse_callback(g_callback.c_str(), g_state.c_str(), code, sizeof code) != 0) {
            st.SkipWithError("naive parse failed");
            break;
        }
        benchmark::DoNotOptimize(code);
        benchmark::ClobberMemory();
    }
    report_allocs(st, before);
}

// ---- webhook verify -------------------------------------------------------------

struct Webhook {
    std::string body;
    char sig[LF_SIGNATURE_BUFFER_SIZE];
};
Webhook g_hook_1k, g_hook_1m;

Webhook make_webhook(size_t n) {
    Webhook w;
    // A JSON-looking order payload, repeated to the size wanted.
    const std::string unit =
        "{\"event\":\"order/created\",\"node\":{\"id\":\"order_2f8a9c\",\"total\":129.90,"
        "\"currency\":\"USD\",\"customer\":{\"email\":\"jane@example.com\"}}}\n";
    while (w.body.size() < n) w.body += unit;
    w.body.resize(n);
    size_t needed = 0;
    lf_status s = lf_webhook_sign(g_auth, w.body.data(), w.body.size(), w.sig, sizeof w.sig, &needed);
    if (s != LF_OK) die("lf_webhook_sign", s);
    return w;
}

void webhook_lf(benchmark::State &st, const Webhook &w) {
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        lf_status s = lf_webhook_verify(g_auth, w.body.data(), w.body.size(), w.sig);
        if (s != LF_OK) {
            st.SkipWithError("lf_webhook_verify failed");
            break;
        }
        benchmark::DoNotOptimize(s);
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(w.body.size()));
    report_allocs(st, before);
}

// The baseline: an EVP_MAC HMAC-SHA256 context keyed once;
// per call EVP_MAC_CTX_dup, update, final, EVP_EncodeBlock, CRYPTO_memcmp.
// The library keeps one spare keyed context per key and re-initialises it
// after each MAC (src/crypto.cpp), falling back to the dup when another
// thread holds the spare.
struct PrekeyedEvpMac {
    EVP_MAC_CTX *base = nullptr;
    PrekeyedEvpMac() {
        EVP_MAC *mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
        base = mac ? EVP_MAC_CTX_new(mac) : nullptr;
        EVP_MAC_free(mac);
        char digest[] = "SHA256";
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
        if (!base ||
            !EVP_MAC_init(base, reinterpret_cast<const unsigned char *>(kSecret), std::strlen(kSecret), params)) {
            std::fprintf(stderr, "EVP_MAC setup failed\n");
            std::exit(2);
        }
    }
    ~PrekeyedEvpMac() { EVP_MAC_CTX_free(base); }
    bool verify(const void *body, size_t len, const char *header) const {
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(base);
        if (!c) return false;
        unsigned char mac[32];
        size_t out = 0;
        bool ok = EVP_MAC_update(c, static_cast<const unsigned char *>(body), len) &&
                  EVP_MAC_final(c, mac, &out, sizeof mac) && out == sizeof mac;
        EVP_MAC_CTX_free(c);
        if (!ok) return false;
        unsigned char b64[45];
        EVP_EncodeBlock(b64, mac, sizeof mac);
        return std::strlen(header) == 44 && CRYPTO_memcmp(b64, header, 44) == 0;
    }
};

PrekeyedEvpMac *g_evp = nullptr;

template <class V>
void webhook_ref(benchmark::State &st, const V &v, const Webhook &w) {
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        bool ok = v.verify(w.body.data(), w.body.size(), w.sig);
        if (!ok) {
            st.SkipWithError("reference verify failed");
            break;
        }
        benchmark::DoNotOptimize(ok);
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(w.body.size()));
    report_allocs(st, before);
}

void BM_Webhook1K_Lf(benchmark::State &st) { webhook_lf(st, g_hook_1k); }
void BM_Webhook1K_EvpMac(benchmark::State &st) { webhook_ref(st, *g_evp, g_hook_1k); }
void BM_Webhook1M_Lf(benchmark::State &st) { webhook_lf(st, g_hook_1m); }
void BM_Webhook1M_EvpMac(benchmark::State &st) { webhook_ref(st, *g_evp, g_hook_1m); }

// ---- lf_auth_new ----------------------------------------------------------------

void auth_new(benchmark::State &st, bool with_ca) {
    lf_auth_config cfg = base_config();
    if (with_ca) cfg.ca_file = g_ca_file.c_str();
    AllocSnapshot before = AllocSnapshot::now();
    for (auto _ : st) {
        lf_auth *a = nullptr;
        lf_status s = lf_auth_new(&cfg, &a, nullptr);
        if (s != LF_OK) {
            st.SkipWithError("lf_auth_new failed");
            break;
        }
        lf_auth_free(a);
    }
    report_allocs(st, before);
}
void BM_AuthNew_SystemStore(benchmark::State &st) { auth_new(st, false); }
void BM_AuthNew_CaFile(benchmark::State &st) { auth_new(st, true); }

}  // namespace

BENCHMARK(BM_ConsentUrl_Lf);
BENCHMARK(BM_ConsentUrl_Naive);
BENCHMARK(BM_ParseCallback_Lf);
BENCHMARK(BM_ParseCallback_Naive);
BENCHMARK(BM_Webhook1K_Lf);
BENCHMARK(BM_Webhook1K_EvpMac);
// Two threads verifying with one handle, as a busy webhook endpoint does
// (wall time per verify): the library's one spare context is contended here.
BENCHMARK(BM_Webhook1K_Lf)->Threads(2)->UseRealTime();
BENCHMARK(BM_Webhook1K_EvpMac)->Threads(2)->UseRealTime();
BENCHMARK(BM_Webhook1M_Lf);
BENCHMARK(BM_Webhook1M_EvpMac);
BENCHMARK(BM_AuthNew_SystemStore);
BENCHMARK(BM_AuthNew_CaFile);

// --profile=WHAT:N runs one workload N times between CALLGRIND_ZERO_STATS
// and CALLGRIND_DUMP_STATS, so that under valgrind --tool=callgrind the
// dump holds exactly N operations (bench/profile).
int run_profile(const std::string &spec) {
    size_t colon = spec.find(':');
    std::string what = spec.substr(0, colon);
    long n = colon == std::string::npos ? 10000 : std::atol(spec.c_str() + colon + 1);
    char buf[1024], code[256];
    size_t needed = 0;
    long bad = 0;
    CALLGRIND_ZERO_STATS;
    for (long i = 0; i < n; i++) {
        if (what == "consent")
            bad += lf_consent_url(g_auth, kRedirect, kScopes, g_state.c_str(), buf, sizeof buf, &needed) != LF_OK;
        else if (what == "consent_naive")
            bad += naive_consent_url(kRedirect, kScopes, g_state.c_str(), buf, sizeof buf) <= 0;
        else if (what == "parse")
            bad += lf_parse_callback(g_auth, g_callback.c_str(), g_state.c_str(), code, sizeof code, &needed,
                                     nullptr) != LF_OK;
        else if (what == "parse_naive")
            bad += naive_parse_callback(g_callback.c_str(), g_state.c_str(), code, sizeof code) != 0;
        else if (what == "webhook1k")
            bad += lf_webhook_verify(g_auth, g_hook_1k.body.data(), g_hook_1k.body.size(), g_hook_1k.sig) != LF_OK;
        else if (what == "webhook1k_evp")
            bad += !g_evp->verify(g_hook_1k.body.data(), g_hook_1k.body.size(), g_hook_1k.sig);
        else {
            std::fprintf(stderr, "unknown profile workload %s\n", what.c_str());
            return 1;
        }
    }
    CALLGRIND_DUMP_STATS;
    if (bad) std::fprintf(stderr, "%ld of %ld operations failed\n", bad, n);
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    install_counting_allocators();  // before anything else

    std::string profile;
    for (int i = 1; i < argc; i++) {
        if (std::strncmp(argv[i], "--profile=", 10) == 0) {
            profile = argv[i] + 10;
            for (int j = i; j < argc; j++) argv[j] = argv[j + 1];  // argv[argc] is NULL
            argc--;
            break;
        }
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

    const char *ca = std::getenv("LF_BENCH_CA_FILE");
    g_ca_file = ca && *ca ? ca : "/etc/ssl/certs/ca-certificates.crt";

    lf_auth_config cfg = base_config();
    lf_status s = lf_auth_new(&cfg, &g_auth, nullptr);
    if (s != LF_OK) die("lf_auth_new", s);

    char state[LF_STATE_BUFFER_SIZE];
    s = lf_state_generate(state, sizeof state);
    if (s != LF_OK) die("lf_state_generate", s);
    g_state = state;
    g_callback = std::string(kRedirect) + "?code=" + kCode + "&state=" + g_state +
                 "&hmac=3b1f&shop=example-store&timestamp=1718000000";

    // Check that both builders and both parsers agree before timing them.
    char a[1024], b[1024], code[256];
    size_t needed = 0;
    if (lf_consent_url(g_auth, kRedirect, kScopes, state, a, sizeof a, &needed) != LF_OK ||
        naive_consent_url(kRedirect, kScopes, state, b, sizeof b) <= 0)
        die("consent URL self-check", LF_E_INTERNAL);
    if (lf_parse_callback(g_auth, g_callback.c_str(), state, code, sizeof code, &needed, nullptr) != LF_OK ||
        std::strcmp(code, kCode) != 0 || naive_parse_callback(g_callback.c_str(), state, b, sizeof b) != 0 ||
        std::strcmp(b, kCode) != 0)
        die("callback self-check", LF_E_INTERNAL);

    g_hook_1k = make_webhook(1024);
    g_hook_1m = make_webhook(1 << 20);
    g_evp = new PrekeyedEvpMac();
    if (!g_evp->verify(g_hook_1k.body.data(), g_hook_1k.body.size(), g_hook_1k.sig) ||
        lf_webhook_verify(g_auth, g_hook_1k.body.data(), g_hook_1k.body.size(), g_hook_1k.sig) != LF_OK)
        die("webhook self-check", LF_E_INTERNAL);

    if (!profile.empty()) {
        int rc = run_profile(profile);
        delete g_evp;
        lf_auth_free(g_auth);
        return rc;
    }

    benchmark::AddCustomContext("ossl_allocs_counted", g_ossl_counted ? "yes" : "no");
    benchmark::AddCustomContext("openssl", OpenSSL_version(OPENSSL_VERSION));
    benchmark::AddCustomContext("libcurl", curl_version());
    benchmark::AddCustomContext("lightfunnels-auth", lf_version());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();

    delete g_evp;
    lf_auth_free(g_auth);
    return 0;
}
