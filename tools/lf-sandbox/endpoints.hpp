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

// graphql.cpp: POST /api/v2: account { id }, the webhooks list and the
// createWebhook / deleteWebhook mutations.
void handle_graphql(Store &store, const httplib::Request &req, httplib::Response &res);

// control.cpp: the sandbox's own controls for tests. POST /_sandbox/revoke
// ends a token; /_sandbox/webhook sends a sample event to any loopback URL;
// /_sandbox/event fires an event at an account's registered webhooks;
// /_sandbox/uninstall removes an install and sends app/uninstalled.
void handle_revoke(Store &store, const httplib::Request &req, httplib::Response &res);
void handle_webhook(Store &store, const httplib::Request &req, httplib::Response &res);
void handle_event(Store &store, const httplib::Request &req, httplib::Response &res);
void handle_uninstall(Store &store, const httplib::Request &req, httplib::Response &res);

// admin.cpp: GET /admin/apps/<client_id>, the merchant's admin with the
// app's URL in an iframe (client option app_url).
void handle_admin_app(Store &store, const httplib::Request &req, httplib::Response &res);

}  // namespace sandbox
