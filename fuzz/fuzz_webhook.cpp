// F5: webhook signing and verification through the public API, against an
// independent HMAC-SHA256 + base64 computed with OpenSSL directly.
//
// Input: SECRET '\0' PREVIOUS_SECRET '\0' HEADER '\0' BODY
//   (in HEADER, "@W" is replaced by the expected signature, "@P" by the
//    previous-secret one)
//   (empty SECRET: a fixed one; empty PREVIOUS_SECRET: none; BODY keeps
//    any bytes, NULs included)
//
// Properties: lf_webhook_sign gives exactly the reference signature and
// follows the buffer convention; the signature (with or without its '=',
// with leading/trailing SP/HTAB) verifies, as does one made with the
// previous secret; a one-character change or a changed body does not; the
// fuzz-derived header verifies if and only if, trimmed of leading/trailing
// SP/HTAB, it is one of those accepted forms.
#include <lightfunnels/auth.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <string>

#include "fuzz_common.hpp"

namespace {

std::string reference_sig(std::string_view key, std::string_view body) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const unsigned char empty = 0;
    const unsigned char *b = body.empty() ? &empty : reinterpret_cast<const unsigned char *>(body.data());
    FZ_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), b, body.size(), mac, &len) != nullptr,
             "reference HMAC failed");
    FZ_CHECK(len == 32, "reference HMAC length");
    unsigned char out[64];
    int n = EVP_EncodeBlock(out, mac, 32);
    FZ_CHECK(n == 44, "reference base64 length");
    return std::string(reinterpret_cast<char *>(out), 44);
}

struct Cached {
    std::string secret, previous;
    lf_auth *auth = nullptr;
};

