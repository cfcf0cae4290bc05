// lf::Client: the immutable object behind lf_auth. Everything a call needs
// is computed once here (validated URLs, encoded consent-URL prefix, HMAC key
// schedules, header lists, the connection pool), so the operations do no
// per-call setup. One file per job: client.cpp (checking and building),
// consent.cpp, exchange.cpp, graphql.cpp, webhook.cpp; sealed state keeps
// its keys here but does its job in sealed_state.cpp.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string_view>

#include <curl/curl.h>

#include "alloc.hpp"
#include "answer_rooms.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "http.hpp"
#include "sealed_state.hpp"
#include "trace.hpp"

namespace lf {

enum class ClientAuth { JsonBody = 0, Basic = 1, Auto = 2 };

struct ClientOptions {
    const char *client_id = nullptr;
    const char *client_secret = nullptr;
    const char *previous_client_secret = nullptr;
    const char *const *redirect_uris = nullptr;
    std::size_t redirect_uri_count = 0;
    const char *authorize_url = nullptr;
    const char *token_url = nullptr;
    const char *api_url = nullptr;
    // The platform's documented method since 2025-02; lf_auth_config_init
    // hands it to 1.0 programs too (1.0 defaulted to JsonBody).
    ClientAuth client_auth = ClientAuth::Basic;
    long connect_timeout_ms = 10000;
    long timeout_ms = 30000;
    std::size_t max_response_bytes = 1 << 20;
    const char *ca_file = nullptr;
    const char *user_agent = nullptr;
    long stall_timeout_ms = 10000;
    lf_trace_fn trace = nullptr;
    void *trace_user = nullptr;
};

struct CallOptions {
    long timeout_ms = 0;  // 0: the handle's
    // Set once when the call starts (Client::started): every request of the
    // call (AUTO probes, then the code) ends by it, so timeout_ms bounds the
    // whole call.
    long long deadline_ms = 0;
    const int *cancel = nullptr;
    Sent *code_sent = nullptr;  // exchange: whether the real code can have reached the server
};

struct Response {
    long status = 0;
    String body;
};

constexpr std::size_t kMaxTokenLength = 4096;
constexpr std::size_t kMaxCodeLength = 4096;

struct Token {
    SecretString value;
    // Room for the longest token, taken before a code is spent: reading the
    // answer then cannot lose the token to an allocation failure.
    void reserve() { value.str().reserve(kMaxTokenLength + 1); }
};
// The token endpoint's answer is a small JSON object: it is read up to this
// size (or max_response_bytes, if smaller), and room for all of it is taken
// before the code is sent.
constexpr std::size_t kMaxTokenAnswer = 64 * 1024;
// With hooked dependencies, what libcurl may allocate while it reads one
// answer: a block for each header line, which its header API keeps (under
// 96 bytes with our 16-byte header; the 64 KiB header limit allows some
// 22,000 lines: 2 MiB), and its line, decoding and connection buffers.
constexpr std::size_t kTransferReserve = 2 * 1024 * 1024 + 512 * 1024;
// ...and what libcurl and cJSON may need to read and parse a token answer:
// libcurl's transfer, whose header blocks are still held while the body is
// parsed, and cJSON's worst case, an array of one-digit numbers (a 64-byte
// node plus our 16-byte header for every 2 bytes of text). Set aside before
// the code is sent (see Reserve in alloc.hpp); untouched unless the
// allocator fails.
constexpr std::size_t kTokenAnswerReserve = kTransferReserve + 48 * kMaxTokenAnswer;

class ExchangeJob;
class GraphqlJob;

class Client {
public:
    // Checks options completely; the constructor assumes they passed.
    static Status validate(const ClientOptions &o, Error &e);
    explicit Client(const ClientOptions &o);  // throws std::bad_alloc
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    Status consent_url(const char *redirect_uri, const char *scopes, const char *state, char *buf, std::size_t size,
                       std::size_t *needed) const noexcept;
    Status exchange(std::string_view code, const CallOptions &opts, Token &out, Error &e) const;
    // out receives any complete HTTP response, whatever the returned status.
    Status graphql(std::string_view token, const char *query, const char *variables_json, const CallOptions &opts,
                   Response &out, bool *got_response, Error &e) const;
    Status account_id(std::string_view token, const CallOptions &opts, char *buf, std::size_t size, std::size_t *needed,
                      Error &e) const;
    Status webhook_verify(const void *body, std::size_t len, const char *header) const noexcept;
    Status webhook_sign(const void *body, std::size_t len, char *buf, std::size_t size,
                        std::size_t *needed) const noexcept;
    // RedirectUriNotAllowed, with e filled, for a handle made without
    // redirect URIs (webhooks and the API only): it takes no callback.
    Status check_takes_callbacks(Error &e) const noexcept;
    // Seals and opens state with keys derived from this client's secrets.
    const StateSealer &sealer() const noexcept { return sealer_; }
    const Tracer &tracer() const noexcept { return tracer_; }
    const Transport &transport() const noexcept { return transport_; }

private:
    // The calls' steps (job.hpp).
    friend class ExchangeJob;
    friend class GraphqlJob;

