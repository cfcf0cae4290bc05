#pragma once

#include <cstddef>
#include <string_view>

#include "error.hpp"

namespace lf {

constexpr std::size_t kMaxCallbackLength = 8192;

// Parses the redirect back from the consent screen; see lf_parse_callback.
// Never allocates.
Status parse_callback(std::string_view input, const char *expected_state, char *code, std::size_t size,
                      std::size_t *needed, Error &e) noexcept;

}  // namespace lf
