// lf::Client's webhook half: the lightfunnels-hmac header, base64 of
// HMAC-SHA256(client_secret, raw body).
#include "client.hpp"

#include "buffer.hpp"

namespace lf {

namespace {

// Only SP and HTAB: optional whitespace around an HTTP field value.
std::string_view trim_ows(std::string_view h) noexcept {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    return h;
}

}  // namespace

Status Client::webhook_verify(const void *body, std::size_t len, const char *header) const noexcept {
    if (!header || (!body && len)) return Status::InvalidArgument;
    if (!body) body = "";
    // Accepted: the canonical encoding (44 characters, one '='), or the same
    // without its '='. The header is public, so its length may decide early;
    // its 43 significant characters are compared in constant time.
    std::string_view h = trim_ows(header);
    if (h.size() == kMacBase64Len && h.back() == '=') h.remove_suffix(1);
    if (h.size() != kMacBase64Len - 1) return Status::SignatureMismatch;
    bool ok = true, ok_previous = true;
    bool current = mac_.matches(body, len, h, &ok);
    // Both keys are always tried: which one matched stays unobservable.
    bool previous = previous_mac_.ready() && previous_mac_.matches(body, len, h, &ok_previous);
    if (!ok || !ok_previous) return Status::Internal;
    return current || previous ? Status::Ok : Status::SignatureMismatch;
}

Status Client::webhook_sign(const void *body, std::size_t len, char *buf, std::size_t size,
                            std::size_t *needed) const noexcept {
    if ((!body && len) || (!buf && size)) return blank(buf, size, Status::InvalidArgument);
    if (!body) body = "";
    char sig[kMacBase64Len + 1];
    if (!mac_.sign_base64(body, len, sig)) return blank(buf, size, Status::Internal);
    return copy_out(std::string_view(sig, kMacBase64Len), buf, size, needed);
}

}  // namespace lf
