// Reading what servers answer: the error shapes of the token endpoint and
// the GraphQL API, and the RFC 6750 token syntax.
#pragma once

#include <string_view>

#include "client.hpp"
#include "error.hpp"
#include "http.hpp"

struct cJSON;

namespace lf {

// Nesting allowed in a token response and in an API response.
constexpr int kTokenJsonDepth = 8;
constexpr int kApiJsonDepth = 64;

// The token endpoint's answer: Ok with `token` filled (its storage must be
// reserved for kMaxTokenLength bytes), or the mapped failure.
Status read_token_response(const HttpResponse &resp, const Redactor &r, Token &token, Error &e);

// The API's answer: Ok for a 2xx JSON object without `errors`, else the
// mapped failure (Api, Unauthorized, RateLimited, Http, Protocol).
Status read_api_response(const HttpResponse &resp, const Redactor &r, Error &e);

// The error a server described, as views into its parsed body.
struct ServerError {
    std::string_view key;      // OAuth `error`, else Lightfunnels errors[0].key (or .name)
    std::string_view message;  // OAuth `error_description`, else errors[0].message
    bool present = false;      // the body carried `error` or a non-null `errors`
};

ServerError server_error(const cJSON *root) noexcept;

// RFC 6750 b64token: [A-Za-z0-9-._~+/]+=*
bool is_b64token(std::string_view s) noexcept;

bool contains_nocase(std::string_view hay, std::string_view needle) noexcept;

}  // namespace lf
