// What every endpoint family shares: response helpers, request predicates,
// form decoding and the client named in the per-request log line.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

namespace sandbox {

// Cache-Control: no-store and Pragma: no-cache (every answer can carry a secret).
void no_store(httplib::Response &res);

// A no-store JSON answer.
void send_json(httplib::Response &res, int status, const std::string &body);

// A no-store {"error":..,"error_description":..} answer (RFC 6749 5.2 shape).
void send_token_error(httplib::Response &res, int status, const char *error, const std::string &description);

bool starts_with_ci(const std::string &s, const char *prefix);

// The request says Content-Type: application/json (any parameters).
bool is_json_type(const httplib::Request &req);

// Exactly one value, or none: false for a repeated parameter.
bool single(const httplib::Params &params, const char *name, std::optional<std::string> &out);

// An application/x-www-form-urlencoded body, decoded whatever the
// Content-Type: '&'-separated, the name up to the first '=', '+' is a space,
// %XX a byte (a '%' without two hex digits stays as it is). Every pair is
// kept, so single() sees a repeated name even when the values are equal.
// Not Request::params: cpp-httplib fills it only for that Content-Type, mixes
// in the URL's query, answers 413 to a form over 8 KiB and drops a pair that
// repeats one before it exactly.
httplib::Params parse_form(const std::string &body);

// The client a request was about, for the log line. Set by the handlers;
// taken (read and cleared) by the logger, which cpp-httplib runs on the same
// thread right after the handler.
void note_client(const std::string &client_id);
std::string take_noted_client();

}  // namespace sandbox
