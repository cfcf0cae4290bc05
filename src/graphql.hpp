// Reading the GraphQL API's answers (Client::graphql sends the requests).
#pragma once

#include "error.hpp"
#include "http.hpp"

namespace lf {

// Nesting allowed in an API response (and in variables_json).
constexpr int kApiJsonDepth = 64;

// The API's answer: Ok for a 2xx JSON object without `errors`, else the
// mapped failure (Api, Unauthorized, RateLimited, Http, Protocol).
Status read_api_response(const HttpResponse &resp, const Redactor &r, Error &e);

}  // namespace lf
