// Using the token: GraphQL requests, reading their answers, and the account
// lookup.
#include "graphql.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

#include <cjson/cJSON.h>

#include "buffer.hpp"
#include "client.hpp"
#include "global.hpp"
#include "job.hpp"
#include "json.hpp"
#include "token_response.hpp"

namespace lf {

namespace {

const char kAccountQuery[] = "query { account { id } }";

// {"query": query, "variables": variables_json or {}}
Status request_body(const char *query, const char *variables_json, SecretString &body, Error &e) {
    Json doc(new_object());
    Json q(cJSON_CreateString(query));
    if (!q.get() || !cJSON_AddItemToObject(doc.get(), "query", q.get())) throw std::bad_alloc();
    q.release();  // now owned by doc
    JsonError je = JsonError::None;
    Json vars = variables_json ? Json::parse(variables_json, kApiJsonDepth, &je) : Json(new_object());
    if (!is_object(vars.get())) return fail(e, Status::InvalidArgument, "variables_json is not a JSON object");
    if (!cJSON_AddItemToObject(doc.get(), "variables", vars.get())) throw std::bad_alloc();
    vars.release();
    print(doc.get(), body.str());
    return Status::Ok;
}

}  // namespace

Status read_api_response(const HttpResponse &resp, const Redactor &r, Error &e) {
    JsonError je = JsonError::None;
    Json doc = Json::parse(resp.body, kApiJsonDepth, &je);
    const cJSON *root = doc.get();
    long st = resp.status;
    ServerError se = server_error(root);
    e.retry_after_s = resp.retry_after_s;
    if (rate_limited(st, se))
        return fail_answer(e, Status::RateLimited, st, se, r, "API rate-limited the request (HTTP %ld)", st);
    if (st == 401) return fail_answer(e, Status::Unauthorized, st, se, r, "API rejected the access token (HTTP 401)");
    if (st < 200 || st >= 300)
        return fail_answer(e, Status::Http, st, se, r, "API returned HTTP %ld%s", st,
                           (st >= 300 && st < 400) ? " (redirect, not followed)" : "");
    if (!is_object(root)) {
        e.http_status = st;
        return failf(e, Status::Protocol, "API: the response body is %s (HTTP %ld)", json_problem(je, root), st);
    }
    if (!se.present) return Status::Ok;
    return fail_answer(e, Status::Api, st, se, r, "API returned errors (HTTP %ld)", st);
}

Status Client::api_request(std::string_view token, const char *query, const char *variables_json,
                           const CallOptions &opts, ApiRequest &out, Error &e) const {
    if (token.empty() || token.size() > kMaxTokenLength || !is_b64token(token))
        return fail(e, Status::InvalidArgument, "the access token is not a valid RFC 6750 token");
    if (!*query) return fail(e, Status::InvalidArgument, "the query is empty");
    Status s = request_body(query, variables_json, out.body, e);
    if (s != Status::Ok) return s;

    // The token's header is a list node of our own in front of the shared
    // JSON headers, not a curl_slist_append copy: libcurl would copy the
    // token into memory it frees without wiping (unless its allocator is
    // hooked). libcurl only reads the list.
    String &bearer = out.bearer.str();
    bearer.reserve(22 + token.size());
    bearer.assign("Authorization: Bearer ").append(token.data(), token.size());
    out.auth_header = curl_slist{&bearer[0], json_headers_.get()};

    HttpRequest &req = out.req;
    req.url = api_.url.c_str();
    req.allow_http = api_.allow_http;
    req.loopback = api_.loopback;
    req.body = out.body.view();
    req.headers = &out.auth_header;
    req.deadline_ms = opts.deadline_ms;
    req.cancel = opts.cancel;
    req.what = "API";
    return Status::Ok;
}

Status Client::read_api_answer(HttpResponse &resp, std::string_view token, Response &out, Error &e) const {
    Redactor r;
    r.add(secret_.view());
    r.add(previous_secret_.view());
    r.add(token);
    Status s = read_api_response(resp, r, e);
    out.status = resp.status;
    out.body = std::move(resp.body);
    return s;
}

Status Client::graphql(std::string_view token, const char *query, const char *variables_json, const CallOptions &opts,
                       Response &out, bool *got_response, Error &e) const {
    *got_response = false;
    ApiRequest ar;
    Status s = api_request(token, query, variables_json, started(opts), ar, e);
    if (s != Status::Ok) return s;
    s = transport_.post(ar.req, ar.resp, e);
    if (s != Status::Ok) return s;
    *got_response = true;
    return read_api_answer(ar.resp, token, out, e);
}

Status Client::account_id(std::string_view token, const CallOptions &opts, char *buf, std::size_t size,
                          std::size_t *needed, Error &e) const {
    Response resp;
    bool got = false;
    Status s = graphql(token, kAccountQuery, nullptr, opts, resp, &got, e);
    if (s != Status::Ok) return s;
    JsonError je = JsonError::None;
    Json doc = Json::parse(resp.body, kApiJsonDepth, &je);
    const cJSON *id = member(member(member(doc.get(), "data"), "account"), "id");
    char number[32];
    std::string_view value;
    if (cJSON_IsString(id) && id->valuestring) {
        value = id->valuestring;
    } else if (cJSON_IsNumber(id) && std::isfinite(id->valuedouble) && id->valuedouble >= 0 &&
               id->valuedouble <= 9007199254740992.0 && std::floor(id->valuedouble) == id->valuedouble) {
        std::snprintf(number, sizeof number, "%.0f", id->valuedouble);
        value = number;
    }
    // The id is printed (lf-auth account) and used as a key: nothing in it
    // may act on a terminal.
    if (value.empty() || !is_plain_text(value)) {
        e.http_status = resp.status;
        return fail(e, Status::Protocol, "API: the answer has no usable data.account.id");
    }
    s = copy_out(value, buf, size, needed);
    if (s == Status::BufferTooSmall) return fail(e, s, "the account id does not fit in the buffer");
    return s;
}

Status GraphqlJob::prepare(std::string_view token, const char *query, const char *variables_json,
                           const CallOptions &opts, Error &e) {
    token_.str().assign(token.data(), token.size());
    Status s = c_.api_request(token_.view(), query, variables_json, c_.started(opts), ar_, e);
    if (s == Status::Ok && dependencies_hooked()) {
        reserve_ = reserve_new(kTransferReserve);
        if (!reserve_) throw std::bad_alloc();
    }
    return s;
}

Job::Step GraphqlJob::begin(Error &) { return Step::Send; }

Job::Step GraphqlJob::after(Status s, Error &e) {
    if (s != Status::Ok) return finish(s);
    got_ = true;
    return finish(c_.read_api_answer(ar_.resp, token_.view(), out_, e));
}

}  // namespace lf
