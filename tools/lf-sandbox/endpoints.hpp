// The endpoint handlers of docs/SANDBOX.md, one family per file; routes.cpp
// installs them. Each one answers the request completely and notes the client
// it was about for the log line (reply.hpp).
#pragma once

#include "options.hpp"
#include "store.hpp"

#include <httplib.h>

#include <string>

namespace sandbox {

// consent.cpp: GET /admin/oauth (the consent page, or a code at once with
// --auto-approve) and POST /admin/oauth/decision (the page's Approve/Deny).
void handle_authorize(Store &store, const Options &opts, const httplib::Request &req, httplib::Response &res);
void handle_decision(Store &store, const httplib::Request &req, httplib::Response &res);

// token.cpp: POST /oauth/access_token (credentials in a JSON body) and
// POST /api/access_token (HTTP Basic, code in a form or JSON body).
void handle_token_json(Store &store, const httplib::Request &req, httplib::Response &res);
void handle_token_basic(Store &store, const httplib::Request &req, httplib::Response &res);

// graphql.cpp: POST /api/v2, which answers query { account { id } } only.
void handle_graphql(Store &store, const httplib::Request &req, httplib::Response &res);

// True for `query { account { id } }`, `{ account { id } }` and the same
// with any GraphQL whitespace, commas, comments or an operation name.
bool is_account_id_query(const std::string &query);

// control.cpp: POST /_sandbox/revoke and POST /_sandbox/webhook, the
// sandbox's own controls for tests.
void handle_revoke(Store &store, const httplib::Request &req, httplib::Response &res);
void handle_webhook(Store &store, const httplib::Request &req, httplib::Response &res);

}  // namespace sandbox
