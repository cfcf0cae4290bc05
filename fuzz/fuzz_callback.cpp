// F1: lf_parse_callback() against an independent reference parser written
// from the header's contract, plus the buffer convention.
//
// Input: CALLBACK [ '\0' EXPECTED_STATE ]   (no second field: expected_state = NULL)
// The whole raw input (NULs included) is also fed to the internal
// length-delimited parser lf::parse_callback.
#include <lightfunnels/auth.h>

#include <cstdint>
#include <memory>
#include <string>

#include "callback.hpp"
#include "fuzz_common.hpp"

namespace {

struct Ref {
    lf_status status = LF_OK;
    std::string code;   // on LF_OK
    std::string error;  // on LF_E_ACCESS_DENIED
};

int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Strict form decoding: '+' is a space, %XX with two hex digits, %00 refused.
bool decode(std::string_view in, std::string &out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); i++) {
        if (in[i] == '+') {
            out.push_back(' ');
        } else if (in[i] == '%') {
            if (i + 2 >= in.size()) return false;
            int h = hexv(in[i + 1]), l = hexv(in[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return false;
            out.push_back(static_cast<char>(h * 16 + l));
            i += 2;
        } else {
            out.push_back(in[i]);
        }
    }
    return true;
}

Ref reference(std::string_view in, const char *expected) {
    Ref r;
    if (in.size() > LF_MAX_CALLBACK_LENGTH) return {LF_E_INVALID_ARGUMENT, {}, {}};
    in = in.substr(0, in.find('#'));
    std::string_view query;
    std::size_t q = in.find('?');
    if (q != std::string_view::npos)
        query = in.substr(q + 1);
    else if (in.find("://") == std::string_view::npos)
        query = in;
    bool has_code = false, has_state = false, has_error = false;
    std::string code, state, error, name, value;
    while (true) {
        std::size_t amp = query.find('&');
        std::string_view seg = query.substr(0, amp);
        if (!seg.empty()) {
            std::size_t eq = seg.find('=');
            std::string_view n = seg.substr(0, eq);
            std::string_view v = eq == std::string_view::npos ? std::string_view() : seg.substr(eq + 1);
            if (!decode(n, name) || !decode(v, value)) return {LF_E_INVALID_ARGUMENT, {}, {}};
            bool *seen = name == "code"    ? &has_code
                         : name == "state" ? &has_state
                         : name == "error" ? &has_error
                                           : nullptr;
            if (seen) {
                if (*seen) return {LF_E_INVALID_ARGUMENT, {}, {}};
                *seen = true;
                (name == "code" ? code : name == "state" ? state : error) = value;
            }
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    // An empty expected state never matches (header: a lost session).
    if (expected && (!*expected || !has_state || state != expected)) return {LF_E_STATE_MISMATCH, {}, {}};
    if (has_error) return {LF_E_ACCESS_DENIED, {}, error};
    if (!has_code || code.empty()) return {LF_E_INVALID_ARGUMENT, {}, {}};
    for (unsigned char c : code)
        if (c < 0x20 || c == 0x7F) return {LF_E_INVALID_ARGUMENT, {}, {}};
    return {LF_OK, code, {}};
}

void check_error(const lf_error &err, lf_status st, const Ref &ref) {
    FZ_CHECK(err.status == st, "err.status differs from the returned status");
    std::string_view key = fz::check_text_field(err.key, "err.key");
    fz::check_text_field(err.message, "err.message");
    if (st == LF_E_ACCESS_DENIED) {
        // A plain printable ASCII error key short enough to fit comes back unchanged.
        bool plain = ref.error.size() < sizeof err.key;
        for (unsigned char c : ref.error) plain = plain && c >= 0x20 && c < 0x7F;
        if (plain) FZ_CHECK(key == ref.error, "err.key " + fz::show(key) + " != error " + fz::show(ref.error));
    }
}

// Runs the public parser with an exact-size heap buffer (ASan catches any
// write past it) pre-filled with 'X'.
lf_status run(const std::string &cb, const char *expected, std::size_t size, std::string &code_out, std::size_t &needed,
              lf_error &err) {
    std::unique_ptr<char[]> buf(size ? new char[size] : nullptr);
    if (size) std::memset(buf.get(), 'X', size);
    needed = 12345;
    lf_status st = lf_parse_callback(nullptr, cb.c_str(), expected, buf.get(), size, &needed, &err);
    if (st != LF_OK && size) {
        FZ_CHECK(buf[0] == '\0', "buffer not left empty on failure " + std::string(lf_status_name(st)));
    }
    if (st == LF_OK) {
        FZ_CHECK(std::memchr(buf.get(), '\0', size) != nullptr, "code not NUL-terminated within size");
        code_out.assign(buf.get());
    }
    return st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view raw(reinterpret_cast<const char *>(data), size);
    auto f = fz::split(raw, '\0', 2);
    std::string cb(f[0]);
    std::string state_storage;
    const char *expected = nullptr;
    if (f.size() > 1) {
        state_storage.assign(f[1].substr(0, f[1].find('\0')));
        expected = state_storage.c_str();
    }

    Ref ref = reference(cb, expected);
    std::string code;
    std::size_t needed = 0;
    lf_error err;
    lf_status st = run(cb, expected, LF_MAX_CALLBACK_LENGTH + 1, code, needed, err);
    FZ_CHECK(st == ref.status, std::string("status ") + lf_status_name(st) + ", reference says " +
                                   lf_status_name(ref.status) + " for " + fz::show(cb));
    if (st != LF_OK) {
        check_error(err, st, ref);
    } else {
        FZ_CHECK(err.status == LF_OK && err.key[0] == '\0' && err.message[0] == '\0', "err not reset on success");
        FZ_CHECK(code == ref.code, "code " + fz::show(code) + " != reference " + fz::show(ref.code));
        FZ_CHECK(!code.empty(), "empty code on success");
        for (unsigned char c : code) FZ_CHECK(c >= 0x20 && c != 0x7F, "control byte in code " + fz::show(code));
        FZ_CHECK(needed == code.size() + 1, "needed != strlen + 1");

        // One byte short: too small, buffer emptied, needed unchanged.
        std::string c2;
        std::size_t n2 = 0;
        lf_status s2 = run(cb, expected, needed - 1, c2, n2, err);
        FZ_CHECK(s2 == LF_E_BUFFER_TOO_SMALL, std::string("short buffer gave ") + lf_status_name(s2));
        FZ_CHECK(n2 == needed, "needed differs on a short buffer");
        // Size query.
        std::size_t n3 = 0;
        lf_status s3 = lf_parse_callback(nullptr, cb.c_str(), expected, nullptr, 0, &n3, nullptr);
        FZ_CHECK(s3 == LF_E_BUFFER_TOO_SMALL && n3 == needed, "size query disagrees");
        // Exactly enough.
        std::size_t n4 = 0;
        lf_status s4 = run(cb, expected, needed, c2, n4, err);
        FZ_CHECK(s4 == LF_OK && c2 == code, "exact-size buffer failed");
    }

    // The internal length-delimited parser on the raw bytes (NULs included)
    // must agree with the reference too.
    lf::Error e;
    char buf[LF_MAX_CALLBACK_LENGTH + 1];
    std::size_t n = 0;
    lf::Status s = lf::parse_callback(raw, expected, buf, sizeof buf, &n, e);
    Ref rr = reference(raw, expected);
    FZ_CHECK(static_cast<unsigned>(s) == static_cast<unsigned>(rr.status),
             std::string("internal parser: ") + lf_status_name(static_cast<lf_status>(s)) + ", reference says " +
                 lf_status_name(rr.status) + " for " + fz::show(raw));
    if (s == lf::Status::Ok) FZ_CHECK(std::string(buf) == rr.code && n == rr.code.size() + 1, "internal code differs");
    return 0;
}
