#pragma once

#include <cstddef>
#include <string_view>

#include "error.hpp"

namespace lf {

constexpr std::size_t kMaxCallbackLength = 8192;

// How a callback's state is judged: by comparison with a stored value
// (lf_parse_callback) or by opening a sealed one (lf_parse_callback_sealed).
// The parse is the same for both; only this step differs.
class StateCheck {
public:
    // `present`: whether the callback has a state parameter; `state`: its
    // decoded value. Returns Ok, or the failure with e filled.
    virtual Status check(bool present, std::string_view state, Error &e) const noexcept = 0;

protected:
    ~StateCheck() = default;
};

// Parses the redirect back from the consent screen; see lf_parse_callback.
// `check` NULL: the state is not checked. Never allocates.
Status parse_callback(std::string_view input, const StateCheck *check, char *code, std::size_t size,
                      std::size_t *needed, Error &e) noexcept;

// lf_parse_callback: the state compared with expected_state (NULL: no check).
Status parse_callback(std::string_view input, const char *expected_state, char *code, std::size_t size,
                      std::size_t *needed, Error &e) noexcept;

}  // namespace lf
