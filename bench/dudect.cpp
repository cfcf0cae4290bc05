// Constant-time checks in the style of dudect (Reparaz, Balasch, Verbauwhede,
// "Dude, is my code constant time?", 2017), written for this library and
// using only its public API. Run by bench/ct, and by CI through
// scripts/check-constant-time.sh (pinned to one CPU, a failing run
// repeated once: timings on a shared machine are noisy).
//
// For each target, two classes of inputs that differ only in WHERE a secret
// comparison fails are timed in random interleaved order with the cycle
// counter; Welch's t-test then asks whether the two timing distributions
// differ. As in dudect, the test is repeated on the samples below each of
// 100 percentiles (a long tail of interruptions hides small effects), and
// the largest |t| is reported. |t| < 5 after at least 10^6 samples per class
// is the project's gate (docs/TESTING.md, "Constant time").
//
//   state_equal     lf_state_equal(stored, candidate): candidate wrong in
//                   its first vs its last character
//   callback_state  lf_parse_callback with the expected state: the URL's
//                   state wrong in its first vs its last character
//   state_open      lf_state_open: a sealed state whose MAC is wrong in
//                   its first vs its last byte (re-encoded canonically)
//   webhook_verify  lf_webhook_verify: a signature whose MAC is wrong in
//                   its first vs its last byte (re-encoded canonically)
//   control         the harness's power: lf_webhook_sign, then an
//                   early-exit compare of 8-byte words that stops at the
//                   first vs the fifth word. It must be DETECTED (|t| >= 10);
//                   if it is not, the run proves nothing and fails.
//
// Usage: lf_dudect [samples per class, default 2000000] [target ...]
// Exit: 0 all targets under 5 and the control detected, 1 otherwise, 2 setup.
#include <lightfunnels/auth.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#else
#include <ctime>
#endif

