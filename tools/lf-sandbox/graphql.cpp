// The GraphQL endpoint: POST /api/v2 with a bearer token, answering the one
// query the library sends (query { account { id } }).
#include "endpoints.hpp"

#include "reply.hpp"
#include "util.hpp"

#include <algorithm>
#include <cctype>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace sandbox {
namespace {

void send_graphql_error(httplib::Response &res, int status, const std::string &message, const char *name,
                        const char *key) {
    send_json(res, status, graphql_error_json(message, name, key));
}

std::optional<TokenInfo> bearer(Store &store, const httplib::Request &req) {
    std::string auth = req.get_header_value("Authorization");
    if (!starts_with_ci(auth, "Bearer ")) return std::nullopt;
    size_t p = 7;
    while (p < auth.size() && auth[p] == ' ') ++p;
    std::string token = auth.substr(p);
    if (token.empty()) return std::nullopt;
    return store.token(token);
}

}  // namespace

bool is_account_id_query(const std::string &query) {
    // GraphQL lexing, just enough: ignored tokens are whitespace, commas,
    // comments and a BOM; names are [_A-Za-z][_0-9A-Za-z]*; punctuators { }.
    std::vector<std::string> toks;
    size_t i = 0, n = query.size();
    while (i < n) {
        unsigned char c = static_cast<unsigned char>(query[i]);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
            ++i;
        } else if (c == 0xEF && query.compare(i, 3, "\xEF\xBB\xBF") == 0) {
            i += 3;
        } else if (c == '#') {
            while (i < n && query[i] != '\n' && query[i] != '\r') ++i;
        } else if (c == '{' || c == '}') {
            toks.emplace_back(1, static_cast<char>(c));
            ++i;
        } else if (c == '_' || std::isalpha(c)) {
            size_t s = i;
            while (i < n && (query[i] == '_' || std::isalnum(static_cast<unsigned char>(query[i])))) ++i;
            toks.push_back(query.substr(s, i - s));
        } else {
            return false;
        }
        if (toks.size() > 8) return false;
    }
    static const std::vector<std::string> body{"{", "account", "{", "id", "}", "}"};
    if (toks == body) return true;
    if (toks.size() >= 7 && toks[0] == "query") {
        size_t skip = toks.size() == 8 && toks[1] != "{" ? 2 : 1;  // optional operation name
        if (toks.size() - skip == body.size() &&
            std::equal(body.begin(), body.end(), toks.begin() + static_cast<std::ptrdiff_t>(skip)))
            return true;
    }
    return false;
}

void handle_graphql(Store &store, const httplib::Request &req, httplib::Response &res) {
    std::optional<TokenInfo> tok = bearer(store, req);
    if (!tok) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"lf-sandbox\", error=\"invalid_token\"");
        send_graphql_error(res, 401, "The access token is missing, unknown or revoked", "UnauthorizedError",
                           "unauthorized");
        return;
    }
    note_client(tok->client_id);
    std::string why, query;
    Json body = parse_json_object(req.body, why);
    if (!body) {
        send_graphql_error(res, 400, why, "BadRequest", "bad_request");
        return;
    }
    if (json_string(body.get(), "query", query) != Field::ok) {
        send_graphql_error(res, 400, "the body needs a string \"query\"", "BadRequest", "bad_request");
        return;
    }
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(body.get(), "variables");
    if (vars && !cJSON_IsObject(vars) && !cJSON_IsNull(vars)) {
        send_graphql_error(res, 400, "\"variables\" must be an object", "BadRequest", "bad_request");
        return;
    }
    if (!is_account_id_query(query)) {
        send_graphql_error(res, 200, "lf-sandbox only answers query { account { id } }", "UnsupportedQuery",
                           "unsupported_query");
        return;
    }
    Json o(cJSON_CreateObject());
    cJSON *data = o ? cJSON_AddObjectToObject(o.get(), "data") : nullptr;
    cJSON *account = data ? cJSON_AddObjectToObject(data, "account") : nullptr;
    if (!account || !cJSON_AddStringToObject(account, "id", tok->account_id.c_str())) throw std::bad_alloc();
    send_json(res, 200, json_print(o.get()));
}

}  // namespace sandbox
