#include "sealed_state.hpp"

#include <cstdint>
#include <ctime>

#include "buffer.hpp"
#include "callback.hpp"

namespace lf {

namespace {

constexpr unsigned char kVersion = 1;
// HKDF's info: a key for this purpose only, never the webhook key.
constexpr std::string_view kKeyLabel = "lightfunnels-auth sealed state v1";
constexpr std::size_t kTimeSize = 8, kRandomSize = 16;
constexpr std::size_t kBodySize = 1 + kTimeSize + kRandomSize;  // what the MAC covers of the state itself
constexpr std::size_t kRawSize = kBodySize + kMacSize;
static_assert(kRawSize % 3 == 0 && kRawSize / 3 * 4 == kSealedStateLength, "no padding, no spare bits");

// The key of one secret: HKDF-SHA256 with a fixed label, so the sealed-state
// key is never the secret itself (which also signs webhooks).
bool derive(HmacKey &key, std::string_view secret) {
    unsigned char k[32];
    bool ok = hkdf_sha256(secret, kKeyLabel, k, sizeof k) &&
              key.init(std::string_view(reinterpret_cast<const char *>(k), sizeof k));
    wipe(k, sizeof k);
    return ok;
}

void put_be64(unsigned char *p, std::uint64_t v) noexcept {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = static_cast<unsigned char>(v);
}

std::uint64_t get_be64(const unsigned char *p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

// MAC(version | time | random | len64(client_id) | client_id | len64(binding)
// | binding): the length prefixes keep a byte from sliding between the
// client id and the binding.
bool mac_of(const HmacKey &key, const unsigned char body[kBodySize], std::string_view client_id,
            std::string_view binding, unsigned char out[kMacSize]) noexcept {
    unsigned char id_len[8], binding_len[8];
    put_be64(id_len, client_id.size());
    put_be64(binding_len, binding.size());
    auto bytes = [](const unsigned char *p, std::size_t n) {
        return std::string_view(reinterpret_cast<const char *>(p), n);
    };
    return key.sign_parts({bytes(body, kBodySize), bytes(id_len, 8), client_id, bytes(binding_len, 8), binding}, out);
}

bool is_b64url(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// base64url text of a sealed state into raw bytes; false if it is not one
// (length or alphabet).
bool decode_state(std::string_view state, unsigned char raw[kRawSize]) noexcept {
    if (state.size() != kSealedStateLength) return false;
    char b64[kSealedStateLength];
    for (std::size_t i = 0; i < state.size(); i++) {
        char c = state[i];
        if (!is_b64url(c)) return false;
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    return base64_decode(b64, sizeof b64, raw) == kRawSize;
}

void encode_state(const unsigned char raw[kRawSize], char out[kSealedStateBufferSize]) noexcept {
    char b64[base64_len(kRawSize) + 1];
    base64_encode(raw, kRawSize, b64);
    for (std::size_t i = 0; i < kSealedStateLength; i++) out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
    out[kSealedStateLength] = '\0';
}

std::string_view binding_of(const char *binding) noexcept { return binding ? binding : ""; }

// Expired: issued more than max_age_s ago, or more than the allowed skew
// ahead of this clock.
bool expired(std::int64_t issued, long max_age_s) noexcept {
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    if (issued < 0) return true;  // before 1970: never issued by us
    if (issued > now + kSealedStateMaxSkew_s) return true;
    return issued < now && now - issued > max_age_s;
}

// lf_parse_callback_sealed's state step.
class SealedCheck final : public StateCheck {
public:
    SealedCheck(const StateSealer &sealer, const char *binding, long max_age_s) noexcept
        : sealer_(sealer), binding_(binding), max_age_s_(max_age_s) {}
    Status check(bool present, std::string_view state, Error &e) const noexcept override {
        if (!present) return fail(e, Status::StateMismatch, "the callback has no state");
        return sealer_.open(state, binding_, max_age_s_, e);
    }

private:
    const StateSealer &sealer_;
    const char *binding_;
    long max_age_s_;
};

}  // namespace

bool StateSealer::init(std::string_view client_id, std::string_view secret, std::string_view previous) {
    client_id_.assign(client_id.data(), client_id.size());
    return derive(key_, secret) && (previous.empty() || derive(previous_key_, previous));
}

Status StateSealer::seal(const char *binding, char *buf, std::size_t size, std::size_t *needed) const noexcept {
    if (!buf && size) return Status::InvalidArgument;
    if (needed) *needed = kSealedStateBufferSize;
    if (size < kSealedStateBufferSize) return blank(buf, size, Status::BufferTooSmall);
    unsigned char raw[kRawSize];
    raw[0] = kVersion;
    put_be64(raw + 1, static_cast<std::uint64_t>(std::time(nullptr)));
    if (!random_bytes(raw + 1 + kTimeSize, kRandomSize) ||
        !mac_of(key_, raw, client_id_, binding_of(binding), raw + kBodySize))
        return blank(buf, size, Status::Internal);
    encode_state(raw, buf);
    return Status::Ok;
}

Status StateSealer::open(std::string_view state, const char *binding, long max_age_s, Error &e) const noexcept {
    if (max_age_s <= 0) return fail(e, Status::InvalidArgument, "max_age_s must be positive");
    unsigned char raw[kRawSize];
    if (!decode_state(state, raw) || raw[0] != kVersion)
        return fail(e, Status::StateMismatch, "the state is not a sealed state of this version");
    unsigned char mine[kMacSize], previous[kMacSize];
    std::string_view b = binding_of(binding);
    bool ok = mac_of(key_, raw, client_id_, b, mine);
    // Both keys are always tried: which one matched stays unobservable.
    bool ok_previous = !previous_key_.ready() || mac_of(previous_key_, raw, client_id_, b, previous);
    if (!ok || !ok_previous) return fail(e, Status::Internal, "computing the state's MAC failed");
    bool match = ct_equal(mine, raw + kBodySize, kMacSize);
    if (previous_key_.ready()) match = ct_equal(previous, raw + kBodySize, kMacSize) || match;
    wipe(mine, sizeof mine);
    wipe(previous, sizeof previous);
    // The MAC first: only a state this client sealed for this binding can
    // be called expired.
    if (!match) return fail(e, Status::StateMismatch, "the state was not sealed by this client for this binding");
    if (expired(static_cast<std::int64_t>(get_be64(raw + 1)), max_age_s))
        return fail(e, Status::StateExpired, "the state is older than max_age_s or issued in the future");
    return Status::Ok;
}

Status parse_callback_sealed(const StateSealer &sealer, std::string_view input, const char *binding, long max_age_s,
                             char *code, std::size_t size, std::size_t *needed, Error &e) noexcept {
    if (max_age_s <= 0) return blank(code, size, fail(e, Status::InvalidArgument, "max_age_s must be positive"));
    SealedCheck check(sealer, binding, max_age_s);
    return parse_callback(input, &check, code, size, needed, e);
}

}  // namespace lf
