// Signed, expiring OAuth state (lf_state_seal / lf_state_open): the state
// carries its own proof, so whichever server receives the callback can check
// it with nothing stored between consent and callback. The format is
// documented in docs/SECURITY.md ("Sealed state"); tests rebuild it there.
#pragma once

#include <cstddef>
#include <string_view>

#include "alloc.hpp"
#include "crypto.hpp"
#include "error.hpp"

namespace lf {

// base64url without padding of 57 bytes (version 1, time 8, random 16,
// MAC 32): a multiple of 3, so every character carries 6 bits of the state
// and none is padding or spare bits.
constexpr std::size_t kSealedStateLength = 76;
constexpr std::size_t kSealedStateBufferSize = kSealedStateLength + 1;
// How far in the future an issue time may be (clocks of a fleet disagree).
constexpr long kSealedStateMaxSkew_s = 60;

// The keys of one client, derived once from its secrets when the handle is
// made; immutable afterwards, so usable from many threads at once.
class StateSealer {
public:
    // Derives the keys (previous may be empty: no rotation). False if
    // OpenSSL fails.
    bool init(std::string_view client_id, std::string_view secret, std::string_view previous);
    // lf_state_seal: Ok, InvalidArgument, BufferTooSmall, Internal (CSPRNG).
    Status seal(const char *binding, char *buf, std::size_t size, std::size_t *needed) const noexcept;
    // lf_state_open: Ok, StateMismatch, StateExpired, InvalidArgument
    // (max_age_s <= 0), Internal.
    Status open(std::string_view state, const char *binding, long max_age_s, Error &e) const noexcept;

private:
    String client_id_;
    HmacKey key_;
    HmacKey previous_key_;
};

// lf_parse_callback_sealed: lf_parse_callback with the state opened by
// `sealer` instead of compared.
Status parse_callback_sealed(const StateSealer &sealer, std::string_view input, const char *binding, long max_age_s,
                             char *code, std::size_t size, std::size_t *needed, Error &e) noexcept;

}  // namespace lf
