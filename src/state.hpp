// The OAuth `state` value: fresh random state, and the constant-time
// comparison every state check uses.
#pragma once

#include <cstddef>
#include <string_view>

#include "status.hpp"

namespace lf {

// 43 base64url characters (256 random bits) + NUL.
constexpr std::size_t kStateBufferSize = 44;

// Writes a fresh state into buf (size >= kStateBufferSize): Ok,
// InvalidArgument (buf NULL), BufferTooSmall, or Internal when the CSPRNG
// fails (there is never a weak fallback). On failure buf is "".
Status state_generate(char *buf, std::size_t size) noexcept;

// Whether a and b are equal, in time that depends only on their lengths
// (a length is not secret), never on where they differ.
bool state_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace lf
