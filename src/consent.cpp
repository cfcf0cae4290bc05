// lf::Client's consent half: the consent-screen URL, with an allow-listed
// redirect URI and a normalised scope list.
#include <cstring>

#include "buffer.hpp"
#include "client.hpp"
#include "url.hpp"

namespace lf {

namespace {

const char kDefaultAuthorize[] = "https://app.lightfunnels.com/admin/oauth";

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool valid_scope(std::string_view s) noexcept {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return !s.empty();
}

// Calls f(scope) for each scope in list order, trimmed, empties skipped.
template <class F>
void each_scope(std::string_view list, F f) {
    while (true) {
        std::size_t comma = list.find(',');
        std::string_view item = trim(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

constexpr std::size_t kMaxScopes = 4096;

// Writes the normalised scope list; false when a scope is malformed or none
// remains.
bool write_scopes(OutBuf &out, std::string_view list) noexcept {
    if (list.size() > kMaxScopes) return false;
    bool ok = true;
    std::size_t written = 0;
    std::size_t index = 0;
    each_scope(list, [&](std::string_view s) {
        std::size_t my_index = index++;
        if (!valid_scope(s)) {
            ok = false;
            return;
        }
        // A duplicate of an earlier scope is dropped (first one keeps its place).
        bool duplicate = false;
        std::size_t j = 0;
        each_scope(list, [&](std::string_view earlier) {
            if (j++ < my_index && earlier == s) duplicate = true;
        });
        if (duplicate) return;
        if (written++) out.put(',');
        out.put(s);
    });
    return ok && written > 0;
}

}  // namespace

// Everything of the URL but the scopes and the state is fixed per client:
// the allow-listed redirect URIs with their encodings, and the prefix
// "<authorize>?client_id=<enc>&redirect_uri=".
void Client::init_consent(const ClientOptions &o) {
    redirect_uris_.reserve(o.redirect_uri_count);
    for (std::size_t i = 0; i < o.redirect_uri_count; i++) {
        RedirectUri r;
        r.raw.assign(o.redirect_uris[i]);
        append_encoded(r.encoded, r.raw);
        redirect_uris_.push_back(std::move(r));
    }
    const char *authorize = o.authorize_url ? o.authorize_url : kDefaultAuthorize;
    consent_prefix_.assign(authorize);
    char last = consent_prefix_.back();
    if (std::strchr(authorize, '?'))
        consent_prefix_.append(last == '?' || last == '&' ? "" : "&");
    else
        consent_prefix_.push_back('?');
    consent_prefix_.append("client_id=");
    append_encoded(consent_prefix_, client_id_);
    consent_prefix_.append("&redirect_uri=");
}

Status Client::check_takes_callbacks(Error &e) const noexcept {
    if (!redirect_uris_.empty()) return Status::Ok;
    return fail(e, Status::RedirectUriNotAllowed,
                "this handle has no redirect URIs (redirect_uri_count 0): it verifies webhooks and calls the API, "
                "but takes no consent or callback");
}

// The allow-list entry equal to uri byte for byte, or nullptr.
const Client::RedirectUri *Client::allowed_redirect_uri(const char *uri) const noexcept {
    std::size_t len = std::strlen(uri);
    for (const RedirectUri &r : redirect_uris_)
        if (r.raw.size() == len && std::memcmp(r.raw.data(), uri, len) == 0) return &r;
    return nullptr;
}

Status Client::consent_url(const char *redirect_uri, const char *scopes, const char *state, char *buf, std::size_t size,
                           std::size_t *needed) const noexcept {
    if (!buf && size) return Status::InvalidArgument;
    if (!redirect_uri || !scopes) return blank(buf, size, Status::InvalidArgument);
    if (state && !*state) return blank(buf, size, Status::InvalidArgument);
    const RedirectUri *match = allowed_redirect_uri(redirect_uri);
    if (!match) return blank(buf, size, Status::RedirectUriNotAllowed);

    OutBuf out(buf, size);
    out.put(consent_prefix_);
    out.put(match->encoded);
    out.put("&scope=");
    if (!write_scopes(out, scopes)) return blank(buf, size, Status::InvalidArgument);
    if (state) {
        out.put("&state=");
        put_encoded(out, state);
    }
    if (needed) *needed = out.needed();
    return out.finish() ? Status::Ok : Status::BufferTooSmall;
}

}  // namespace lf
