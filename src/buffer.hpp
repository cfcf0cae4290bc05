// The caller-buffer convention of auth.h, in one place: `(buf, size,
// needed)`, `needed` counting the NUL, nothing written at or past `size`,
// and on any failure `buf` left a valid empty string.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

#include "status.hpp"

namespace lf {

// Leaves buf a valid empty string when it has room for one; returns `why`,
// so a failure path is one line: `return blank(buf, size, Status::...)`.
inline Status blank(char *buf, std::size_t size, Status why) noexcept {
    if (buf && size) buf[0] = '\0';
    return why;
}

// Writes into a caller buffer (buf, size) while counting the bytes needed,
// so one pass both measures and fills. Never writes at or past `size`.
class OutBuf {
public:
    OutBuf(char *buf, std::size_t size) noexcept : buf_(buf), size_(buf ? size : 0) {}
    void put(char c) noexcept {
        if (n_ + 1 < size_) buf_[n_] = c;
        n_++;
    }
    void put(std::string_view s) noexcept {
        // Whole spans at once; past the end only the count moves (the output
        // is discarded on overflow anyway).
        if (n_ + s.size() < size_) std::memcpy(buf_ + n_, s.data(), s.size());
        n_ += s.size();
    }
    std::size_t needed() const noexcept { return n_ + 1; }
    // NUL-terminates; on overflow leaves "" and returns false.
    bool finish() noexcept {
        if (n_ + 1 > size_) {
            blank(buf_, size_, Status::BufferTooSmall);
            return false;
        }
        buf_[n_] = '\0';
        return true;
    }

private:
    char *buf_;
    std::size_t size_;
    std::size_t n_ = 0;
};

// Copies s out by the convention: Ok, BufferTooSmall (buf ""), or
// InvalidArgument for a NULL buf with a size.
inline Status copy_out(std::string_view s, char *buf, std::size_t size, std::size_t *needed) noexcept {
    if (!buf && size) return Status::InvalidArgument;
    OutBuf out(buf, size);
    out.put(s);
    if (needed) *needed = out.needed();
    return out.finish() ? Status::Ok : Status::BufferTooSmall;
}

}  // namespace lf
