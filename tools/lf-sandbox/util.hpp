// Small helpers shared by the sandbox modules: randomness, encodings, JSON.
#pragma once

#include <cjson/cJSON.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sandbox {

// `nbytes` bytes from the OpenSSL CSPRNG, base64url without padding.
// Throws std::runtime_error if the CSPRNG fails (there is no fallback).
std::string random_token(size_t nbytes = 32);

// Lower-case hex SHA-256 of `s`. Used as the key of every secret-bearing
// map so that lookups never compare secrets byte by byte.
std::string sha256_hex(const std::string &s);

// Constant-time equality (time depends only on the lengths): lf_state_equal.
bool secret_equal(const std::string &a, const std::string &b);

std::string base64_encode(const std::string &raw);
// Strict standard base64 (padding required, no whitespace). False when malformed.
bool base64_decode(const std::string &b64, std::string &out);

// RFC 3986 percent-encoding of everything but A-Z a-z 0-9 - . _ ~
std::string pct_encode(const std::string &s);

// Appends name=value pairs (percent-encoded) to a URI that may already have
// a query: '?' or '&' as needed.
std::string append_query(const std::string &uri, const std::vector<std::pair<std::string, std::string>> &params);

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(const std::string &s);

// Printable ASCII only, at most `max` bytes: safe to put in a log line.
std::string log_safe(const std::string &s, size_t max = 80);

// Well-formed UTF-8 (no overlongs, surrogates or code points over U+10FFFF).
bool is_utf8(const std::string &s);

// True when `s` contains a NUL byte or an ASCII control character.
bool has_control(const std::string &s);

// Loopback literal or name: 127.0.0.0/8, ::1, localhost.
bool is_loopback_host(const std::string &host);

// ---- JSON -----------------------------------------------------------------
struct JsonDeleter {
    void operator()(cJSON *p) const { cJSON_Delete(p); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

// Parses `body` as one JSON object. Rejects: raw NUL bytes, \u0000 and
// malformed \u escapes (cJSON would silently truncate such strings), trailing
// non-whitespace,
// anything that is not an object, and duplicated top-level keys.
Json parse_json_object(const std::string &body, std::string &why);

enum class Field { missing, ok, wrong_type };
// Case-sensitive lookup of a string member.
Field json_string(const cJSON *obj, const char *name, std::string &out);

// Serialises without formatting; throws std::bad_alloc on failure.
std::string json_print(const cJSON *obj);

// {"error": error, "error_description": description}
std::string oauth_error_json(const char *error, const std::string &description);

// {"errors":[{"message":..,"name":..,"key":..,"path":[]}]}; a non-empty
// `path` is the response key of the field that failed: "path":["createWebhook"].
std::string graphql_error_json(const std::string &message, const char *name, const char *key,
                               const std::string &path = "");

}  // namespace sandbox
