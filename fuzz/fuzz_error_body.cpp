// F3: the error extractor and the sanitising/redaction path.
//
// Input: "CAP [SECRET1 [SECRET2]]\n" BODY  (CAP: up to 3 digits, the output
// capacity 1..300 for sanitize_copy; layout otherwise as fz::server_input,
// markers @S/@C/@s/@c/@T/@M splice SECRET1/SECRET2 into the body).
//
// "Clean" text: valid UTF-8 without control or bidirectional formatting
// characters (fz::has_control) and without 8 bytes of a secret
// (fz::shares_secret_run).
// 1. lf::server_error on the JSON body (parsed like an API response) must
//    agree with a plain cJSON reading; fail_server with its key/message
//    must produce valid UTF-8 without control characters, without 8 bytes
//    of a secret in the server's text, and a message that starts with the
//    prefix; a clean key that fits comes back unchanged.
// 2. lf::sanitize_copy on the raw body bytes into an exact-size heap buffer
//    (ASan checks the bounds): NUL-terminated within cap, valid UTF-8, no
//    control characters, no 8 bytes of a secret; identity for clean text
//    that fits; a prefix of the input for clean text that does not (cut on
//    a character boundary, at most 3 bytes lost to the cut).
#include <cjson/cJSON.h>

#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_common.hpp"
#include "json.hpp"
#include "token_response.hpp"
#include "graphql.hpp"

namespace {

// `out` is sanitised server text (after the prefix, for the message).
void check_output(std::string_view out, const fz::ServerInput &in, const char *where) {
    FZ_CHECK(fz::valid_utf8(out), std::string(where) + " is not valid UTF-8: " + fz::show(out));
    FZ_CHECK(!fz::has_control(out), std::string(where) + " has a control character: " + fz::show(out));
    fz::check_no_secret_run(out, in.secret, where);
    fz::check_no_secret_run(out, in.code, where);
}

bool secret_free(std::string_view s, const fz::ServerInput &in) {
    return !fz::shares_secret_run(s, in.secret) && !fz::shares_secret_run(s, in.code);
}

bool clean(std::string_view s) { return fz::valid_utf8(s) && !fz::has_control(s); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view raw(reinterpret_cast<const char *>(data), size);
    std::size_t cap = 1 + static_cast<std::size_t>(fz::leading_number(raw, 3, 255)) % 300;
    if (!raw.empty() && raw.front() == ' ') raw.remove_prefix(1);
    // Reuse the server layout for the secrets: "200 0 SECRET1 SECRET2\n".
    std::string ctl =
        raw.find('\n') == std::string_view::npos ? "200 0\n" + std::string(raw) : "200 0 " + std::string(raw);
    fz::ServerInput in = fz::server_input(ctl);
    lf::Redactor r;
    r.add(in.secret);
    r.add(in.code);

    // ---- 1. server_error + fail_server ----------------------------------
    lf::JsonError je = lf::JsonError::None;
    lf::Json doc = lf::Json::parse(in.body, lf::kApiJsonDepth, &je);
    lf::ServerError se = lf::server_error(doc.get());
    if (doc.get()) {
        const cJSON *root = doc.get();
        bool obj = cJSON_IsObject(root);
        const cJSON *error = obj ? cJSON_GetObjectItemCaseSensitive(root, "error") : nullptr;
        const cJSON *errors = obj ? cJSON_GetObjectItemCaseSensitive(root, "errors") : nullptr;
        bool present = fz::reports_error(error, errors);
        FZ_CHECK(se.present == present, "server_error().present disagrees with the body");
        if (error && cJSON_IsString(error) && error->valuestring[0])
            FZ_CHECK(se.key == error->valuestring, "key is not the OAuth error");
        if (!present) FZ_CHECK(se.key.empty() && se.message.empty(), "key/message without an error");
    } else {
        FZ_CHECK(!se.present && se.key.empty() && se.message.empty(), "an error read from no document");
    }
    lf::Error e;
    const char prefix[] = "fuzz prefix (HTTP 400)";
    lf::Status s = lf::fail_server(e, lf::Status::Api, 400, se.key, prefix, se.message, r);
    FZ_CHECK(s == lf::Status::Api && e.status == lf::Status::Api && e.http_status == 400, "fail_server status");
    std::string_view key = fz::field(e.key);
    std::string_view msg = fz::field(e.message);
    FZ_CHECK(msg.substr(0, sizeof prefix - 1) == prefix, "message lost its prefix: " + fz::show(msg));
    check_output(key, in, "err.key");
    check_output(msg.substr(sizeof prefix - 1), in, "err.message");
    if (clean(se.key) && se.key.size() < sizeof e.key && secret_free(se.key, in))
        FZ_CHECK(key == se.key, "clean key altered: " + fz::show(key) + " from " + fz::show(se.key));

    // ---- 2. sanitize_copy on raw bytes -----------------------------------
    std::unique_ptr<char[]> out(new char[cap]);
    std::memset(out.get(), 'Z', cap);
    lf::sanitize_copy(out.get(), cap, in.body, &r);
    std::string_view o(out.get(), strnlen(out.get(), cap));
    FZ_CHECK(o.size() < cap, "sanitize_copy output not NUL-terminated within cap");
    check_output(o, in, "sanitize_copy output");
    if (clean(in.body) && secret_free(in.body, in)) {
        if (in.body.size() < cap) {
            FZ_CHECK(o == in.body, "clean text altered: " + fz::show(o));
        } else {
            FZ_CHECK(std::string_view(in.body).substr(0, o.size()) == o, "truncation is not a prefix");
            FZ_CHECK(o.size() + 4 >= cap, "truncated more than one character: " + std::to_string(o.size()) +
                                              " of cap " + std::to_string(cap));
        }
    }
    // Without a Redactor: same bounds, same text rules.
    std::memset(out.get(), 'Z', cap);
    lf::sanitize_copy(out.get(), cap, in.body, nullptr);
    std::string_view o2(out.get(), strnlen(out.get(), cap));
    FZ_CHECK(o2.size() < cap, "sanitize_copy (no redactor) not NUL-terminated within cap");
    FZ_CHECK(clean(o2), "sanitize_copy (no redactor) output not clean: " + fz::show(o2));
    return 0;
}