namespace {

const char kClientId[] = "lf_app_8c1d5e2b9a7f4c3e";
const char kSecret[] = "sk_live_dudect_0d6b81c4a93f05e2b7d1";
const char kRedirect[] = "https://app.example.com/oauth/callback";

inline std::uint64_t ticks() {
#if defined(__x86_64__)
    _mm_lfence();
    std::uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
#else
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
#endif
}

// Welch's t-test, accumulated online (Welford).
struct TTest {
    double mean[2] = {0, 0}, m2[2] = {0, 0}, n[2] = {0, 0};
    void add(int cls, double x) {
        n[cls] += 1;
        double d = x - mean[cls];
        mean[cls] += d / n[cls];
        m2[cls] += d * (x - mean[cls]);
    }
    double t() const {
        if (n[0] < 2 || n[1] < 2) return 0;
        double v0 = m2[0] / (n[0] - 1), v1 = m2[1] / (n[1] - 1);
        double den = std::sqrt(v0 / n[0] + v1 / n[1]);
        return den > 0 ? (mean[0] - mean[1]) / den : 0;
    }
};

struct Result {
    double max_t = 0;
    double mean[2] = {0, 0};
    long per_class = 0;
};

// Times op() for `per_class` samples of each class, in batches whose class
// order is random. prepare(class) runs before each sample, untimed: it
// copies the class's input into the one buffer op() reads, so both classes
// read the same addresses (with an input per class at its own address,
// state_equal showed |t| from 0.3 to 389 between identical runs). The first
// batch only warms up and sets the percentile thresholds (as dudect does).
Result measure(const std::function<void(int)> &prepare, const std::function<void()> &op, long per_class) {
    constexpr int kTests = 101;  // 100 percentile crops + the whole sample
    constexpr long kBatch = 100000;
    std::mt19937_64 rng(0x5eed5eedu);
    std::vector<int> cls(kBatch);
    std::vector<std::uint64_t> dt(kBatch);
    std::vector<double> thresholds;
    TTest tests[kTests];
    long counted[2] = {0, 0};
    auto run_batch = [&] {
        for (long i = 0; i < kBatch; i++) cls[i] = static_cast<int>(rng() & 1);
        for (long i = 0; i < kBatch; i++) {
            prepare(cls[i]);
            std::uint64_t t0 = ticks();
            op();
            dt[i] = ticks() - t0;
        }
    };
    run_batch();  // warm-up
    {
        std::vector<std::uint64_t> sorted(dt);
        std::sort(sorted.begin(), sorted.end());
        for (int k = 0; k < kTests - 1; k++) {
            double p = 1 - std::pow(0.5, 10.0 * (k + 1) / (kTests - 1));
            thresholds.push_back(static_cast<double>(sorted[static_cast<std::size_t>(p * (kBatch - 1))]));
        }
    }
    // Bounded: stops once both classes have per_class samples, or after
    // 4x the batches that should take (the classes are drawn at random).
    long max_batches = 4 * (2 * per_class / kBatch + 1);
    for (long b = 0; b < max_batches && (counted[0] < per_class || counted[1] < per_class); b++) {
        run_batch();
        for (long i = 0; i < kBatch; i++) {
            double x = static_cast<double>(dt[i]);
            counted[cls[i]]++;
            tests[kTests - 1].add(cls[i], x);
            for (int k = 0; k < kTests - 1; k++)
                if (x < thresholds[k]) tests[k].add(cls[i], x);
        }
    }
    Result r;
    for (const TTest &t : tests) r.max_t = std::max(r.max_t, std::fabs(t.t()));
    r.mean[0] = tests[kTests - 1].mean[0];
    r.mean[1] = tests[kTests - 1].mean[1];
    r.per_class = std::min(counted[0], counted[1]);
    return r;
}

void die(const char *what, lf_status s) {
    std::fprintf(stderr, "lf_dudect: %s: %s\n", what, lf_status_name(s));
    std::exit(2);
}

std::string b64(const unsigned char *mac) {
    unsigned char out[64];
    EVP_EncodeBlock(out, mac, 32);
    return std::string(reinterpret_cast<char *>(out));
}

// A character of the base64url alphabet other than c.
char other(char c) { return c == 'A' ? 'B' : 'A'; }

// A sealed state (base64url of 57 bytes: 25 of body, then the 32-byte MAC)
// with one byte flipped and the text re-encoded, so the change is in the
// MAC and nowhere else.
// The character class a base64url decoder tells apart (and may branch on).
int b64_class(char c) { return c >= 'A' && c <= 'Z' ? 0 : c >= 'a' && c <= 'z' ? 1 : c >= '0' && c <= '9' ? 2 : 3; }

// `state` with one bit of raw byte `byte` flipped, re-encoded canonically.
// The bit is chosen so that every character that changes stays in its class
// (upper, lower, digit; never '-' or '_'): the two classes of the test then
// differ only in where the MAC is wrong, not in how the decoder treats the
// attacker's own characters, which is not secret.
std::string flip_sealed(const char *state, std::size_t byte) {
    std::string t(state);
    for (char &c : t) c = c == '-' ? '+' : c == '_' ? '/' : c;
    unsigned char raw[60];
    if (EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char *>(t.data()), static_cast<int>(t.size())) != 57)
        return std::string();
    for (int bit = 0; bit < 8; bit++) {
        unsigned char flipped[57];
        std::memcpy(flipped, raw, sizeof flipped);
        flipped[byte] ^= static_cast<unsigned char>(1u << bit);
        unsigned char out[80];
        EVP_EncodeBlock(out, flipped, 57);
        std::string r(reinterpret_cast<const char *>(out));
        for (char &c : r) c = c == '+' ? '-' : c == '/' ? '_' : c;
        bool same_classes = r.size() == std::strlen(state);
        for (std::size_t i = 0; same_classes && i < r.size(); i++)
            same_classes = r[i] == state[i] || (b64_class(r[i]) == b64_class(state[i]) && b64_class(r[i]) != 3);
        if (same_classes) return r;
    }
    return std::string();  // no such bit in this byte: the caller seals another state
}

