// lf-auth exchange: a single-use authorization code for the access token,
// printed or saved to a 0600 file.
#include "cli.hpp"
#include "commands.hpp"

namespace lfcli {

namespace {

const char kUsage[] =
    "usage: lf-auth exchange --client-id ID (--client-secret-env VAR | ...)\n"
    "                       (--code-env VAR | --code-file FILE | --code-stdin)\n"
    "                       [--save FILE [--force]] [endpoint options]\n"
    "\n"
    "Exchanges a single-use authorization code for the permanent access token and\n"
    "prints the token on stdout, or writes it to FILE (mode 0600; an existing FILE\n"
    "is refused unless --force). If FILE cannot be put in place at the end, the\n"
    "token is kept in another 0600 file named on stderr (exit 1). A failure after\n"
    "the request was sent (network, timeout, 5xx) may have spent the code: start\n"
    "the flow again.\n"
    "\n";

struct ExchangeArgs {
    Common c;
    SecretSource code_src;
    std::string save;
    bool force = false;
};

// False when --help was asked for (and printed).
bool parse_args(const Args &args, ExchangeArgs &a) {
    Parser p;
    add_common_options(p, a.c, kClient | kRedirect | kToken | kTransport);
    p.secret("code", "authorization code", a.code_src);
    p.option("save", [&a](const std::string &v) { a.save = v; });
    p.flag("force", [&a]() { a.force = true; });
    if (!p.parse(args)) {
        print_help(kUsage, true, true);
        return false;
    }
    if (a.force && a.save.empty()) throw UsageError{"--force only applies to --save"};
    if (a.c.secret_src.kind == SecretSource::Stdin && a.code_src.kind == SecretSource::Stdin)
        throw UsageError{"only one input can come from stdin"};
    return true;
}

}  // namespace

int cmd_exchange(const Args &args) {
    ExchangeArgs a;
    if (!parse_args(args, a)) return kExitOk;
    const Common &c = a.c;
    Secret code;
    read_secret(a.code_src, code);
    SaveFile out;
    if (!a.save.empty()) out.prepare(a.save, a.force);
    lf_error err;
    Client client;
    lf_status s = client.open(c, true, true, &err);
    if (s != LF_OK) return report_failure(c, "client configuration", s, &err);
    std::string url = effective_token_url(c);
    progress(c, "exchanging the authorization code at %s",
             url.empty() ? "the Lightfunnels token endpoint" : url.c_str());
    lf_token *tok = nullptr;
    s = lf_exchange_code(client.get(), code.c_str(), &tok, &err);
    code.wipe();
    if (s != LF_OK) return report_failure(c, "exchange", s, &err);
    deliver_token(c, tok, out, nullptr);
    return kExitOk;
}

}  // namespace lfcli
