// lf-auth account: the account id an access token belongs to.
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>

namespace lfcli {

namespace {

const char kUsage[] =
    "usage: lf-auth account (--token-env VAR | --token-file FILE | --token-stdin)\n"
    "                      [--sandbox URL | --api-url URL] [options]\n"
    "\n"
    "Asks the API which account the token belongs to (query { account { id } })\n"
    "and prints the id. A rejected or revoked token exits 25 (LF_E_UNAUTHORIZED).\n"
    "\n";

lf_status account_id(const lf_auth *a, const Secret &token, std::vector<char> &id, lf_error *err) {
    size_t needed = 0;
    lf_status s = lf_account_id(a, token.c_str(), id.data(), id.size(), &needed, err);
    if (s == LF_E_BUFFER_TOO_SMALL) {
        id.assign(needed, '\0');
        s = lf_account_id(a, token.c_str(), id.data(), id.size(), &needed, err);
    }
    return s;
}

}  // namespace

int cmd_account(const Args &args) {
    Common c;
    Parser p;
    SecretSource token_src;
    add_common_options(p, c, kApi | kTransport);
    p.secret("token", "access token", token_src);
    if (!p.parse(args)) {
        print_help(kUsage, false, true);
        return kExitOk;
    }
    Secret token;
    read_secret(token_src, token);
    lf_error err;
    Client client;
    lf_status s = client.open(c, false, false, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    std::string url = effective_api_url(c);
    progress(c, "asking %s for the account", url.empty() ? "the Lightfunnels API" : url.c_str());
    std::vector<char> id(128);
    s = account_id(client.get(), token, id, &err);
    if (s != LF_OK) return report_failure(c, "account", s, &err);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "account_id", id.data());
        emit_json(o);
    } else {
        std::printf("%s\n", id.data());
    }
    return kExitOk;
}

}  // namespace lfcli
