// The trace hook (lf_auth_config.trace): one line per event of a call,
// formatted here, sanitised and scrubbed of the handle's secrets before the
// caller's function sees it. Off (no function) costs one test per event.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <string_view>

#include "error.hpp"
#include "lightfunnels/auth.h"

namespace lf {

class Tracer {
public:
    static constexpr std::size_t kLineSize = 512;

    Tracer(lf_trace_fn fn, void *user) noexcept : fn_(fn), user_(user) {}

    bool on() const noexcept { return fn_ != nullptr; }
    // The handle's own secrets; each line is redacted with them and with the
    // one secret a call may pass (its code). Set once, by the handle's
    // constructor, before any call.
    void set_secrets(const Redactor &r) noexcept { secrets_ = r; }

    // printf-style; the arguments may come from a server (they are
    // sanitised), never knowingly a secret (they are redacted anyway).
    void line(int event, const char *fmt, ...) const noexcept __attribute__((format(printf, 3, 4)));
    void line_with(int event, std::string_view secret, const char *fmt, ...) const noexcept
        __attribute__((format(printf, 4, 5)));

private:
    void emit(int event, std::string_view secret, const char *fmt, std::va_list ap) const noexcept
        __attribute__((format(printf, 4, 0)));

    lf_trace_fn fn_ = nullptr;
    void *user_ = nullptr;
    Redactor secrets_;
};

// "scheme://host[:port]/path" of `url`, without user info, query or fragment,
// into dst[cap] (truncated, NUL-terminated).
void url_for_trace(const char *url, char *dst, std::size_t cap) noexcept;

}  // namespace lf
