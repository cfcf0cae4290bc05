#include "trace.hpp"

#include <cstdio>
#include <cstring>

namespace lf {

void Tracer::emit(int event, std::string_view secret, const char *fmt, std::va_list ap) const noexcept {
    char raw[kLineSize * 2];
    std::vsnprintf(raw, sizeof raw, fmt, ap);
    Redactor r = secrets_;
    r.add(secret);
    char line[kLineSize];
    sanitize_copy(line, sizeof line, raw, &r);
    // One line: sanitize_copy turned CR and LF into spaces already.
    fn_(user_, event, line);
}

void Tracer::line(int event, const char *fmt, ...) const noexcept {
    if (!fn_) return;
    std::va_list ap;
    va_start(ap, fmt);
    emit(event, {}, fmt, ap);
    va_end(ap);
}

void Tracer::line_with(int event, std::string_view secret, const char *fmt, ...) const noexcept {
    if (!fn_) return;
    std::va_list ap;
    va_start(ap, fmt);
    emit(event, secret, fmt, ap);
    va_end(ap);
}

void url_for_trace(const char *url, char *dst, std::size_t cap) noexcept {
    if (cap == 0) return;
    std::string_view u = url ? url : "";
    u = u.substr(0, u.find_first_of("?#"));
    // Drop user info: "scheme://user:pass@host" -> "scheme://host".
    std::size_t start = u.find("://");
    start = start == std::string_view::npos ? 0 : start + 3;
    std::size_t slash = u.find('/', start);
    std::size_t at = u.substr(0, slash).rfind('@');
    std::string_view head = u.substr(0, start);
    std::string_view rest = u.substr(at == std::string_view::npos || at < start ? start : at + 1);
    std::snprintf(dst, cap, "%.*s%.*s", static_cast<int>(head.size()), head.data(), static_cast<int>(rest.size()),
                  rest.data());
}

}  // namespace lf
