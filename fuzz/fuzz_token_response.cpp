// F2: the token endpoint's answer (status + Retry-After + body) through
// lf::read_token_response, with a Redactor holding a client secret and a
// code that the body may echo (see fz::server_input for the layout).
//
// Properties: only documented statuses, consistent with the HTTP status; a
// success is a single, string, b64token access_token of 1..4096 bytes in a
// JSON object (checked again with cJSON directly, without the library's
// helpers) of depth <= 8 without \u0000 and without error/errors; every
// failure has err.status/http_status set, retry_after in [0, 3600], and key
// and message valid UTF-8, free of control characters and of the secret and
// the code (the key of any 8 bytes of them). Also: lf::write_json_string (the exchange's request body) of
// the input's code reads back unchanged with cJSON.
#include <cjson/cJSON.h>

#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "json.hpp"
#include "token_response.hpp"

namespace {

bool b64token(std::string_view s) {
    std::size_t i = 0;
    auto ok = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               std::strchr("-._~+/", c) != nullptr;
    };
    while (i < s.size() && s[i] != '\0' && ok(s[i])) i++;
    if (i == 0) return false;
    while (i < s.size() && s[i] == '=') i++;
    return i == s.size();
}

// The success case, re-checked with plain cJSON.
void check_success(const std::string &body, const std::string &token) {
    FZ_CHECK(!token.empty() && token.size() <= 4096, "token length " + std::to_string(token.size()));
    FZ_CHECK(b64token(token), "token is not a b64token: " + fz::show(token));
    fz::JsonShape shape = fz::json_shape(body);
    FZ_CHECK(shape.max_depth <= lf::kTokenJsonDepth, "accepted nesting depth " + std::to_string(shape.max_depth));
    FZ_CHECK(!shape.nul_escape, "accepted a body with a \\u0000 escape");
    // Known bug (reported): cJSON turns \uZZZZ into U+0000, the library
    // accepts the truncated prefix as the token.
    if (!fz::skip_known())
        FZ_CHECK(!shape.bad_escape, "accepted a body with an invalid escape (token may be a truncated prefix): " +
                                        fz::show(body.substr(0, 200)));
    if (!(fz::skip_known() && shape.bad_escape))  // a raw NUL hidden inside a bad \u escape: same bug
        FZ_CHECK(body.find('\0') == std::string::npos, "accepted a body with a raw NUL");
    const char *end = nullptr;
    cJSON *root = cJSON_ParseWithLengthOpts(body.data(), body.size(), &end, 0);
    FZ_CHECK(root != nullptr, "accepted a body cJSON cannot parse");
    for (const char *p = end; p < body.data() + body.size(); p++)
        FZ_CHECK(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n', "accepted trailing garbage");
    FZ_CHECK(cJSON_IsObject(root), "accepted a body that is not an object");
    int count = 0;
    for (cJSON *c = root->child; c; c = c->next)
        if (c->string && std::strcmp(c->string, "access_token") == 0) count++;
    FZ_CHECK(count == 1, "access_token members: " + std::to_string(count));
    cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    FZ_CHECK(cJSON_IsString(t) && token == t->valuestring, "token differs from the body's access_token");
    cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    FZ_CHECK(!fz::reports_error(error, errors), "accepted a body with an error/errors report");
    cJSON_Delete(root);
}

// The request side: the code as the C API can pass it (up to its first NUL),
// written into a JSON body by lf::write_json_string, reads back unchanged
// with cJSON, and json_string_size is exactly what was written.
void check_json_string(std::string_view v) {
    v = v.substr(0, v.find('\0'));
    std::string out(lf::json_string_size(v), '\0');
    char *end = lf::write_json_string(&out[0], v);
    FZ_CHECK(end == out.data() + out.size(), "json_string_size differs from what was written");
    cJSON *str = cJSON_ParseWithLength(out.data(), out.size());
    FZ_CHECK(cJSON_IsString(str) && std::string_view(str->valuestring) == v,
             "write_json_string did not read back: " + fz::show(std::string(v)));
    cJSON_Delete(str);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    fz::ServerInput in = fz::server_input(std::string_view(reinterpret_cast<const char *>(data), size));
    check_json_string(in.code);
    lf::HttpResponse resp;
    resp.status = in.status;
    resp.retry_after_s = in.retry;
    resp.body.assign(in.body.data(), in.body.size());
    lf::Redactor r;
    r.add(in.secret);
    r.add(in.code);
    lf::Token token;
    token.value.str().reserve(lf::kMaxTokenLength);
    lf::Error e;

    lf::Status s = lf::read_token_response(resp, r, token, e);
    long st = in.status;
    bool ok2xx = st >= 200 && st < 300;
    using S = lf::Status;
    std::string what = std::string("status ") + lf::status_name(s) + " for HTTP " + std::to_string(st);

    switch (s) {
    case S::Ok:
        FZ_CHECK(ok2xx, what);
        check_success(in.body, std::string(token.value.view()));
        return 0;
    case S::RateLimited:
        FZ_CHECK(st == 429 || std::string_view(e.key) == "rate_limit_reached", what);
        break;
    case S::InvalidCode:
    case S::InvalidClient:
        FZ_CHECK(ok2xx || st == 400 || st == 401 || st == 403, what);
        FZ_CHECK(st != 429, what);
        break;
    case S::Protocol:
        FZ_CHECK(ok2xx, what);
        break;
    case S::Http:
        FZ_CHECK(!ok2xx && st != 401 && st != 403 && st != 429, what);
        break;
    default:
        FZ_CHECK(false, what + " (not a documented status of the token exchange)");
    }
    FZ_CHECK(token.value.empty(), "token filled on failure");
    FZ_CHECK(e.status == s, "err.status differs");
    FZ_CHECK(e.http_status == st, "err.http_status " + std::to_string(e.http_status) + " != " + std::to_string(st));
    FZ_CHECK(e.retry_after_s >= 0 && e.retry_after_s <= 3600, "retry_after out of range");
    std::string_view key = fz::check_text_field(e.key, "err.key");
    std::string_view msg = fz::check_text_field(e.message, "err.message");
    // The key is the server's text alone; the message starts with the
    // library's own words, which a slice of a fuzz-chosen secret may spell.
    fz::check_no_secret_run(key, in.secret, "err.key");
    fz::check_no_secret_run(key, in.code, "err.key");
    fz::check_no_secret(msg, in.secret, "err.message");
    fz::check_no_secret(msg, in.code, "err.message");
    return 0;
}
