// The C boundary: the only file that defines lf_* symbols or sees the public
// C types. Every entry point is noexcept and runs its body inside guard(),
// so no exception ever crosses into C.
#include "lightfunnels/auth.h"

#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>

#include "alloc.hpp"
#include "async.hpp"
#include "buffer.hpp"
#include "callback.hpp"
#include "client.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "global.hpp"
#include "sealed_state.hpp"
#include "state.hpp"
#include "status.hpp"

struct lf_auth {
    explicit lf_auth(const lf::ClientOptions &o) : impl(o), async(impl.transport()) {}
    lf::Client impl;
    lf::Async async;  // destroyed first: completes the pending async calls while impl lives
};
struct lf_token {
    lf::Token impl;
};
struct lf_response {
    lf::Response impl;
};

namespace {

using lf::Status;

// LF_STATUS_MAP (auth.h) is the one list of statuses: each entry is the C
// enumerator and the lf::Status of its value...
#define LF_SAME(name, value, message) \
    static_assert(LF_##name == (value) && static_cast<unsigned>(Status::LF_STATUS_CXX(name)) == (value), "LF_" #name);
LF_STATUS_MAP(LF_SAME)
#undef LF_SAME

// ...and every enumerator of lf_status is in it: an enumerator the map lacks
// leaves this switch incomplete, which -Wswitch reports, here as an error.
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
constexpr bool in_status_map(lf_status s) {
    switch (s) {
#define LF_CASE(name, value, message) case LF_##name:
        LF_STATUS_MAP(LF_CASE)
#undef LF_CASE
        return true;
    }
    return false;
}
#pragma GCC diagnostic pop
static_assert(in_status_map(LF_OK), "lf_status");
static_assert(sizeof(lf_error::key) == LF_ERROR_KEY_SIZE && sizeof(lf::Error::key) == LF_ERROR_KEY_SIZE,
              "lf_error.key");
static_assert(sizeof(lf_error::message) == LF_ERROR_MESSAGE_SIZE && sizeof(lf::Error::message) == LF_ERROR_MESSAGE_SIZE,
              "lf_error.message");
static_assert(LF_MAX_TOKEN_LENGTH == lf::kMaxTokenLength, "token bound");
static_assert(LF_MAX_CALLBACK_LENGTH == lf::kMaxCallbackLength, "callback bound");
static_assert(LF_SIGNATURE_BUFFER_SIZE == lf::kMacBase64Len + 1, "signature bound");
static_assert(LF_STATE_BUFFER_SIZE == lf::kStateBufferSize, "state bound");
static_assert(LF_SEALED_STATE_BUFFER_SIZE == lf::kSealedStateBufferSize, "sealed state bound");
static_assert(LF_CLIENT_AUTH_JSON_BODY == static_cast<int>(lf::ClientAuth::JsonBody) &&
                  LF_CLIENT_AUTH_BASIC == static_cast<int>(lf::ClientAuth::Basic) &&
                  LF_CLIENT_AUTH_AUTO == static_cast<int>(lf::ClientAuth::Auto),
              "lf_client_auth");
static_assert(LF_INIT_HOOK_DEPENDENCIES == lf::kHookDependencies, "init flag");
static_assert(LF_CODE_NOT_SENT == static_cast<int>(lf::Sent::No) &&
                  LF_CODE_MAYBE_SENT == static_cast<int>(lf::Sent::Maybe) &&
                  LF_CODE_SENT == static_cast<int>(lf::Sent::Yes),
              "lf_code_sent");

lf_status to_c(Status s) noexcept { return static_cast<lf_status>(s); }

// A caller may pass any number (e.g. a code from a newer version): read it
// as an integer, never as an out-of-range enum value.
Status status_from_c(lf_status status) noexcept {
    std::underlying_type_t<lf_status> raw;
    static_assert(sizeof raw == sizeof status, "enum width");
    std::memcpy(&raw, &status, sizeof raw);
    return raw < lf::kStatusCount ? static_cast<Status>(raw) : static_cast<Status>(~0u);
}

void fill_error(lf_error *err, Status s, lf::Error e) noexcept {
    if (s == Status::Ok)
        e = lf::Error{};
    else if (!e.message[0])
        lf::fail(e, s, lf::status_message(s));
    err->status = to_c(s);
    err->http_status = e.http_status;
    err->retry_after_s = e.retry_after_s;
    std::memcpy(err->key, e.key, sizeof err->key);
    std::memcpy(err->message, e.message, sizeof err->message);
}

// Runs f(lf::Error&) -> Status; maps exceptions; reports into err.
template <class F>
lf_status guard(lf_error *err, F &&f) noexcept {
    lf::Error e;
    Status s;
    try {
        s = f(e);
    } catch (const std::bad_alloc &) {
        e = lf::Error{};
        s = Status::NoMemory;
    } catch (...) {
        e = lf::Error{};
        s = Status::Internal;
    }
    if (err) fill_error(err, s, e);
    return to_c(s);
}

// The same for calls without an lf_error (the hot paths: consent URL,
// webhooks), which then build no error record at all.
template <class F>
lf_status guard_plain(F &&f) noexcept {
    try {
        return to_c(f());
    } catch (const std::bad_alloc &) {
        return LF_E_NO_MEMORY;
    } catch (...) {
        return LF_E_INTERNAL;
    }
}

// Fields past struct_size belong to a newer struct than the caller's.
#define LF_HAS_FIELD(p, type, field) (offsetof(type, field) + sizeof((p)->field) <= (p)->struct_size)

// A struct_size-versioned struct, all bytes zero (padding too).
template <class T>
T zeroed() noexcept {
    T d;
    std::memset(&d, 0, sizeof d);
    return d;
}

// Fills a caller's struct_size-versioned struct from `d`, writing only within
// the caller's `size` (an older program's smaller struct too).
template <class T>
void init_versioned(T *dst, const T &d, size_t size) noexcept {
    std::memset(dst, 0, size);
    std::memcpy(dst, &d, size < sizeof d ? size : sizeof d);
    dst->struct_size = size;
}

// lf::ClientOptions' defaults as an lf_auth_config.
lf_auth_config config_defaults() noexcept {
    const lf::ClientOptions o;
    lf_auth_config d = zeroed<lf_auth_config>();
    d.client_auth = static_cast<lf_client_auth>(o.client_auth);
    d.connect_timeout_ms = o.connect_timeout_ms;
    d.timeout_ms = o.timeout_ms;
    d.max_response_bytes = o.max_response_bytes;
    d.stall_timeout_ms = o.stall_timeout_ms;
    return d;
}

// Read as an integer: a C caller may store any value, and loading an
// out-of-range value as the C++ enum type would be undefined.
bool read_client_auth(const lf_client_auth &c, lf::ClientAuth &out) noexcept {
    std::underlying_type_t<lf_client_auth> raw;
    static_assert(sizeof raw == sizeof c, "enum width");
    std::memcpy(&raw, &c, sizeof raw);
    switch (raw) {
    case LF_CLIENT_AUTH_JSON_BODY:
        out = lf::ClientAuth::JsonBody;
        return true;
    case LF_CLIENT_AUTH_BASIC:
        out = lf::ClientAuth::Basic;
        return true;
    case LF_CLIENT_AUTH_AUTO:
        out = lf::ClientAuth::Auto;
        return true;
    }
    return false;
}

constexpr size_t kConfigMinSize = offsetof(lf_auth_config, redirect_uri_count) + sizeof(size_t);

Status read_config(const lf_auth_config *cfg, lf::ClientOptions &o, lf::Error &e) {
    if (cfg->struct_size < kConfigMinSize || cfg->struct_size > sizeof(lf_auth_config))
        return lf::fail(e, Status::InvalidArgument,
                        "lf_auth_config.struct_size is not one this library knows (use lf_auth_config_init)");
    o.client_id = cfg->client_id;
    o.client_secret = cfg->client_secret;
    o.previous_client_secret = cfg->previous_client_secret;
    o.redirect_uris = cfg->redirect_uris;
    o.redirect_uri_count = cfg->redirect_uri_count;
    if (o.previous_client_secret && !*o.previous_client_secret) o.previous_client_secret = nullptr;
    if (LF_HAS_FIELD(cfg, lf_auth_config, authorize_url)) o.authorize_url = cfg->authorize_url;
    if (LF_HAS_FIELD(cfg, lf_auth_config, token_url)) o.token_url = cfg->token_url;
    if (LF_HAS_FIELD(cfg, lf_auth_config, api_url)) o.api_url = cfg->api_url;
    if (LF_HAS_FIELD(cfg, lf_auth_config, client_auth) && !read_client_auth(cfg->client_auth, o.client_auth))
        return lf::fail(e, Status::InvalidArgument, "client_auth is not a known lf_client_auth value");
    if (LF_HAS_FIELD(cfg, lf_auth_config, connect_timeout_ms)) o.connect_timeout_ms = cfg->connect_timeout_ms;
    if (LF_HAS_FIELD(cfg, lf_auth_config, timeout_ms)) o.timeout_ms = cfg->timeout_ms;
    if (LF_HAS_FIELD(cfg, lf_auth_config, max_response_bytes)) o.max_response_bytes = cfg->max_response_bytes;
    if (LF_HAS_FIELD(cfg, lf_auth_config, ca_file)) o.ca_file = cfg->ca_file;
    if (LF_HAS_FIELD(cfg, lf_auth_config, user_agent)) o.user_agent = cfg->user_agent;
    if (LF_HAS_FIELD(cfg, lf_auth_config, stall_timeout_ms)) o.stall_timeout_ms = cfg->stall_timeout_ms;
    if (LF_HAS_FIELD(cfg, lf_auth_config, trace)) o.trace = cfg->trace;
    if (LF_HAS_FIELD(cfg, lf_auth_config, trace_user)) o.trace_user = cfg->trace_user;
    return Status::Ok;
}

Status read_call_options(const lf_call_options *opts, lf::CallOptions &o, lf::Error &e) {
    if (!opts) return Status::Ok;
    if (opts->struct_size < sizeof(size_t) || opts->struct_size > sizeof(lf_call_options))
        return lf::fail(e, Status::InvalidArgument,
                        "lf_call_options.struct_size is not one this library knows (use lf_call_options_init)");
    if (LF_HAS_FIELD(opts, lf_call_options, timeout_ms)) o.timeout_ms = opts->timeout_ms;
    if (LF_HAS_FIELD(opts, lf_call_options, cancel)) o.cancel = opts->cancel;
    // code_sent is written by the exchange itself (lf_exchange_code_ex).
    if (o.timeout_ms < 0) return lf::fail(e, Status::InvalidArgument, "lf_call_options.timeout_ms is negative");
    return Status::Ok;
}

// The error mapping a failed network call chose, as a trace line. `secret`
// is the call's own (its code or token), masked like the handle's.
void trace_failure(const lf::Client &c, const char *call, Status s, const lf::Error &e,
                   std::string_view secret) noexcept {
    if (s == Status::Ok || !c.tracer().on()) return;
    c.tracer().line_with(LF_TRACE_ERROR, secret, "%s failed: %s (HTTP %ld, key \"%s\"): %s", call, lf::status_name(s),
                         e.http_status, e.key, e.message);
}

// Owns a handle until it is handed to the caller.
template <class T>
struct Owned {
    T *p = nullptr;
    ~Owned() { lf::destroy(p); }
    T *release() noexcept {
        T *r = p;
        p = nullptr;
        return r;
    }
};

// The caller's code_sent, when its struct has the field.
lf_code_sent *code_sent_of(const lf_call_options *opts) noexcept {
    if (opts && opts->struct_size <= sizeof(lf_call_options) && LF_HAS_FIELD(opts, lf_call_options, code_sent))
        return opts->code_sent;
    return nullptr;
}

// lf_exchange_code_async: the exchange's steps and the caller's callback.
class ExchangeCall : public lf::ExchangeJob {
public:
    ExchangeCall(const lf_auth *a, lf_token *t, std::string_view code, const lf::CallOptions &co,
                 lf_code_sent *code_sent, lf_exchange_done_fn done, void *user)
        : ExchangeJob(a->impl, code, true, co, t->impl),
          a_(a),
          token_(t),
          code_sent_(code_sent),
          done_(done),
          user_(user) {}
    ~ExchangeCall() override { lf::destroy(token_); }

    void complete(Status s, const lf::Error &e) noexcept override {
        if (code_sent_) *code_sent_ = static_cast<lf_code_sent>(sent());
        trace_failure(a_->impl, "exchange", s, e, code());
        lf_error err;
        fill_error(&err, s, e);
        lf_token *t = nullptr;
        if (s == Status::Ok) {
            t = token_;
            token_ = nullptr;
        }
        done_(user_, to_c(s), t, &err);
    }

private:
    const lf_auth *a_;
    lf_token *token_;  // ours until handed to done
    lf_code_sent *code_sent_;
    lf_exchange_done_fn done_;
    void *user_;
};

// lf_graphql_async: the call's steps and the caller's callback.
class GraphqlCall : public lf::GraphqlJob {
public:
    GraphqlCall(const lf_auth *a, lf_response *r, lf_response_done_fn done, void *user)
        : GraphqlJob(a->impl, r->impl), a_(a), response_(r), done_(done), user_(user) {}
    ~GraphqlCall() override { lf::destroy(response_); }

    void complete(Status s, const lf::Error &e) noexcept override {
        trace_failure(a_->impl, "graphql", s, e, token());
        lf_error err;
        fill_error(&err, s, e);
        lf_response *r = nullptr;
        if (got_response()) {
            r = response_;
            response_ = nullptr;
        }
        done_(user_, to_c(s), r, &err);
    }

private:
    const lf_auth *a_;
    lf_response *response_;  // ours until handed to done
    lf_response_done_fn done_;
    void *user_;
};

// Queues a call made by make(e) (nullptr: refused, with e filled); the
// caller's done is called only when this returns LF_OK. A refusal is traced
// as the blocking call's failure would be (`secret`: its code or token).
template <class F>
lf_status queue_call(const lf_auth *a, const char *call, const char *secret, F &&make) noexcept {
    return guard(nullptr, [&](lf::Error &e) {
        Owned<lf::Job> job;
        Status s = make(e, job.p);
        // The handle is const to its callers; its I/O thread is the one
        // part that changes, and does its own locking.
        if (s == Status::Ok) s = const_cast<lf_auth *>(a)->async.submit(job.p, e);
        if (s == Status::Ok)
            job.release();
        else if (a)
            trace_failure(a->impl, call, s, e, secret ? secret : "");
        return s;
    });
}

}  // namespace

extern "C" {

LF_API const char *lf_status_name(lf_status status) { return lf::status_name(status_from_c(status)); }

LF_API const char *lf_status_message(lf_status status) { return lf::status_message(status_from_c(status)); }

LF_API const char *lf_version(void) { return LF_AUTH_VERSION_STRING; }

LF_API lf_status lf_global_init(const lf_allocator *allocator, unsigned flags) {
    return guard_plain([&] {
        if (!allocator) return lf::global_init(nullptr, flags);
        lf::AllocatorHooks h;
        h.alloc = allocator->alloc;
        h.realloc = allocator->realloc;
        h.free = allocator->free;
        h.ctx = allocator->ctx;
        return lf::global_init(&h, flags);
    });
}

LF_API void lf_global_cleanup(void) { lf::global_cleanup(); }

LF_API void lf_auth_config_init(lf_auth_config *cfg, size_t size) {
    if (cfg && size >= sizeof(size_t)) init_versioned(cfg, config_defaults(), size);
}

LF_API void lf_call_options_init(lf_call_options *o, size_t size) {
    if (o && size >= sizeof(size_t)) init_versioned(o, zeroed<lf_call_options>(), size);
}

LF_API lf_status lf_auth_new(const lf_auth_config *cfg, lf_auth **out, lf_error *err) {
    if (out) *out = nullptr;
    return guard(err, [&](lf::Error &e) {
        if (!cfg || !out) return lf::fail(e, Status::InvalidArgument, "cfg and out are required");
        lf::ClientOptions o;
        Status s = read_config(cfg, o, e);
        if (s == Status::Ok) s = lf::Client::validate(o, e);
        if (s == Status::Ok) s = lf::ensure_init();
        if (s != Status::Ok) return s;
        *out = lf::make<lf_auth>(o);
        return Status::Ok;
    });
}

LF_API void lf_auth_free(lf_auth *auth) { lf::destroy(auth); }

LF_API lf_status lf_consent_url(const lf_auth *a, const char *redirect_uri, const char *scopes, const char *state,
                                char *buf, size_t size, size_t *needed) {
    if (!a) return to_c(lf::blank(buf, size, Status::InvalidArgument));
    return guard_plain([&] { return a->impl.consent_url(redirect_uri, scopes, state, buf, size, needed); });
}

LF_API lf_status lf_state_generate(char *buf, size_t size) { return to_c(lf::state_generate(buf, size)); }

LF_API int lf_state_equal(const char *a, const char *b) { return a && b && lf::state_equal(a, b); }

LF_API lf_status lf_parse_callback(const lf_auth *a, const char *url_or_query, const char *expected_state, char *code,
                                   size_t size, size_t *needed, lf_error *err) {
    return guard(err, [&](lf::Error &e) {
        if (!url_or_query) return lf::blank(code, size, lf::fail(e, Status::InvalidArgument, "url_or_query is NULL"));
        Status s = a ? a->impl.check_takes_callbacks(e) : Status::Ok;  // a may be NULL, as in 1.0
        if (s != Status::Ok) return lf::blank(code, size, s);
        return lf::parse_callback(url_or_query, expected_state, code, size, needed, e);
    });
}

LF_API lf_status lf_state_seal(const lf_auth *a, const char *binding, char *buf, size_t size, size_t *needed) {
    if (!a) return to_c(lf::blank(buf, size, Status::InvalidArgument));
    return guard_plain([&] { return a->impl.sealer().seal(binding, buf, size, needed); });
}

LF_API lf_status lf_state_open(const lf_auth *a, const char *state, const char *binding, long max_age_s,
                               lf_error *err) {
    return guard(err, [&](lf::Error &e) {
        if (!a || !state) return lf::fail(e, Status::InvalidArgument, "a and state are required");
        return a->impl.sealer().open(state, binding, max_age_s, e);
    });
}

LF_API lf_status lf_parse_callback_sealed(const lf_auth *a, const char *url_or_query, const char *binding,
                                          long max_age_s, char *code, size_t size, size_t *needed, lf_error *err) {
    return guard(err, [&](lf::Error &e) {
        if (!a || !url_or_query)
            return lf::blank(code, size, lf::fail(e, Status::InvalidArgument, "a and url_or_query are required"));
        Status s = a->impl.check_takes_callbacks(e);
        if (s != Status::Ok) return lf::blank(code, size, s);
        return lf::parse_callback_sealed(a->impl.sealer(), url_or_query, binding, max_age_s, code, size, needed, e);
    });
}

LF_API lf_status lf_exchange_code_ex(const lf_auth *a, const char *code, const lf_call_options *opts, lf_token **out,
                                     lf_error *err) {
    if (out) *out = nullptr;
    // Updated by the transport as the request goes out and the answer comes
    // back, so it stays right whatever the call ends with (even an exception).
    lf::Sent sent = lf::Sent::No;
    lf_status st = guard(err, [&](lf::Error &e) {
        if (!a || !code || !out) return lf::fail(e, Status::InvalidArgument, "a, code and out are required");
        lf::CallOptions co;
        Status s = read_call_options(opts, co, e);
        if (s != Status::Ok) return s;
        co.code_sent = &sent;
        // The token object exists before the code is spent (the exchange
        // reserves its storage).
        Owned<lf_token> t;
        t.p = lf::make<lf_token>();
        s = a->impl.exchange(code, co, t.p->impl, e);
        if (s == Status::Ok) *out = t.release();
        trace_failure(a->impl, "exchange", s, e, code);
        return s;
    });
    if (lf_code_sent *cs = code_sent_of(opts)) *cs = static_cast<lf_code_sent>(sent);
    return st;
}

LF_API lf_status lf_exchange_code(const lf_auth *a, const char *code, lf_token **out, lf_error *err) {
    return lf_exchange_code_ex(a, code, nullptr, out, err);
}

LF_API const char *lf_token_value(const lf_token *t) { return t ? t->impl.value.c_str() : nullptr; }

LF_API lf_status lf_token_copy(const lf_token *t, char *buf, size_t size, size_t *needed) {
    if (!t) return to_c(lf::blank(buf, size, Status::InvalidArgument));
    return to_c(lf::copy_out(t->impl.value.view(), buf, size, needed));
}

LF_API void lf_token_free(lf_token *t) { lf::destroy(t); }

LF_API lf_status lf_webhook_verify(const lf_auth *a, const void *body, size_t len, const char *hmac_header) {
    if (!a) return LF_E_INVALID_ARGUMENT;
    return guard_plain([&] { return a->impl.webhook_verify(body, len, hmac_header); });
}

LF_API lf_status lf_webhook_sign(const lf_auth *a, const void *body, size_t len, char *buf, size_t size,
                                 size_t *needed) {
    if (!a) return to_c(lf::blank(buf, size, Status::InvalidArgument));
    return guard_plain([&] { return a->impl.webhook_sign(body, len, buf, size, needed); });
}

LF_API lf_status lf_graphql_ex(const lf_auth *a, const char *access_token, const char *query,
                               const char *variables_json, const lf_call_options *opts, lf_response **out,
                               lf_error *err) {
    if (out) *out = nullptr;
    return guard(err, [&](lf::Error &e) {
        if (!a || !access_token || !query || !out)
            return lf::fail(e, Status::InvalidArgument, "a, access_token, query and out are required");
        lf::CallOptions co;
        Status s = read_call_options(opts, co, e);
        if (s != Status::Ok) return s;
        Owned<lf_response> r;
        r.p = lf::make<lf_response>();
        bool got = false;
        s = a->impl.graphql(access_token, query, variables_json, co, r.p->impl, &got, e);
        if (got) *out = r.release();
        trace_failure(a->impl, "graphql", s, e, access_token);
        return s;
    });
}

LF_API lf_status lf_graphql(const lf_auth *a, const char *access_token, const char *query, const char *variables_json,
                            lf_response **out, lf_error *err) {
    return lf_graphql_ex(a, access_token, query, variables_json, nullptr, out, err);
}

LF_API lf_status lf_exchange_code_async(const lf_auth *a, const char *code, const lf_call_options *opts,
                                        lf_exchange_done_fn done, void *user) {
    return queue_call(a, "exchange", code, [&](lf::Error &e, lf::Job *&job) {
        if (!a || !code || !done) return lf::fail(e, Status::InvalidArgument, "a, code and done are required");
        std::string_view c = code;
        if (c.empty()) return lf::fail(e, Status::InvalidArgument, "the authorization code is empty");
        if (c.size() > lf::kMaxCodeLength)
            return lf::fail(e, Status::InvalidArgument, "the authorization code is too long");
        lf::CallOptions co;
        Status s = read_call_options(opts, co, e);
        if (s != Status::Ok) return s;
        Owned<lf_token> t;
        t.p = lf::make<lf_token>();
        job = lf::make<ExchangeCall>(a, t.p, c, co, code_sent_of(opts), done, user);
        t.release();  // the call's now
        return Status::Ok;
    });
}

LF_API lf_status lf_graphql_async(const lf_auth *a, const char *access_token, const char *query,
                                  const char *variables_json, const lf_call_options *opts, lf_response_done_fn done,
                                  void *user) {
    return queue_call(a, "graphql", access_token, [&](lf::Error &e, lf::Job *&job) {
        if (!a || !access_token || !query || !done)
            return lf::fail(e, Status::InvalidArgument, "a, access_token, query and done are required");
        lf::CallOptions co;
        Status s = read_call_options(opts, co, e);
        if (s != Status::Ok) return s;
        Owned<lf_response> r;
        r.p = lf::make<lf_response>();
        Owned<GraphqlCall> call;
        call.p = lf::make<GraphqlCall>(a, r.p, done, user);
        r.release();  // the call's now
        s = call.p->prepare(access_token, query, variables_json, co, e);
        if (s != Status::Ok) return s;
        job = call.release();
        return Status::Ok;
    });
}

LF_API const char *lf_response_body(const lf_response *r) { return r ? r->impl.body.c_str() : ""; }

LF_API size_t lf_response_body_length(const lf_response *r) { return r ? r->impl.body.size() : 0; }

LF_API long lf_response_http_status(const lf_response *r) { return r ? r->impl.status : 0; }

LF_API void lf_response_free(lf_response *r) { lf::destroy(r); }

LF_API lf_status lf_account_id_ex(const lf_auth *a, const char *access_token, const lf_call_options *opts, char *buf,
                                  size_t size, size_t *needed, lf_error *err) {
    lf_status s = guard(err, [&](lf::Error &e) {
        if (!a || !access_token || (!buf && size))
            return lf::fail(e, Status::InvalidArgument, "a and access_token are required");
        lf::CallOptions co;
        Status st = read_call_options(opts, co, e);
        if (st != Status::Ok) return st;
        st = a->impl.account_id(access_token, co, buf, size, needed, e);
        trace_failure(a->impl, "account id", st, e, access_token);
        return st;
    });
    if (s != LF_OK) lf::blank(buf, size, status_from_c(s));
    return s;
}

LF_API lf_status lf_account_id(const lf_auth *a, const char *access_token, char *buf, size_t size, size_t *needed,
                               lf_error *err) {
    return lf_account_id_ex(a, access_token, nullptr, buf, size, needed, err);
}

}  // extern "C"