    struct Endpoint {
        String url;
        bool allow_http = false;  // plain http (to loopback)
        bool loopback = false;    // never through a proxy
    };
    struct RedirectUri {
        String raw;
        String encoded;
    };
    struct Attempt {
        ClientAuth style;
        const Endpoint *endpoint;
    };

    // Steps of the constructor.
    void init_consent(const ClientOptions &o);  // consent.cpp
    void init_endpoints(const ClientOptions &o);
    void init_secrets(const ClientOptions &o);
    void build_basic_header();
    void build_json_prefix();
    void build_header_lists(const ClientOptions &o);
    void plan_auto() noexcept;

    const RedirectUri *allowed_redirect_uri(const char *uri) const noexcept;
    CallOptions started(const CallOptions &opts) const noexcept;
    // base64(id:secret), the part of basic_header_ a server could echo.
    std::string_view basic_credentials() const noexcept;
    // An exchange's request (sent tracks whether the code can have reached
    // the server) and the reading of its answer (token: a valid access
    // token). Room for the whole answer is taken when the CodeRequest is
    // made, before any code can go out, and given back when it goes.
    struct CodeRequest {
        explicit CodeRequest(AnswerRooms &r) : rooms(r) { r.take(resp.body); }
        CodeRequest(const CodeRequest &) = delete;
        CodeRequest &operator=(const CodeRequest &) = delete;
        ~CodeRequest() { rooms.give(resp.body, resp.body.size() > resp.reached ? resp.body.size() : resp.reached); }
        SecretString body;
        HttpRequest req;
        HttpResponse resp;
        AnswerRooms &rooms;
    };
    void code_request(const Attempt &a, std::string_view code, const CallOptions &opts, Sent *sent,
                      CodeRequest &out) const;
    Status read_code_answer(const HttpResponse &resp, std::string_view code, Token &token, Error &e) const;
    // Only one call probes at a time: false when another one is.
    bool claim_probe() const;
    void end_probe() const noexcept;
    // Until another call's probe ends: 100 ms at most, not past the
    // deadline, not at all once the call is cancelled.
    void wait_for_probe(const CallOptions &opts) const;
    // graphql's two halves.
    struct ApiRequest {
        SecretString body;
        SecretString bearer;
        curl_slist auth_header{};
        HttpRequest req;
        HttpResponse resp;
    };
    Status api_request(std::string_view token, const char *query, const char *variables_json, const CallOptions &opts,
                       ApiRequest &out, Error &e) const;
    Status read_api_answer(HttpResponse &resp, std::string_view token, Response &out, Error &e) const;

    String client_id_;
    SecretString secret_;
    SecretString previous_secret_;
    Vector<RedirectUri> redirect_uris_;
    String consent_prefix_;  // "<authorize>?client_id=<enc>&redirect_uri="
    Endpoint token_json_;
    Endpoint token_basic_;
    Endpoint api_;
    ClientAuth auth_;
    bool basic_possible_;
    long timeout_ms_;
    std::size_t token_answer_max_;  // min(max_response_bytes, kMaxTokenAnswer), reserved before a code is sent
    mutable AnswerRooms answer_rooms_{token_answer_max_};
    HmacKey mac_;
    HmacKey previous_mac_;
    StateSealer sealer_;
    SecretString basic_header_;  // "Authorization: Basic <base64(id:secret)>"
    SecretString json_prefix_;   // {"client_id":<id>,"client_secret":<secret>,"code":
    HeaderList json_headers_;
    HeaderList form_headers_;  // all but the Authorization line, which is basic_line_
    curl_slist basic_line_{};  // basic_header_ in front of form_headers_
    Tracer tracer_;            // before transport_, which points at it
    Transport transport_;

    mutable std::mutex auto_mu_;
    mutable std::condition_variable auto_cv_;
    mutable bool auto_probing_ = false;         // under auto_mu_
    mutable std::atomic<int> auto_choice_{-1};  // index into auto_attempts_
    Attempt auto_attempts_[2];
    int auto_attempt_count_ = 0;
};

}  // namespace lf
