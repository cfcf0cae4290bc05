#include "state.hpp"

#include "alloc.hpp"
#include "buffer.hpp"
#include "crypto.hpp"

namespace lf {

Status state_generate(char *buf, std::size_t size) noexcept {
    if (!buf) return Status::InvalidArgument;
    if (size < kStateBufferSize) return blank(buf, size, Status::BufferTooSmall);
    unsigned char rnd[32];
    char b64[base64_len(sizeof rnd) + 1];
    static_assert(base64_len(sizeof rnd) - 1 == kStateBufferSize - 1, "43 characters without the '='");
    if (!random_bytes(rnd, sizeof rnd)) return blank(buf, size, Status::Internal);
    base64_encode(rnd, sizeof rnd, b64);
    // base64url without padding.
    for (std::size_t i = 0; i < kStateBufferSize - 1; i++) buf[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    buf[kStateBufferSize - 1] = '\0';
    wipe(rnd, sizeof rnd);
    wipe(b64, sizeof b64);
    return Status::Ok;
}

bool state_equal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && ct_equal(a.data(), b.data(), a.size());
}

}  // namespace lf
