#include "token_response.hpp"

#include <cstdarg>
#include <cstdio>

#include <cjson/cJSON.h>

#include "json.hpp"

namespace lf {

namespace {

enum class Verdict { Other, BadCode, BadClient };

// Whether hay contains needle (given in lower case), ignoring ASCII case.
bool contains_nocase(std::string_view hay, std::string_view needle) noexcept {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); i++) {
        std::size_t j = 0;
        for (; j < needle.size(); j++) {
            char a = hay[i + j], b = needle[j];
            if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
            if (a != b) break;
        }
        if (j == needle.size()) return true;
    }
    return false;
}

// What the error says, by its key first, then its message.
Verdict read_verdict(const ServerError &se) noexcept {
    std::string_view k = se.key;
    if (k == "invalid_grant" || contains_nocase(k, "code")) return Verdict::BadCode;
    if (k == "invalid_client" || k == "unauthorized_client" || contains_nocase(k, "client") ||
        contains_nocase(k, "secret") || contains_nocase(k, "credential"))
        return Verdict::BadClient;
    if (!k.empty() && k != "invalid_request" && k != "unauthorized" && k != "forbidden") return Verdict::Other;
    // A message naming the client wins over one naming the code: "code
    // exchange requires valid client credentials" is about the client.
    std::string_view m = se.message;
    if (contains_nocase(m, "client") || contains_nocase(m, "secret") || contains_nocase(m, "credential"))
        return Verdict::BadClient;
    if (contains_nocase(m, "code") || contains_nocase(m, "grant")) return Verdict::BadCode;
    return Verdict::Other;
}

Status token_error(const HttpResponse &resp, const cJSON *root, const Redactor &r, Error &e) {
    long st = resp.status;
    ServerError se = server_error(root);
    e.retry_after_s = resp.retry_after_s;
    if (rate_limited(st, se))
        return fail_answer(e, Status::RateLimited, st, se, r, "token endpoint rate-limited the request (HTTP %ld)", st);
    if (st >= 300 && st < 400)
        return fail_answer(e, Status::Http, st, se, r,
                           "token endpoint answered with a redirect (HTTP %ld), not followed", st);
    if (st != 400 && st != 401 && st != 403 && !(st >= 200 && st < 300))
        return fail_answer(e, Status::Http, st, se, r, "token endpoint returned HTTP %ld%s", st,
                           root ? "" : " with a body that is not JSON");
    Verdict v = read_verdict(se);
    if (v == Verdict::Other && (st == 401 || st == 403)) v = Verdict::BadClient;
    if (v == Verdict::BadCode)
        return fail_answer(e, Status::InvalidCode, st, se, r,
                           "token endpoint rejected the authorization code (HTTP %ld)", st);
    if (v == Verdict::BadClient)
        return fail_answer(e, Status::InvalidClient, st, se, r,
                           "token endpoint rejected the client credentials (HTTP %ld)", st);
    if (st >= 200 && st < 300)
        return fail_answer(e, Status::Protocol, st, se, r,
                           "token endpoint returned an error in a success response (HTTP %ld)", st);
    return fail_answer(e, Status::Http, st, se, r, "token endpoint returned HTTP %ld", st);
}

}  // namespace

const char *json_problem(JsonError je, const cJSON *root) noexcept {
    return je == JsonError::TooDeep     ? "nested too deeply"
           : je == JsonError::NulEscape ? "contains a \\u0000 escape"
           : root                       ? "not a JSON object"
                                        : "not valid JSON";
}

Status fail_answer(Error &e, Status s, long http_status, const ServerError &se, const Redactor &r, const char *fmt,
                   ...) noexcept {
    char prefix[128];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    return fail_server(e, s, http_status, se.key, prefix, se.message, r);
}

bool rate_limited(long status, const ServerError &se) noexcept {
    return status == 429 || se.key == "rate_limit_reached";
}

ServerError server_error(const cJSON *root) noexcept {
    ServerError se;
    if (!is_object(root)) return se;
    const cJSON *error = member(root, "error");
    if (error && !cJSON_IsNull(error)) {
        se.present = true;
        se.key = string_value(error);
        se.message = string_value(member(root, "error_description"));
        if (se.message.empty()) se.message = string_value(member(root, "message"));
    }
    // `errors: null` and `errors: []` report nothing; any other value is an
    // error report, even a malformed one.
    const cJSON *errors = member(root, "errors");
    if (errors && !cJSON_IsNull(errors) && !(cJSON_IsArray(errors) && !errors->child)) {
        se.present = true;
        const cJSON *first = cJSON_IsArray(errors) ? errors->child : nullptr;
        if (is_object(first)) {
            if (se.key.empty()) se.key = string_value(member(first, "key"));
            if (se.key.empty()) se.key = string_value(member(first, "name"));
            if (se.message.empty()) se.message = string_value(member(first, "message"));
        }
    }
    return se;
}

namespace {
struct B64TokenTable {
    bool ok[256] = {};
    constexpr B64TokenTable() {
        for (int c = 'A'; c <= 'Z'; c++) ok[c] = true;
        for (int c = 'a'; c <= 'z'; c++) ok[c] = true;
        for (int c = '0'; c <= '9'; c++) ok[c] = true;
        for (char c : {'-', '.', '_', '~', '+', '/'}) ok[static_cast<unsigned char>(c)] = true;
    }
};
constexpr B64TokenTable kB64Token;
}  // namespace

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && kB64Token.ok[static_cast<unsigned char>(s[i])]) i++;
    if (i == 0) return false;
    for (; i < s.size(); i++)
        if (s[i] != '=') return false;
    return true;
}

Status read_token_response(const HttpResponse &resp, const Redactor &r, Token &token, Error &e) {
    JsonError je = JsonError::None;
    Json doc = Json::parse(resp.body, kTokenJsonDepth, &je);
    bool success = resp.status >= 200 && resp.status < 300;
    if (!success || server_error(doc.get()).present) {
        // A token sent along with an error is still a secret.
        Redactor with_token = r;
        with_token.add(string_value(member(doc.get(), "access_token")));
        return token_error(resp, doc.get(), with_token, e);
    }

    e.http_status = resp.status;
    if (!is_object(doc.get())) {
        return failf(e, Status::Protocol, "token endpoint: the response body is %s (HTTP %ld)",
                     json_problem(je, doc.get()), resp.status);
    }
    int count = 0;
    const cJSON *t = member(doc.get(), "access_token", &count);
    if (count == 0) return fail(e, Status::Protocol, "token endpoint: the response has no access_token");
    if (count > 1) return fail(e, Status::Protocol, "token endpoint: the response has more than one access_token");
    if (!cJSON_IsString(t) || !t->valuestring)
        return fail(e, Status::Protocol, "token endpoint: access_token is not a string");
    std::string_view value = t->valuestring;
    if (value.empty()) return fail(e, Status::Protocol, "token endpoint: access_token is empty");
    if (value.size() > kMaxTokenLength)
        return failf(e, Status::Protocol, "token endpoint: access_token is longer than %zu bytes", kMaxTokenLength);
    if (!is_b64token(value))
        return fail(e, Status::Protocol, "token endpoint: access_token contains characters outside RFC 6750 b64token");
    // The caller reserved room for the longest token, so this cannot allocate
    // and the token (the code is spent by now) cannot be lost to an OOM.
    token.value.str().assign(value.data(), value.size());
    e.http_status = 0;
    return Status::Ok;
}

}  // namespace lf
