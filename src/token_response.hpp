// Reading what servers answer: the token endpoint's answer and the RFC 6750
// token syntax, and the error shapes both the token endpoint and the
// GraphQL API use (graphql.hpp reads the API's answers).
#pragma once

#include <string_view>

#include "client.hpp"
#include "error.hpp"
#include "http.hpp"
#include "json.hpp"

struct cJSON;

namespace lf {

// Nesting allowed in a token response.
constexpr int kTokenJsonDepth = 8;

// The token endpoint's answer: Ok with `token` filled (its storage must be
// reserved for kMaxTokenLength bytes), or the mapped failure.
Status read_token_response(const HttpResponse &resp, const Redactor &r, Token &token, Error &e);

// The error a server described, as views into its parsed body.
struct ServerError {
    std::string_view key;      // OAuth `error`, else Lightfunnels errors[0].key (or .name)
    std::string_view message;  // OAuth `error_description`, else errors[0].message
    bool present = false;      // the body carried `error` or a non-null `errors`
};

ServerError server_error(const cJSON *root) noexcept;

// Fails with status s: "<prefix>: <the server's message>", the prefix made
// printf-style from fmt, the server's key and message redacted by r.
Status fail_answer(Error &e, Status s, long http_status, const ServerError &se, const Redactor &r, const char *fmt,
                   ...) noexcept __attribute__((format(printf, 6, 7)));

// HTTP 429, or the platform's rate_limit_reached key.
bool rate_limited(long status, const ServerError &se) noexcept;

// Why a body that should be a JSON object is not one, for messages.
const char *json_problem(JsonError je, const cJSON *root) noexcept;

// RFC 6750 b64token: [A-Za-z0-9-._~+/]+=*
bool is_b64token(std::string_view s) noexcept;

}  // namespace lf
