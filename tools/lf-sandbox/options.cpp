#include "options.hpp"

#include "util.hpp"

#include <getopt.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sandbox {

void print_usage(std::FILE *out) {
    std::fputs(
        "Usage: lf-sandbox [options]\n"
        "A local stand-in for the Lightfunnels OAuth and API endpoints (see lf-sandbox(1)).\n"
        "\n"
        "  --listen HOST:PORT         address to bind (default 127.0.0.1:0, 0 = a free port);\n"
        "                             loopback only: 127.0.0.1, localhost or [::1]\n"
        "  --tls-self-signed DIR      generate a CA and a server certificate, write DIR/ca.pem\n"
        "                             (the CA clients must trust), serve HTTPS\n"
        "  --tls-cert FILE --tls-key FILE\n"
        "                             serve HTTPS with this certificate and key\n"
        "                             (no TLS option: plain HTTP)\n"
        "  --client ID:SECRET:REDIRECT_URI\n"
        "                             register a client (repeatable; repeat an ID to allow more\n"
        "                             redirect URIs). Throwaway test credentials only.\n"
        "  --config FILE              JSON: {\"clients\":[{\"client_id\":..,\"client_secret\":..,\n"
        "                             \"redirect_uris\":[..],\"account_id\":..,\"app_url\":..}]}\n"
        "  --app-url ID:URL           the app's URL for client ID: GET /admin/apps/ID shows it in an\n"
        "                             iframe, as the Lightfunnels admin does (another origin)\n"
        "  --account-id ID            account the tokens belong to (default acct_sandbox)\n"
        "  --auto-approve             the consent endpoint redirects at once (no page)\n"
        "  --code-ttl SECONDS         authorization-code lifetime (default 600)\n"
        "  --exit-with-parent         stop (as on SIGTERM) when the parent process dies, so a\n"
        "                             test harness killed mid-run never leaves a sandbox behind\n"
        "  --help                     show this help and exit\n"
        "  --version                  show the version and exit\n"
        "\n"
        "When ready it prints LF_SANDBOX_URL=<scheme>://<host>:<port> on stdout. Logs go to\n"
        "stderr. SIGINT/SIGTERM stop it (exit 0); SIGUSR1 revokes every issued token.\n",
        out);
}

namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

bool valid_client_id(const std::string &id) {
    if (id.empty() || id.size() > 256) return false;
    for (unsigned char c : id)
        if (c < 0x21 || c > 0x7e || c == ':') return false;
    return true;
}

bool valid_secret(const std::string &s) { return !s.empty() && s.size() <= 1024 && !has_control(s); }

bool valid_account_id(const std::string &s) { return !s.empty() && s.size() <= 256 && !has_control(s); }

// Redirect URIs: absolute http(s), no fragment, no whitespace, and no query
// parameter the sandbox itself appends (a second `code` or `state` would make
// every callback ambiguous).
bool valid_redirect_uri(const std::string &uri, std::string &why) {
    size_t rest;
    if (uri.compare(0, 8, "https://") == 0)
        rest = 8;
    else if (uri.compare(0, 7, "http://") == 0)
        rest = 7;
    else {
        why = "must start with http:// or https://";
        return false;
    }
    if (uri.size() > 2048 || has_control(uri) || uri.find(' ') != std::string::npos) {
        why = "must be at most 2048 bytes without spaces or control characters";
        return false;
    }
    if (uri.find('#') != std::string::npos) {
        why = "must not have a fragment";
        return false;
    }
    if (rest >= uri.size() || uri[rest] == '/' || uri[rest] == '?' || uri[rest] == ':') {
        why = "has no host";
        return false;
    }
    size_t q = uri.find('?');
    if (q != std::string::npos) {
        std::stringstream ss(uri.substr(q + 1));
        std::string part;
        while (std::getline(ss, part, '&')) {
            std::string name = part.substr(0, part.find('='));
            if (name == "code" || name == "state" || name == "error" || name == "error_description") {
                why = "must not carry a '" + name + "' query parameter (the sandbox appends it)";
                return false;
            }
        }
    }
    return true;
}

// An absolute http(s) URL with a host, without a fragment, spaces or
// control characters: what an iframe's src can be.
bool valid_app_url(const std::string &url) {
    size_t rest = url.compare(0, 8, "https://") == 0 ? 8 : url.compare(0, 7, "http://") == 0 ? 7 : 0;
    if (rest == 0 || url.size() > 2048 || has_control(url) || url.find_first_of(" #") != std::string::npos)
        return false;
    return rest < url.size() && url[rest] != '/' && url[rest] != '?' && url[rest] != ':';
}

