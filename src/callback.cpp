#include "callback.hpp"

#include <cstring>

#include "buffer.hpp"
#include "state.hpp"
#include "url.hpp"

namespace lf {

namespace {

struct Param {
    std::string_view value;  // still encoded
    bool present = false;
};

// Decodes a (validated) name into a small buffer to match it; names longer
// than any we look for cannot match.
bool name_is(std::string_view enc, std::size_t decoded_len, const char *want) noexcept {
    std::size_t n = std::strlen(want);
    if (decoded_len != n) return false;
    char tmp[32];
    if (enc.size() > 3 * sizeof tmp) return false;
    form_decode(enc, tmp);
    return std::memcmp(tmp, want, n) == 0;
}

// Calls f(byte) for each decoded byte of a validated value.
template <class F>
void each_decoded(std::string_view enc, F f) noexcept {
    for (std::size_t i = 0; i < enc.size(); i++) {
        char c = enc[i];
        if (c == '%') {
            char out[1];
            form_decode(enc.substr(i, 3), out);
            f(out[0]);
            i += 2;
        } else {
            f(c == '+' ? ' ' : c);
        }
    }
}

// An empty expected state (a lost session) never matches, not even "state=".
class ExpectedState final : public StateCheck {
public:
    explicit ExpectedState(std::string_view want) noexcept : want_(want) {}
    Status check(bool present, std::string_view state, Error &e) const noexcept override {
        if (!present || want_.empty() || !state_equal(state, want_))
            return fail(e, Status::StateMismatch, "the callback's state is missing or does not match");
        return Status::Ok;
    }

private:
    std::string_view want_;
};

// Decodes the state parameter (validated by read_params) and hands it to check.
Status check_state(const Param &state, const StateCheck &check, Error &e) noexcept {
    std::size_t len = 0;
    form_decoded_length(state.value, &len);
    char got[kMaxCallbackLength];
    form_decode(state.value, got);
    return check.check(state.present, std::string_view(got, len), e);
}

// The query of a full URL or a bare query; the fragment goes first, so a
// '?' inside it does not start a query.
std::string_view query_of(std::string_view input) noexcept {
    std::size_t hash = input.find('#');
    if (hash != std::string_view::npos) input = input.substr(0, hash);
    std::size_t q = input.find('?');
    if (q != std::string_view::npos) return input.substr(q + 1);
    if (input.find("://") == std::string_view::npos) return input;  // a bare query
    return std::string_view();
}

struct Params {
    Param code, state, error, description;
};

// Picks the parameters we read out of the query, checking every escape;
// a repeated code, state or error is refused.
Status read_params(std::string_view query, Params &p, Error &e) noexcept {
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view seg = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (seg.empty()) continue;
        std::size_t eq = seg.find('=');
        std::string_view name = seg.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : seg.substr(eq + 1);
        std::size_t name_len = 0, value_len = 0;
        if (!form_decoded_length(name, &name_len) || !form_decoded_length(value, &value_len))
            return fail(e, Status::InvalidArgument, "the callback has a malformed percent-escape or an encoded NUL");
        Param *param = name_is(name, name_len, "code")                ? &p.code
                       : name_is(name, name_len, "state")             ? &p.state
                       : name_is(name, name_len, "error")             ? &p.error
                       : name_is(name, name_len, "error_description") ? &p.description
                                                                      : nullptr;
        if (!param) continue;
        if (param->present && param != &p.description)
            return fail(e, Status::InvalidArgument, "the callback repeats the code, state or error parameter");
        param->present = true;
        param->value = value;
    }
    return Status::Ok;
}

// The merchant declined: AccessDenied with the server's `error` in e.key
// and `error_description` in e.message.
Status access_denied(const Params &p, Error &e) noexcept {
    char key[sizeof e.key];
    char desc[sizeof e.message];
    std::size_t klen = 0, dlen = 0;
    each_decoded(p.error.value, [&](char c) {
        if (klen + 1 < sizeof key) key[klen++] = c;
    });
    each_decoded(p.description.value, [&](char c) {
        if (dlen + 1 < sizeof desc) desc[dlen++] = c;
    });
    Redactor none;
    return fail_server(e, Status::AccessDenied, 0, std::string_view(key, klen), "authorization was not granted",
                       std::string_view(desc, dlen), none);
}

// Copies the decoded code into the caller's buffer: a missing or empty code,
// or one with control characters, is refused.
Status copy_code(const Param &pcode, char *code, std::size_t size, std::size_t *needed, Error &e) noexcept {
    std::size_t len = 0;
    form_decoded_length(pcode.value, &len);
    if (!pcode.present || len == 0) return fail(e, Status::InvalidArgument, "the callback has no code");
    bool control = false;
    each_decoded(pcode.value, [&](char c) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) control = true;
    });
    if (control) return fail(e, Status::InvalidArgument, "the code contains control characters");
    if (needed) *needed = len + 1;
    if (len + 1 > size) return fail(e, Status::BufferTooSmall, "the code does not fit in the buffer");
    form_decode(pcode.value, code);
    code[len] = '\0';
    return Status::Ok;
}

}  // namespace

Status parse_callback(std::string_view input, const StateCheck *check, char *code, std::size_t size,
                      std::size_t *needed, Error &e) noexcept {
    if (!code && size) return fail(e, Status::InvalidArgument, "code buffer is NULL but size is not 0");
    if (input.size() > kMaxCallbackLength)
        return blank(code, size, fail(e, Status::InvalidArgument, "the callback is longer than 8192 bytes"));
    Params p;
    Status s = read_params(query_of(input), p, e);
    if (s == Status::Ok && check) s = check_state(p.state, *check, e);
    if (s == Status::Ok && p.error.present) s = access_denied(p, e);
    if (s == Status::Ok) s = copy_code(p.code, code, size, needed, e);
    return s == Status::Ok ? s : blank(code, size, s);
}

Status parse_callback(std::string_view input, const char *expected_state, char *code, std::size_t size,
                      std::size_t *needed, Error &e) noexcept {
    if (!expected_state) return parse_callback(input, static_cast<const StateCheck *>(nullptr), code, size, needed, e);
    ExpectedState check(expected_state);
    return parse_callback(input, &check, code, size, needed, e);
}

}  // namespace lf