lf_auth *client_for(const std::string &secret, const std::string &previous) {
    static Cached c;
    if (c.auth && c.secret == secret && c.previous == previous) return c.auth;
    lf_auth_free(c.auth);
    c.auth = nullptr;
    static const char *uris[] = {"https://app.example.test/callback"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = "fuzz-client";
    cfg.client_secret = secret.c_str();
    cfg.previous_client_secret = previous.empty() ? nullptr : previous.c_str();
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    lf_error err;
    lf_status st = lf_auth_new(&cfg, &c.auth, &err);
    if (secret.size() > 8192 || previous.size() > 8192) {
        FZ_CHECK(st == LF_E_INVALID_ARGUMENT, "over-long secret accepted");
        return nullptr;
    }
    FZ_CHECK(st == LF_OK, std::string("lf_auth_new failed: ") + lf_status_name(st) + " " + err.message);
    c.secret = secret;
    c.previous = previous;
    return c.auth;
}

std::string_view trim_ows(std::string_view h) {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    return h;
}

bool accepted_form(std::string_view h, const std::string &sig) {
    return h == sig || h == std::string_view(sig).substr(0, 43);
}

lf_status verify(lf_auth *a, std::string_view body, const std::string &header) {
    return lf_webhook_verify(a, body.empty() ? nullptr : body.data(), body.size(), header.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    auto f = fz::split(std::string_view(reinterpret_cast<const char *>(data), size), '\0', 4);
    std::string secret = f.size() > 0 && !f[0].empty() ? std::string(f[0]) : "whsec-Default-Secret-1";
    std::string previous = f.size() > 1 ? std::string(f[1]) : "";
    std::string header = f.size() > 2 ? std::string(f[2]) : "";
    std::string_view body = f.size() > 3 ? f[3] : std::string_view();

    lf_auth *a = client_for(secret, previous);
    if (!a) return 0;
    std::string want = reference_sig(secret, body);
    std::string want_prev = previous.empty() ? std::string() : reference_sig(previous, body);

    // ---- sign: buffer convention and the reference value ---------------
    std::size_t needed = 0;
    lf_status st = lf_webhook_sign(a, body.data(), body.size(), nullptr, 0, &needed);
    FZ_CHECK(st == LF_E_BUFFER_TOO_SMALL && needed == LF_SIGNATURE_BUFFER_SIZE, "sign size query");
    char small[LF_SIGNATURE_BUFFER_SIZE - 1];
    std::memset(small, 'X', sizeof small);
    st = lf_webhook_sign(a, body.data(), body.size(), small, sizeof small, &needed);
    FZ_CHECK(st == LF_E_BUFFER_TOO_SMALL && small[0] == '\0' && needed == LF_SIGNATURE_BUFFER_SIZE,
             "sign with a short buffer");
    char sigbuf[LF_SIGNATURE_BUFFER_SIZE];
    st = lf_webhook_sign(a, body.data(), body.size(), sigbuf, sizeof sigbuf, &needed);
    FZ_CHECK(st == LF_OK, std::string("sign: ") + lf_status_name(st));
    std::string sig(sigbuf);
    FZ_CHECK(sig == want, "signature " + sig + " != reference " + want);

    // ---- accepted forms ---------------------------------------------------
    FZ_CHECK(verify(a, body, sig) == LF_OK, "own signature rejected");
    FZ_CHECK(verify(a, body, sig.substr(0, 43)) == LF_OK, "unpadded signature rejected");
    FZ_CHECK(verify(a, body, " \t" + sig + "\t ") == LF_OK, "signature with outer whitespace rejected");
    if (!previous.empty()) FZ_CHECK(verify(a, body, want_prev) == LF_OK, "previous-secret signature rejected");

    // ---- near misses --------------------------------------------------------
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::size_t pos = body.size() % 43;
    std::string flipped = sig;
    const char *at = std::strchr(b64, flipped[pos]);
    flipped[pos] = b64[(static_cast<std::size_t>(at - b64) + 1 + body.size() % 63) % 64];
    if (flipped != want_prev && flipped.substr(0, 43) != want_prev.substr(0, 43))
        FZ_CHECK(verify(a, body, flipped) == LF_E_SIGNATURE_MISMATCH, "one-character change accepted: " + flipped);
    std::string longer(body);
    longer.push_back('x');
    FZ_CHECK(verify(a, longer, sig) == LF_E_SIGNATURE_MISMATCH, "signature of another body accepted");
    FZ_CHECK(verify(a, body, sig + "=") == LF_E_SIGNATURE_MISMATCH, "extra '=' accepted");
    FZ_CHECK(verify(a, body, "sha256=" + sig) == LF_E_SIGNATURE_MISMATCH, "prefixed signature accepted");
    FZ_CHECK(verify(a, body, sig.substr(0, 20) + " " + sig.substr(20)) == LF_E_SIGNATURE_MISMATCH,
             "internal space accepted");
    FZ_CHECK(lf_webhook_verify(a, body.data(), body.size(), nullptr) == LF_E_INVALID_ARGUMENT, "NULL header");
    FZ_CHECK(lf_webhook_verify(a, nullptr, 1, sig.c_str()) == LF_E_INVALID_ARGUMENT, "NULL body with len");

    // ---- the fuzz-derived header -------------------------------------------
    // "@W" / "@P" in it stand for the signature / the previous-secret one, so
    // the fuzzer can mutate around a real signature.
    std::string expanded;
    for (std::size_t i = 0; i < header.size(); i++) {
        if (header[i] == '@' && i + 1 < header.size() && (header[i + 1] == 'W' || header[i + 1] == 'P')) {
            expanded += header[i + 1] == 'W' ? want : want_prev;
            i++;
        } else {
            expanded.push_back(header[i]);
        }
    }
    header.swap(expanded);
    std::string_view h = trim_ows(header);
    bool expect = accepted_form(h, want) || (!previous.empty() && accepted_form(h, want_prev));
    lf_status got = verify(a, body, header);
    FZ_CHECK(got == (expect ? LF_OK : LF_E_SIGNATURE_MISMATCH),
             std::string("header ") + fz::show(header) + " gave " + lf_status_name(got) +
                 (expect ? ", expected OK" : ", expected a mismatch"));
    return 0;
}