bool add_client(Options &o, ClientConfig c, std::string &err) {
    if (!valid_client_id(c.id)) {
        err = "client id must be 1-256 printable ASCII characters without ':'";
        return false;
    }
    if (!valid_secret(c.secret)) {
        err = "client " + c.id + ": the secret must be 1-1024 bytes without control characters";
        return false;
    }
    if (!c.account_id.empty() && !valid_account_id(c.account_id)) {
        err = "client " + c.id + ": bad account_id";
        return false;
    }
    if (!c.app_url.empty() && !valid_app_url(c.app_url)) {
        err = "client " + c.id + ": app_url must be an absolute http(s) URL without a fragment";
        return false;
    }
    if (c.redirect_uris.empty()) {
        err = "client " + c.id + ": at least one redirect URI is required";
        return false;
    }
    for (const auto &u : c.redirect_uris) {
        std::string why;
        if (!valid_redirect_uri(u, why)) {
            err = "client " + c.id + ": redirect URI " + u + " " + why;
            return false;
        }
    }
    for (auto &existing : o.clients) {
        if (existing.id != c.id) continue;
        if (!secret_equal(existing.secret, c.secret)) {
            err = "client " + c.id + " is registered twice with different secrets";
            return false;
        }
        if (existing.account_id != c.account_id) {
            err = "client " + c.id + " is registered twice with different account ids";
            return false;
        }
        if (!c.app_url.empty() && !existing.app_url.empty() && existing.app_url != c.app_url) {
            err = "client " + c.id + " is registered twice with different app URLs";
            return false;
        }
        if (existing.app_url.empty()) existing.app_url = c.app_url;
        for (auto &u : c.redirect_uris) {
            bool have = false;
            for (auto &e : existing.redirect_uris) have = have || e == u;
            if (!have) existing.redirect_uris.push_back(u);
        }
        return true;
    }
    o.clients.push_back(std::move(c));
    return true;
}

// ID:SECRET:REDIRECT_URI. The secret ends at the first ':' (after the one
// that ends the id) that is followed by "http".
bool parse_client_arg(const std::string &arg, Options &o, std::string &err) {
    size_t c1 = arg.find(':');
    if (c1 == std::string::npos) {
        err = "--client wants ID:SECRET:REDIRECT_URI";
        return false;
    }
    size_t c2 = c1 + 1;
    for (;;) {
        c2 = arg.find(':', c2);
        if (c2 == std::string::npos) {
            err = "--client wants ID:SECRET:REDIRECT_URI (no ':http' found after the secret)";
            return false;
        }
        if (arg.compare(c2 + 1, 4, "http") == 0) break;
        ++c2;
    }
    ClientConfig c;
    c.id = arg.substr(0, c1);
    c.secret = arg.substr(c1 + 1, c2 - c1 - 1);
    c.redirect_uris.push_back(arg.substr(c2 + 1));
    return add_client(o, std::move(c), err);
}

// The whole file, at most 1 MiB.
bool read_config_file(const std::string &path, std::string &body, std::string &err) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        err = "cannot open --config file " + path;
        return false;
    }
    char chunk[4096];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        body.append(chunk, static_cast<size_t>(in.gcount()));
        if (body.size() > kMaxConfigBytes) {
            err = "--config file is larger than 1 MiB";
            return false;
        }
    }
    return true;
}

// One member of "clients"; `where` names it in messages.
bool client_from_json(const cJSON *item, const std::string &where, ClientConfig &c, std::string &err) {
    if (!cJSON_IsObject(item)) {
        err = where + " is not an object";
        return false;
    }
    if (json_string(item, "client_id", c.id) != Field::ok ||
        json_string(item, "client_secret", c.secret) != Field::ok) {
        err = where + " needs string client_id and client_secret";
        return false;
    }
    Field f = json_string(item, "account_id", c.account_id);
    if (f == Field::wrong_type) {
        err = where + ".account_id must be a string";
        return false;
    }
    if (json_string(item, "app_url", c.app_url) == Field::wrong_type) {
        err = where + ".app_url must be a string";
        return false;
    }
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(item, "redirect_uris");
    const cJSON *u;
    if (!cJSON_IsArray(uris)) {
        err = where + ".redirect_uris must be an array of strings";
        return false;
    }
    cJSON_ArrayForEach(u, uris) {
        if (!cJSON_IsString(u)) {
            err = where + ".redirect_uris must be an array of strings";
            return false;
        }
        c.redirect_uris.emplace_back(u->valuestring);
    }
    return true;
}

