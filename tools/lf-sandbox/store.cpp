#include "store.hpp"

#include "util.hpp"

#include <algorithm>
#include <iterator>

namespace sandbox {

constexpr std::chrono::seconds Store::kConsentTtl;
constexpr size_t Store::kMaxEntries;
constexpr size_t Store::kMaxWebhooksPerInstall;

Store::Store(const std::vector<ClientConfig> &clients, std::chrono::seconds code_ttl) : code_ttl_(code_ttl) {
    for (const auto &c : clients) clients_.emplace(c.id, c);
}

const ClientConfig *Store::client(const std::string &id) const {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : &it->second;
}

void Store::purge_locked(Clock::time_point now) {
    // Cheap enough for a test server: a full sweep every 256 inserts or when full.
    if (++inserts_since_purge_ < 256 && consents_.size() + codes_.size() < kMaxEntries) return;
    inserts_since_purge_ = 0;
    for (auto it = consents_.begin(); it != consents_.end();)
        it = it->second.expires <= now ? consents_.erase(it) : std::next(it);
    for (auto it = codes_.begin(); it != codes_.end();)
        it = it->second.expires <= now ? codes_.erase(it) : std::next(it);
}

std::string Store::add_consent(const Grant &g) {
    std::string nonce = random_token();
    std::string key = sha256_hex(nonce);
    auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    purge_locked(now);
    if (consents_.size() >= kMaxEntries) return "";
    consents_[key] = Pending{g, now + kConsentTtl};
    return nonce;
}

std::optional<Grant> Store::take_consent(const std::string &nonce) {
    std::string key = sha256_hex(nonce);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = consents_.find(key);
    if (it == consents_.end()) return std::nullopt;
    Pending p = std::move(it->second);
    consents_.erase(it);
    if (p.expires <= Clock::now()) return std::nullopt;
    return p.grant;
}

std::string Store::issue_code(const Grant &g) {
    std::string code = random_token();
    std::string key = sha256_hex(code);
    auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    purge_locked(now);
    if (codes_.size() >= kMaxEntries) return "";
    Code c;
    c.grant = g;
    c.expires = now + code_ttl_;
    codes_[key] = std::move(c);
    return code;
}

Redeem Store::redeem(const std::string &code, const std::string &client_id, std::string &token) {
    std::string key = sha256_hex(code);
    std::string fresh = random_token();
    auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    auto it = codes_.find(key);
    if (it == codes_.end()) return Redeem::unknown;
    Code &c = it->second;
    if (c.grant.client_id != client_id) return Redeem::other_client;
    if (c.used) return Redeem::used;
    if (c.expires <= now) {
        codes_.erase(it);
        return Redeem::expired;
    }
    if (tokens_.size() >= kMaxEntries) return Redeem::full;
    c.used = true;  // kept until it expires so a replay is reported as such
    const ClientConfig *cl = client(client_id);
    tokens_[sha256_hex(fresh)] = TokenInfo{client_id, cl ? cl->account_id : "", c.grant.scope};
    token = std::move(fresh);
    return Redeem::ok;
}

std::optional<TokenInfo> Store::token(const std::string &t) const {
    std::string key = sha256_hex(t);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(key);
    if (it == tokens_.end()) return std::nullopt;
    return it->second;
}

bool Store::revoke(const std::string &t) {
    std::string key = sha256_hex(t);
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_.erase(key) > 0;
}

size_t Store::revoke_all() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = tokens_.size();
    tokens_.clear();
    return n;
}

AddWebhook Store::add_webhook(Webhook &w) {
    w.id = "webhook_" + random_token(15);
    std::lock_guard<std::mutex> lock(mu_);
    size_t mine = 0;
    for (const auto &e : webhooks_) {
        if (e.client_id != w.client_id || e.account_id != w.account_id) continue;
        if (e.type == w.type && e.url == w.url) return AddWebhook::duplicate;
        ++mine;
    }
    if (mine >= kMaxWebhooksPerInstall || webhooks_.size() >= kMaxEntries) return AddWebhook::full;
    webhooks_.push_back(w);
    return AddWebhook::ok;
}

bool Store::delete_webhook(const std::string &client_id, const std::string &account_id, const std::string &id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(webhooks_.begin(), webhooks_.end(), [&](const Webhook &w) {
        return w.id == id && w.client_id == client_id && w.account_id == account_id;
    });
    if (it == webhooks_.end()) return false;
    webhooks_.erase(it);
    return true;
}

std::vector<Webhook> Store::webhooks(const std::string &client_id, const std::string &account_id) const {
    std::vector<Webhook> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto &w : webhooks_)
        if ((client_id.empty() || w.client_id == client_id) && w.account_id == account_id) out.push_back(w);
    return out;
}

Uninstalled Store::uninstall(const std::string &client_id, const std::string &account_id) {
    Uninstalled gone;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = tokens_.begin(); it != tokens_.end();) {
        bool theirs = it->second.client_id == client_id && it->second.account_id == account_id;
        gone.tokens += theirs ? 1 : 0;
        it = theirs ? tokens_.erase(it) : std::next(it);
    }
    auto mine = [&](const Webhook &w) { return w.client_id == client_id && w.account_id == account_id; };
    std::copy_if(webhooks_.begin(), webhooks_.end(), std::back_inserter(gone.webhooks), mine);
    webhooks_.erase(std::remove_if(webhooks_.begin(), webhooks_.end(), mine), webhooks_.end());
    return gone;
}

}  // namespace sandbox