// One input per class, in buffers of the same size and alignment.
template <std::size_t N>
struct alignas(64) Buf {
    char s[N];
};
using Slot = Buf<128>;

}  // namespace

int main(int argc, char **argv) {
    long per_class = argc > 1 ? std::atol(argv[1]) : 2000000;
    if (per_class < 1000) {
        std::fprintf(stderr, "usage: lf_dudect [samples per class >= 1000] [target ...]\n");
        return 2;
    }
    std::vector<std::string> only(argv + (argc > 1 ? 2 : 1), argv + argc);
    auto wanted = [&](const char *name) {
        return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
    };

    static const char *const redirects[] = {kRedirect};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = kClientId;
    cfg.client_secret = kSecret;
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    lf_auth *auth = nullptr;
    lf_status st = lf_auth_new(&cfg, &auth, nullptr);
    if (st != LF_OK) die("lf_auth_new", st);

    char state[LF_STATE_BUFFER_SIZE];
    if ((st = lf_state_generate(state, sizeof state)) != LF_OK) die("lf_state_generate", st);
    const std::size_t state_len = std::strlen(state);

    // state candidates: wrong first / last character
    static Slot cand[2];
    for (int c = 0; c < 2; c++) {
        std::memcpy(cand[c].s, state, state_len + 1);
        std::size_t at = c == 0 ? 0 : state_len - 1;
        cand[c].s[at] = other(cand[c].s[at]);
    }
    // callback URLs carrying those states
    static Buf<320> url[2];
    for (int c = 0; c < 2; c++)
        std::snprintf(url[c].s, sizeof url[c].s, "%s?code=c0de5e7a9b1f&state=%s", kRedirect, cand[c].s);

    // webhook: a 64-byte body; MAC wrong in byte 0 / byte 31
    const std::string body(64, 'w');
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), kSecret, static_cast<int>(std::strlen(kSecret)),
         reinterpret_cast<const unsigned char *>(body.data()), body.size(), mac, &mac_len);
    static Slot sig[2];
    for (int c = 0; c < 2; c++) {
        unsigned char m[32];
        std::memcpy(m, mac, sizeof m);
        m[c == 0 ? 0 : 31] ^= 0x01;
        std::snprintf(sig[c].s, sizeof sig[c].s, "%s", b64(m).c_str());
    }
    // control: the right signature with character 0 / 39 changed
    const std::string good = b64(mac);
    static Slot ctl[2];
    for (int c = 0; c < 2; c++) {
        std::snprintf(ctl[c].s, sizeof ctl[c].s, "%s", good.c_str());
        std::size_t at = c == 0 ? 0 : 39;
        ctl[c].s[at] = other(ctl[c].s[at]);
    }
    // sealed state: MAC wrong in byte 0 / byte 31 (bytes 25 / 56 of the state)
    const char kBinding[] = "session-dudect-5b0e1c7d";
    char sealed[LF_SEALED_STATE_BUFFER_SIZE];
    static Slot forged[2];
    for (int tries = 0;; tries++) {
        if (tries == 64) die("no sealed state whose MAC bytes flip within their character classes", LF_E_INTERNAL);
        if ((st = lf_state_seal(auth, kBinding, sealed, sizeof sealed, nullptr)) != LF_OK) die("lf_state_seal", st);
        std::string first = flip_sealed(sealed, 25), last = flip_sealed(sealed, 56);
        if (first.empty() || last.empty()) continue;
        std::snprintf(forged[0].s, sizeof forged[0].s, "%s", first.c_str());
        std::snprintf(forged[1].s, sizeof forged[1].s, "%s", last.c_str());
        break;
    }
    if ((st = lf_state_open(auth, sealed, kBinding, 600, nullptr)) != LF_OK) die("good sealed state", st);
    // sanity: every input is refused for the reason intended
    for (int c = 0; c < 2; c++) {
        if (lf_state_equal(state, cand[c].s) != 0) die("state candidate equal", LF_E_INTERNAL);
        char code[64];
        st = lf_parse_callback(auth, url[c].s, state, code, sizeof code, nullptr, nullptr);
        if (st != LF_E_STATE_MISMATCH) die("callback with a wrong state", st);
        st = lf_webhook_verify(auth, body.data(), body.size(), sig[c].s);
        if (st != LF_E_SIGNATURE_MISMATCH) die("webhook with a wrong MAC", st);
        st = lf_state_open(auth, forged[c].s, kBinding, 600, nullptr);
        if (st != LF_E_STATE_MISMATCH) die("sealed state with a wrong MAC", st);
    }
    if ((st = lf_webhook_verify(auth, body.data(), body.size(), good.c_str())) != LF_OK) die("good webhook", st);

    volatile int sink = 0;
    // The one input buffer op() reads; prepare(class) fills it.
    static Buf<320> in;
    auto from = [&](const char *src) { std::memcpy(in.s, src, std::strlen(src) + 1); };
    struct Target {
        const char *name;
        bool control;
        std::function<void(int)> prepare;
        std::function<void()> op;
    };
    std::vector<Target> targets = {
        {"state_equal", false, [&](int c) { from(cand[c].s); }, [&] { sink = sink + lf_state_equal(state, in.s); }},
        {"callback_state", false, [&](int c) { from(url[c].s); },
         [&] {
             char code[64];
             sink = sink + lf_parse_callback(auth, in.s, state, code, sizeof code, nullptr, nullptr);
         }},
        {"state_open", false, [&](int c) { from(forged[c].s); },
         [&] { sink = sink + lf_state_open(auth, in.s, kBinding, 600, nullptr); }},
        {"webhook_verify", false, [&](int c) { from(sig[c].s); },
         [&] { sink = sink + lf_webhook_verify(auth, body.data(), body.size(), in.s); }},
        {"control", true, [&](int c) { from(ctl[c].s); },
         [&] {
             char mine[LF_SIGNATURE_BUFFER_SIZE];
             sink = sink + lf_webhook_sign(auth, body.data(), body.size(), mine, sizeof mine, nullptr);
             // The leak the harness must see: stop at the first differing
             // 8-byte word (the barrier keeps GCC from making this a memcmp).
             int equal = 1;
             for (int w = 0; w < 5; w++) {
                 std::uint64_t x, y;
                 std::memcpy(&x, mine + 8 * w, 8);
                 std::memcpy(&y, in.s + 8 * w, 8);
                 __asm__ __volatile__("" : "+r"(x), "+r"(y));
                 if (x != y) {
                     equal = 0;
                     break;
                 }
             }
             sink = sink + equal;
         }},
    };

    std::printf("%-16s %14s %12s %12s %9s  %s\n", "target", "samples/class", "mean A", "mean B", "max |t|", "verdict");
    bool ok = true;
    for (const Target &t : targets) {
        if (!wanted(t.name)) continue;
        Result r = measure(t.prepare, t.op, per_class);
        const char *verdict;
        if (t.control) {
            verdict = r.max_t >= 10 ? "DETECTED (as it must be)" : "NOT DETECTED: the run has no power";
            ok = ok && r.max_t >= 10;
        } else {
            bool pass = r.max_t < 5 && r.per_class >= per_class;
            verdict = pass ? "PASS (< 5)" : r.per_class < per_class ? "FAIL (too few samples)" : "FAIL (>= 5)";
            ok = ok && pass;
        }
        std::printf("%-16s %14ld %12.1f %12.1f %9.2f  %s\n", t.name, r.per_class, r.mean[0], r.mean[1], r.max_t,
                    verdict);
        std::fflush(stdout);
    }
    std::printf("(means in %s; A: differs early, B: differs late)\n",
#if defined(__x86_64__)
                "TSC ticks"
#else
                "ns"
#endif
    );
    lf_auth_free(auth);
    return ok ? 0 : 1;
}