bool load_config(const std::string &path, Options &o, std::string &err) {
    std::string body;
    if (!read_config_file(path, body, err)) return false;
    std::string why;
    Json root = parse_json_object(body, why);
    if (!root) {
        err = "--config " + path + ": " + why;
        return false;
    }
    const cJSON *clients = cJSON_GetObjectItemCaseSensitive(root.get(), "clients");
    if (!cJSON_IsArray(clients)) {
        err = "--config " + path + ": \"clients\" must be an array";
        return false;
    }
    const cJSON *item;
    int index = 0;
    cJSON_ArrayForEach(item, clients) {
        std::string where = "--config " + path + ": clients[" + std::to_string(index++) + "]";
        ClientConfig c;
        if (!client_from_json(item, where, c, err) || !add_client(o, std::move(c), err)) return false;
    }
    return true;
}

bool parse_listen(const std::string &arg, Options &o, std::string &err) {
    std::string host, port;
    if (!arg.empty() && arg[0] == '[') {
        size_t close = arg.find(']');
        if (close == std::string::npos || close + 1 >= arg.size() || arg[close + 1] != ':') {
            err = "--listen wants HOST:PORT ([::1]:PORT for IPv6)";
            return false;
        }
        host = arg.substr(1, close - 1);
        port = arg.substr(close + 2);
    } else {
        size_t colon = arg.rfind(':');
        if (colon == std::string::npos) {
            err = "--listen wants HOST:PORT";
            return false;
        }
        host = arg.substr(0, colon);
        port = arg.substr(colon + 1);
    }
    if (host == "127.0.0.1" || host == "localhost")
        o.listen_host = "127.0.0.1";
    else if (host == "::1")
        o.listen_host = "::1";
    else {
        err = "--listen: refusing to listen on '" + host + "': only 127.0.0.1, localhost and [::1] are allowed";
        return false;
    }
    char *end = nullptr;
    errno = 0;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || errno != 0 || *end != '\0' || p < 0 || p > 65535) {
        err = "--listen: bad port '" + port + "'";
        return false;
    }
    o.listen_port = static_cast<int>(p);
    return true;
}

enum OptionId {
    OPT_LISTEN = 1000,
    OPT_SELF_SIGNED,
    OPT_CERT,
    OPT_KEY,
    OPT_CLIENT,
    OPT_CONFIG,
    OPT_APP_URL,
    OPT_ACCOUNT,
    OPT_AUTO,
    OPT_PARENT,
    OPT_TTL,
    OPT_HELP,
    OPT_VERSION
};

const struct option kLongOptions[] = {{"listen", required_argument, nullptr, OPT_LISTEN},
                                      {"tls-self-signed", required_argument, nullptr, OPT_SELF_SIGNED},
                                      {"tls-cert", required_argument, nullptr, OPT_CERT},
                                      {"tls-key", required_argument, nullptr, OPT_KEY},
                                      {"client", required_argument, nullptr, OPT_CLIENT},
                                      {"config", required_argument, nullptr, OPT_CONFIG},
                                      {"app-url", required_argument, nullptr, OPT_APP_URL},
                                      {"account-id", required_argument, nullptr, OPT_ACCOUNT},
                                      {"auto-approve", no_argument, nullptr, OPT_AUTO},
                                      {"exit-with-parent", no_argument, nullptr, OPT_PARENT},
                                      {"code-ttl", required_argument, nullptr, OPT_TTL},
                                      {"help", no_argument, nullptr, OPT_HELP},
                                      {"version", no_argument, nullptr, OPT_VERSION},
                                      {nullptr, 0, nullptr, 0}};

bool parse_self_signed(const std::string &arg, Options &o, std::string &err) {
    if (arg.empty()) {
        err = "--tls-self-signed wants a directory";
        return false;
    }
    o.tls_self_signed_dir = arg;
    return true;
}

bool parse_account_id(const std::string &arg, Options &o, std::string &err) {
    if (!valid_account_id(arg)) {
        err = "--account-id must be 1-256 bytes without control characters";
        return false;
    }
    o.account_id = arg;
    return true;
}

// ID:URL, split at the first ':' (an id has none). Resolved against the
// clients once every option is read, so the order of options does not matter.
bool parse_app_url_arg(const std::string &arg, Options &o, std::string &err) {
    size_t colon = arg.find(':');
    if (colon == std::string::npos || colon == 0 || !valid_app_url(arg.substr(colon + 1))) {
        err = "--app-url wants ID:URL, URL an absolute http(s) URL without a fragment";
        return false;
    }
    o.app_urls.emplace_back(arg.substr(0, colon), arg.substr(colon + 1));
    return true;
}

// Gives each --app-url to its client.
bool resolve_app_urls(Options &o, std::string &err) {
    for (const auto &p : o.app_urls) {
        ClientConfig *client = nullptr;
        for (auto &c : o.clients)
            if (c.id == p.first) client = &c;
        if (!client) {
            err = "--app-url names a client that is not registered: " + p.first;
            return false;
        }
        if (!client->app_url.empty() && client->app_url != p.second) {
            err = "client " + p.first + " is given two different app URLs";
            return false;
        }
        client->app_url = p.second;
    }
    return true;
}

