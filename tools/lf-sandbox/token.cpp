// The token endpoints: an authorization code for an access token, with the
// client's credentials in a JSON body (/oauth/access_token) or in HTTP Basic
// (/api/access_token).
#include "endpoints.hpp"

#include "reply.hpp"
#include "util.hpp"

#include <new>
#include <optional>
#include <string>

namespace sandbox {
namespace {

const ClientConfig *authenticate(Store &store, const std::string &id, const std::string &secret) {
    static const std::string dummy = "lf-sandbox-no-such-client-secret";
    const ClientConfig *c = store.client(id);
    // Compare even for an unknown id, so timing does not tell which ids exist.
    bool ok = secret_equal(c ? c->secret : dummy, secret) && secret.find('\0') == std::string::npos;
    return c && ok ? c : nullptr;
}

void finish_exchange(Store &store, const ClientConfig &client, const std::string &code, httplib::Response &res) {
    if (code.empty()) {
        send_token_error(res, 400, "invalid_request", "code is required");
        return;
    }
    std::string token;
    switch (store.redeem(code, client.id, token)) {
    case Redeem::ok: {
        Json o(cJSON_CreateObject());
        if (!o || !cJSON_AddStringToObject(o.get(), "access_token", token.c_str())) throw std::bad_alloc();
        send_json(res, 200, json_print(o.get()));
        return;
    }
    case Redeem::used:
        send_token_error(res, 400, "invalid_grant", "the authorization code was already used");
        return;
    case Redeem::expired:
        send_token_error(res, 400, "invalid_grant", "the authorization code has expired");
        return;
    case Redeem::other_client:
        send_token_error(res, 400, "invalid_grant", "the authorization code was issued to another client");
        return;
    case Redeem::unknown:
        send_token_error(res, 400, "invalid_grant", "the authorization code is unknown");
        return;
    case Redeem::full:
        send_token_error(res, 503, "temporarily_unavailable", "the sandbox holds too many tokens");
        return;
    }
}

void basic_challenge(httplib::Response &res, const std::string &description) {
    res.set_header("WWW-Authenticate", "Basic realm=\"lf-sandbox\", charset=\"UTF-8\"");
    send_token_error(res, 401, "invalid_client", description);
}

// The client named by Authorization: Basic, once its secret matched; null
// (and a 401 challenge sent) otherwise.
const ClientConfig *basic_client(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string auth = req.get_header_value("Authorization");
    if (!starts_with_ci(auth, "Basic ")) {
        basic_challenge(res, "client authentication with HTTP Basic is required");
        return nullptr;
    }
    size_t p = 6;
    while (p < auth.size() && auth[p] == ' ') ++p;
    std::string decoded;
    if (!base64_decode(auth.substr(p), decoded)) {
        basic_challenge(res, "malformed Basic credentials");
        return nullptr;
    }
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) {
        basic_challenge(res, "malformed Basic credentials");
        return nullptr;
    }
    std::string id = decoded.substr(0, colon);
    std::string secret = decoded.substr(colon + 1);
    note_client(id);
    const ClientConfig *client = authenticate(store, id, secret);
    if (!client) basic_challenge(res, "client authentication failed");
    return client;
}

// The code of a Basic-authenticated request: from a JSON body when the
// Content-Type says so or the body starts with '{', else from a form body.
// False (and a 400 sent) when the body is malformed.
bool body_code(const httplib::Request &req, httplib::Response &res, std::string &code) {
    size_t first = req.body.find_first_not_of(" \t\r\n");
    bool json = is_json_type(req) || (first != std::string::npos && req.body[first] == '{');
    if (json) {
        std::string why;
        Json body = parse_json_object(req.body, why);
        if (!body) {
            send_token_error(res, 400, "invalid_request", why);
            return false;
        }
        if (json_string(body.get(), "code", code) == Field::wrong_type) {
            send_token_error(res, 400, "invalid_request", "code must be a string");
            return false;
        }
        return true;
    }
    httplib::Params form = parse_form(req.body);
    std::optional<std::string> c;
    if (!single(form, "code", c)) {
        send_token_error(res, 400, "invalid_request", "code is repeated");
        return false;
    }
    code = c.value_or("");
    return true;
}

}  // namespace

// POST /oauth/access_token: {"client_id","client_secret","code"} in a JSON body.
void handle_token_json(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::string why;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        // A non-JSON request (e.g. a Basic-auth form) carries no credentials this
        // endpoint understands: the client is not authenticated.
        if (is_json_type(req))
            send_token_error(res, 400, "invalid_request", why);
        else
            send_token_error(res, 401, "invalid_client",
                             "this endpoint takes client_id and client_secret in a JSON body");
        return;
    }
    std::string id, secret, code;
    Field fi = json_string(body.get(), "client_id", id);
    Field fs = json_string(body.get(), "client_secret", secret);
    Field fc = json_string(body.get(), "code", code);
    if (fi == Field::wrong_type || fs == Field::wrong_type || fc == Field::wrong_type) {
        send_token_error(res, 400, "invalid_request", "client_id, client_secret and code must be strings");
        return;
    }
    note_client(id);
    if (id.empty() || secret.empty()) {
        send_token_error(res, 401, "invalid_client", "client_id and client_secret are required");
        return;
    }
    const ClientConfig *client = authenticate(store, id, secret);
    if (!client) {
        send_token_error(res, 401, "invalid_client", "client authentication failed");
        return;
    }
    finish_exchange(store, *client, code, res);
}

// POST /api/access_token: Authorization: Basic base64(id:secret), code in a
// form or JSON body.
void handle_token_basic(Store &store, const httplib::Request &req, httplib::Response &res) {
    const ClientConfig *client = basic_client(store, req, res);
    if (!client) return;
    std::string code;
    if (body_code(req, res, code)) finish_exchange(store, *client, code, res);
}

}  // namespace sandbox
