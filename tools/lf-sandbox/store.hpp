// The sandbox's state: registered clients (immutable), pending consent
// pages, authorization codes and access tokens. Thread-safe: the HTTP server
// calls it from many worker threads, and SIGUSR1 from the signal thread.
//
// Codes, nonces and tokens are never kept in clear: maps are keyed by their
// SHA-256, so a lookup never compares a secret byte by byte.
#pragma once

#include "options.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sandbox {

using Clock = std::chrono::steady_clock;

struct Grant {
    std::string client_id;
    std::string redirect_uri;
    std::string scope;  // normalised, comma-separated
    std::optional<std::string> state;
};

struct TokenInfo {
    std::string client_id;
    std::string account_id;
    std::string scope;
};

enum class Redeem { ok, unknown, used, expired, other_client, full };

// A webhook an install registered with createWebhook. An install is a
// (client, account) pair: the app installed on one merchant account.
struct Webhook {
    std::string id;
    std::string client_id;
    std::string account_id;
    std::string type;
    std::string url;
    std::string settings;  // compact JSON object
    std::string version;   // "v1", "v2" or "" (not given)
};

enum class AddWebhook { ok, duplicate, full };

// What removing an install took away.
struct Uninstalled {
    size_t tokens = 0;
    std::vector<Webhook> webhooks;
};

class Store {
public:
    Store(const std::vector<ClientConfig> &clients, std::chrono::seconds code_ttl);

    // nullptr when unknown. Clients never change after start-up.
    const ClientConfig *client(const std::string &id) const;

    // A one-time nonce for a consent page (valid kConsentTtl); "" when full.
    std::string add_consent(const Grant &g);
    // Consumes the nonce: a second call with it returns nullopt.
    std::optional<Grant> take_consent(const std::string &nonce);

    // A fresh single-use code for an approved grant; "" when full.
    std::string issue_code(const Grant &g);

    // Spends `code` for `client_id`: on Redeem::ok `token` is a new access
    // token. A code presented by another client is left unspent.
    Redeem redeem(const std::string &code, const std::string &client_id, std::string &token);

    std::optional<TokenInfo> token(const std::string &token) const;
    bool revoke(const std::string &token);
    size_t revoke_all();

    // Registers `w` (its id is set here) unless the install already has a
    // webhook of the same type and url, or holds kMaxWebhooksPerInstall.
    AddWebhook add_webhook(Webhook &w);
    // False when the install has no webhook `id`.
    bool delete_webhook(const std::string &client_id, const std::string &account_id, const std::string &id);
    // In registration order. An empty client_id matches every client.
    std::vector<Webhook> webhooks(const std::string &client_id, const std::string &account_id) const;

    // Ends an install: revokes its tokens and forgets its webhooks, which
    // it returns. Both empty when it was not installed.
    Uninstalled uninstall(const std::string &client_id, const std::string &account_id);

    static constexpr std::chrono::seconds kConsentTtl{600};
    static constexpr size_t kMaxEntries = 100000;
    static constexpr size_t kMaxWebhooksPerInstall = 100;

private:
    struct Pending {
        Grant grant;
        Clock::time_point expires;
    };
    struct Code {
        Grant grant;
        Clock::time_point expires;
        bool used = false;
    };
    void purge_locked(Clock::time_point now);

    std::map<std::string, ClientConfig> clients_;
    std::chrono::seconds code_ttl_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Pending> consents_;  // sha256(nonce) ->
    std::unordered_map<std::string, Code> codes_;        // sha256(code) ->
    std::unordered_map<std::string, TokenInfo> tokens_;  // sha256(token) ->
    std::vector<Webhook> webhooks_;                      // registration order; at most kMaxEntries
    size_t inserts_since_purge_ = 0;
};

}  // namespace sandbox