bool parse_code_ttl(const std::string &arg, Options &o, std::string &err) {
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(arg.c_str(), &end, 10);
    if (arg.empty() || errno != 0 || *end != '\0' || v < 1 || v > 31536000) {
        err = "--code-ttl wants a number of seconds from 1 to 31536000";
        return false;
    }
    o.code_ttl_s = v;
    return true;
}

// Applies one option that sets part of `o`. False with `err` set when its
// value is refused.
bool apply_option(int id, const std::string &arg, Options &o, std::string &err) {
    switch (id) {
    case OPT_LISTEN:
        return parse_listen(arg, o, err);
    case OPT_SELF_SIGNED:
        return parse_self_signed(arg, o, err);
    case OPT_CERT:
        o.tls_cert = arg;
        return true;
    case OPT_KEY:
        o.tls_key = arg;
        return true;
    case OPT_CLIENT:
        return parse_client_arg(arg, o, err);
    case OPT_CONFIG:
        return load_config(arg, o, err);
    case OPT_APP_URL:
        return parse_app_url_arg(arg, o, err);
    case OPT_ACCOUNT:
        return parse_account_id(arg, o, err);
    case OPT_AUTO:
        o.auto_approve = true;
        return true;
    case OPT_PARENT:
        o.exit_with_parent = true;
        return true;
    case OPT_TTL:
        return parse_code_ttl(arg, o, err);
    }
    return true;
}

// The getopt loop. An option whose value is refused is the answer wherever it
// stands; otherwise --help, then --version, win over anything else.
ParseResult read_arguments(int argc, char **argv, Options &o, std::string &err) {
    opterr = 0;
    optind = 1;
    bool help = false, version = false;
    for (;;) {
        int c = getopt_long(argc, argv, "h", kLongOptions, nullptr);
        if (c == -1) break;
        std::string arg = optarg ? optarg : "";
        if (c >= OPT_LISTEN && c <= OPT_TTL) {
            if (!apply_option(c, arg, o, err)) return ParseResult::error;
        } else if (c == 'h' || c == OPT_HELP) {
            help = true;
        } else if (c == OPT_VERSION) {
            version = true;
        } else if (c == ':') {
            err = std::string("option ") + argv[optind - 1] + " needs a value";
            return ParseResult::error;
        } else {
            err = std::string("unknown option ") + (optind > 0 ? argv[optind - 1] : "?");
            return ParseResult::error;
        }
    }
    if (help) return ParseResult::help;
    if (version) return ParseResult::version;
    if (optind < argc) {
        err = std::string("unexpected argument ") + argv[optind];
        return ParseResult::error;
    }
    return ParseResult::run;
}

// What only the whole command line can tell.
bool check_combination(const Options &o, std::string &err) {
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        err = "--tls-cert and --tls-key go together";
        return false;
    }
    if (!o.tls_cert.empty() && !o.tls_self_signed_dir.empty()) {
        err = "--tls-self-signed and --tls-cert/--tls-key exclude each other";
        return false;
    }
    if (o.clients.empty()) {
        err = "no client registered: use --client ID:SECRET:REDIRECT_URI or --config FILE";
        return false;
    }
    return true;
}

}  // namespace

ParseResult parse_options(int argc, char **argv, Options &o, std::string &err) {
    ParseResult r = read_arguments(argc, argv, o, err);
    if (r != ParseResult::run) return r;
    if (!check_combination(o, err) || !resolve_app_urls(o, err)) return ParseResult::error;
    for (auto &c : o.clients)
        if (c.account_id.empty()) c.account_id = o.account_id;
    return ParseResult::run;
}

int loopback_port(const std::string &url) {
    bool https = url.compare(0, 8, "https://") == 0;
    size_t rest = https ? 8 : url.compare(0, 7, "http://") == 0 ? 7 : 0;
    if (rest == 0) return 0;
    std::string authority = url.substr(rest, url.find_first_of("/?", rest) - rest);
    authority = authority.substr(authority.find('@') + 1);  // npos + 1 == 0: none
    std::string host = authority, port;
    if (!authority.empty() && authority[0] == '[') {
        size_t close = authority.find(']');
        if (close == std::string::npos) return 0;
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
    } else if (authority.find(':') != std::string::npos) {
        host = authority.substr(0, authority.find(':'));
        port = authority.substr(authority.find(':') + 1);
    }
    for (auto &ch : host) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!is_loopback_host(host)) return 0;
    if (port.empty()) return https ? 443 : 80;
    char *end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    return *end == '\0' && p > 0 && p <= 65535 ? static_cast<int>(p) : 0;
}

}  // namespace sandbox
