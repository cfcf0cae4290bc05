// lf-auth: option parsing, secret inputs, client construction and output.
#include "cli.hpp"

#include <cjson/cJSON.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lfcli {

namespace {

// The handle always needs a client id and secret; subcommands that do not use
// them (consent-url needs no secret, account/graphql need neither) get these.
const char kPlaceholderClientId[] = "lf-auth";
const char kPlaceholderSecret[] = "lf-auth-placeholder-secret";

constexpr size_t kMaxSecretBytes = 64 * 1024;

std::string strip_newline(std::string s) {
    if (!s.empty() && s.back() == '\n') {
        s.pop_back();
        if (!s.empty() && s.back() == '\r') s.pop_back();
    }
    return s;
}

std::string trim_slash(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

void wipe_json(cJSON *j) {
    for (cJSON *it = j; it != nullptr; it = it->next) {
        if (it->valuestring != nullptr) explicit_bzero(it->valuestring, std::strlen(it->valuestring));
        if (it->child != nullptr) wipe_json(it->child);
    }
}

}  // namespace

long parse_positive_long(const std::string &flag, const std::string &v) {
    char *end = nullptr;
    errno = 0;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || n <= 0) throw UsageError{flag + " needs a positive integer"};
    return n;
}

std::string read_binding(const std::string &var) {
    const char *v = std::getenv(var.c_str());
    if (v == nullptr) throw UsageError{"environment variable " + var + " (binding) is not set"};
    if (*v == '\0') throw UsageError{"the binding in " + var + " is empty (omit --binding-env for an unbound state)"};
    return v;
}

// ---- Secret -------------------------------------------------------------------

void Secret::assign(std::string &&s) {
    wipe();
    value_ = std::move(s);
}

void Secret::wipe() {
    if (!value_.empty()) explicit_bzero(&value_[0], value_.size());
    value_.clear();
}

// ---- input ----------------------------------------------------------------------

std::string read_file_bytes(const std::string &path, size_t max_bytes, const char *what) {
    FILE *f = path == "-" ? stdin : std::fopen(path.c_str(), "rbe");  // e: O_CLOEXEC
    if (f == nullptr)
        throw LocalError{std::string("cannot open ") + what + " file " + path + ": " + std::strerror(errno)};
    std::string data;
    char chunk[4096];
    bool too_big = false;
    for (;;) {
        size_t n = std::fread(chunk, 1, sizeof chunk, f);
        if (n > 0) {
            if (data.size() + n > max_bytes) {
                too_big = true;
                break;
            }
            data.append(chunk, n);
        }
        if (n < sizeof chunk) break;
    }
    bool failed = std::ferror(f) != 0;
    explicit_bzero(chunk, sizeof chunk);
    if (f != stdin) std::fclose(f);
    if (too_big) {
        explicit_bzero(&data[0], data.size());
        throw LocalError{std::string(what) + " is larger than " + std::to_string(max_bytes) + " bytes"};
    }
    if (failed) throw LocalError{std::string("cannot read ") + what + " from " + (path == "-" ? "stdin" : path)};
    return data;
}

void read_secret(const SecretSource &src, Secret &out) {
    std::string v;
    switch (src.kind) {
    case SecretSource::None:
        throw UsageError{"the " + src.what + " is required: use " + src.flag + "-env VAR, " + src.flag +
                         "-file FILE or " + src.flag + "-stdin"};
    case SecretSource::Env: {
        const char *e = std::getenv(src.ref.c_str());
        if (e == nullptr) throw UsageError{"environment variable " + src.ref + " (" + src.what + ") is not set"};
        v = strip_newline(e);
        break;
    }
    case SecretSource::File:
        v = strip_newline(read_file_bytes(src.ref, kMaxSecretBytes, src.what.c_str()));
        break;
    case SecretSource::Stdin:
        v = strip_newline(read_file_bytes("-", kMaxSecretBytes, src.what.c_str()));
        break;
    }
    if (v.empty()) throw UsageError{"the " + src.what + " is empty"};
    out.assign(std::move(v));
}

// ---- Parser ---------------------------------------------------------------------

void Parser::flag(const std::string &name, std::function<void()> fn) {
    specs_.push_back({name, false, [fn](const std::string &) { fn(); }});
}

void Parser::option(const std::string &name, Handler fn) { specs_.push_back({name, true, std::move(fn)}); }

void Parser::secret(const std::string &base, const std::string &what, SecretSource &dst) {
    dst.what = what;
    dst.flag = "--" + base;
    secret_bases_.push_back(base);
    SecretSource *d = &dst;
    auto set = [d](SecretSource::Kind k, const std::string &ref) {
        if (d->kind != SecretSource::None)
            throw UsageError{"give the " + d->what + " only once (" + d->flag + "-env, -file or -stdin)"};
        d->kind = k;
        d->ref = ref;
    };
    option(base + "-env", [set](const std::string &v) {
        if (v.empty()) throw UsageError{"empty variable name"};
        set(SecretSource::Env, v);
    });
    option(base + "-file", [set](const std::string &v) {
        if (v.empty()) throw UsageError{"empty file name"};
        set(SecretSource::File, v);
    });
    flag(base + "-stdin", [set]() { set(SecretSource::Stdin, ""); });
}

bool Parser::parse(const std::vector<std::string> &args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "--help" || a == "-h") return false;
        if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
            // Never echo it: a positional argument could be a pasted secret.
            throw UsageError{"unexpected argument #" + std::to_string(i + 1) +
                             " (this subcommand takes only --options; see --help)"};
        }
        size_t eq = a.find('=');
        std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        const Spec *spec = nullptr;
        for (const Spec &s : specs_)
            if (s.name == name) spec = &s;
        if (spec == nullptr) {
            for (const std::string &b : secret_bases_) {
                if (name == b) {
                    throw UsageError{"--" + name +
                                     " would put a secret on the command line, where other users can "
                                     "read it (ps, /proc, shell history); use --" +
                                     b + "-env VAR, --" + b + "-file FILE or --" + b + "-stdin"};
                }
            }
            throw UsageError{"unknown option --" + name + " (see --help)"};
        }
        if (!spec->takes_value) {
            if (eq != std::string::npos) throw UsageError{"--" + name + " takes no value"};
            spec->fn("");
            continue;
        }
        if (eq != std::string::npos) {
            spec->fn(a.substr(eq + 1));
        } else {
            if (i + 1 >= args.size()) throw UsageError{"--" + name + " needs a value"};
            spec->fn(args[++i]);
        }
    }
    return true;
}

// ---- common options -----------------------------------------------------------

lf_client_auth library_client_auth() {
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    return cfg.client_auth;
}

void add_common_options(Parser &p, Common &c, unsigned groups) {
    p.flag("json", [&c]() { c.json = true; });
    p.flag("quiet", [&c]() { c.quiet = true; });
    if (groups & kClient) {
        p.option("client-id", [&c](const std::string &v) {
            if (v.empty()) throw UsageError{"--client-id is empty"};
            c.client_id = v;
        });
        p.secret("client-secret", "client secret", c.secret_src);
    }
    if (groups & kPrevious) p.secret("previous-client-secret", "previous client secret", c.previous_secret_src);
    if (groups & kRedirect) p.option("redirect-uri", [&c](const std::string &v) { c.redirect_uris.push_back(v); });
    if (groups & kAuthorize) p.option("authorize-url", [&c](const std::string &v) { c.authorize_url = v; });
    if (groups & kToken) {
        p.option("token-url", [&c](const std::string &v) { c.token_url = v; });
        p.option("client-auth", [&c](const std::string &v) {
            if (v == "json")
                c.client_auth = LF_CLIENT_AUTH_JSON_BODY;
            else if (v == "basic")
                c.client_auth = LF_CLIENT_AUTH_BASIC;
            else if (v == "auto")
                c.client_auth = LF_CLIENT_AUTH_AUTO;
            else
                throw UsageError{"--client-auth must be json, basic or auto"};
        });
    }
    if (groups & kApi) p.option("api-url", [&c](const std::string &v) { c.api_url = v; });
    if (groups & kTransport) {
        p.option("sandbox", [&c](const std::string &v) {
            if (v.empty()) throw UsageError{"--sandbox is empty"};
            c.sandbox = trim_slash(v);
        });
        p.option("ca-file", [&c](const std::string &v) { c.ca_file = v; });
        p.option("user-agent", [&c](const std::string &v) { c.user_agent = v; });
        p.option("timeout-ms", [&c](const std::string &v) { c.timeout_ms = parse_positive_long("--timeout-ms", v); });
        p.option("connect-timeout-ms",
                 [&c](const std::string &v) { c.connect_timeout_ms = parse_positive_long("--connect-timeout-ms", v); });
        p.flag("trace", [&c]() { c.trace = true; });
    }
}

std::string effective_authorize_url(const Common &c) {
    if (!c.authorize_url.empty()) return c.authorize_url;
    if (!c.sandbox.empty()) return c.sandbox + "/admin/oauth";
    return "";
}

std::string effective_token_url(const Common &c) {
    if (!c.token_url.empty()) return c.token_url;
    if (!c.sandbox.empty())
        return c.sandbox + (c.client_auth == LF_CLIENT_AUTH_JSON_BODY ? "/oauth/access_token" : "/api/access_token");
    return "";
}

std::string effective_api_url(const Common &c) {
    if (!c.api_url.empty()) return c.api_url;
    if (!c.sandbox.empty()) return c.sandbox + "/api/v2";
    return "";
}

namespace {

const char *trace_event_name(int event) {
    switch (event) {
    case LF_TRACE_CONNECT:
        return "connect";
    case LF_TRACE_REUSE:
        return "reuse";
    case LF_TRACE_TLS:
        return "tls";
    case LF_TRACE_REQUEST:
        return "request";
    case LF_TRACE_RESPONSE:
        return "response";
    case LF_TRACE_AUTO:
        return "auto";
    case LF_TRACE_ERROR:
        return "error";
    case LF_TRACE_NO_RETRY:
        return "no-retry";
    }
    return "event";
}

// The library's lines are already one line each, without control
// characters and with every secret masked.
extern "C" void print_trace(void *, int event, const char *line) {
    std::fprintf(stderr, "lf-auth: trace %s: %s\n", trace_event_name(event), line);
    std::fflush(stderr);
}

}  // namespace

lf_status Client::open(const Common &c, bool need_client, bool need_secret, lf_error *err) {
    if (need_client && c.client_id.empty()) throw UsageError{"--client-id is required"};
    if (need_secret) {
        read_secret(c.secret_src, secret_);
        if (c.previous_secret_src.kind != SecretSource::None) read_secret(c.previous_secret_src, previous_);
    }
    std::string authorize = effective_authorize_url(c), token = effective_token_url(c), api = effective_api_url(c);
    std::vector<const char *> uris;
    for (const std::string &u : c.redirect_uris) uris.push_back(u.c_str());

    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = c.client_id.empty() ? kPlaceholderClientId : c.client_id.c_str();
    cfg.client_secret = need_secret ? secret_.c_str() : kPlaceholderSecret;
    cfg.previous_client_secret = previous_.empty() ? nullptr : previous_.c_str();
    cfg.redirect_uris = uris.empty() ? nullptr : uris.data();  // none: webhooks and the API only
    cfg.redirect_uri_count = uris.size();
    if (!authorize.empty()) cfg.authorize_url = authorize.c_str();
    if (!token.empty()) cfg.token_url = token.c_str();
    if (!api.empty()) cfg.api_url = api.c_str();
    cfg.client_auth = c.client_auth;
    if (c.timeout_ms > 0) cfg.timeout_ms = c.timeout_ms;
    if (c.connect_timeout_ms > 0) cfg.connect_timeout_ms = c.connect_timeout_ms;
    if (!c.ca_file.empty()) cfg.ca_file = c.ca_file.c_str();
    if (!c.user_agent.empty()) cfg.user_agent = c.user_agent.c_str();
    if (c.trace) cfg.trace = print_trace;
    lf_status s = lf_auth_new(&cfg, &auth_, err);
    // The handle keeps its own copy; drop ours now.
    secret_.wipe();
    previous_.wipe();
    return s;
}

// ---- output -------------------------------------------------------------------

void progress(const Common &c, const char *fmt, ...) {
    if (c.quiet) return;
    std::fputs("lf-auth: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

void warn_undocumented_scopes(const std::string &scopes) {
    static const char *const kDocumented[] = {"funnels",   "orders",    "products",          "analytics",
                                              "customers", "discounts", "contact_form_data", "settings"};
    size_t start = 0;
    while (start <= scopes.size()) {
        size_t end = scopes.find(',', start);
        if (end == std::string::npos) end = scopes.size();
        std::string name = scopes.substr(start, end - start);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        bool known = name.empty();
        for (const char *d : kDocumented) known = known || name == d;
        if (!known)
            std::fprintf(stderr,
                         "lf-auth: warning: '%s' is not a scope the Lightfunnels docs list (funnels, orders, "
                         "products, analytics, customers, discounts, contact_form_data, settings): a typo?\n",
                         terminal_safe(name).c_str());
        start = end + 1;
    }
    std::fflush(stderr);
}

cJSON *json_ok() {
    cJSON *o = cJSON_CreateObject();
    if (o == nullptr) throw LocalError{"out of memory"};
    cJSON_AddTrueToObject(o, "ok");
    return o;
}

void emit_json(cJSON *obj, bool for_terminal) {
    char *text = cJSON_PrintUnformatted(obj);
    wipe_json(obj);
    cJSON_Delete(obj);
    if (text == nullptr) throw LocalError{"out of memory"};
    if (for_terminal) {
        // cJSON escapes C0 controls only; C1, bidi and invalid UTF-8 pass raw.
        std::string safe = terminal_safe(text);
        std::fputs(safe.c_str(), stdout);
    } else {
        std::fputs(text, stdout);
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    explicit_bzero(text, std::strlen(text));
    cJSON_free(text);
}

namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF) and its code point; 0 when the
// bytes there are not one.
size_t utf8_sequence(const std::string &s, size_t i, unsigned long *cp) {
    const auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char b = byte(i);
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
        *cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        *cp = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        *cp = b & 0x07;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (size_t k = 1; k < len; ++k) {
        unsigned char c = byte(i + k);
        if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
        *cp = (*cp << 6) | (c & 0x3F);
    }
    return len;
}

// Code points a terminal acts on instead of showing them.
bool terminal_control(unsigned long cp) {
    if (cp == '\n' || cp == '\t') return false;
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string terminal_safe(const std::string &bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        unsigned long cp = 0;
        size_t len = utf8_sequence(bytes, i, &cp);
        if (len == 0) {
            out += '?';
            i += 1;
        } else {
            if (terminal_control(cp))
                out += '?';
            else
                out.append(bytes, i, len);
            i += len;
        }
    }
    return out;
}

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }

void add_error_object(cJSON *parent, const char *what, lf_status s, const lf_error *err) {
    const bool have = err != nullptr && err->status == s;
    cJSON *e = cJSON_AddObjectToObject(parent, "error");
    cJSON_AddStringToObject(e, "operation", what);
    cJSON_AddStringToObject(e, "status", lf_status_name(s));
    cJSON_AddNumberToObject(e, "code", static_cast<double>(s));
    cJSON_AddNumberToObject(e, "exit", exit_for(s));
    cJSON_AddNumberToObject(e, "http_status", have ? static_cast<double>(err->http_status) : 0);
    cJSON_AddNumberToObject(e, "retry_after_s", have ? static_cast<double>(err->retry_after_s) : 0);
    cJSON_AddStringToObject(e, "key", have ? err->key : "");
    cJSON_AddStringToObject(e, "message", have && err->message[0] ? err->message : lf_status_message(s));
}

int report_failure(const Common &c, const char *what, lf_status s, const lf_error *err) {
    const bool have = err != nullptr && err->status == s;
    std::string detail;
    if (have && err->http_status != 0) detail += "HTTP " + std::to_string(err->http_status);
    if (have && err->key[0] != '\0') detail += (detail.empty() ? "" : ", ") + std::string(err->key);
    std::fprintf(stderr, "lf-auth: %s failed: %s%s%s%s: %s\n", what, lf_status_name(s), detail.empty() ? "" : " (",
                 detail.c_str(), detail.empty() ? "" : ")",
                 have && err->message[0] != '\0' ? err->message : lf_status_message(s));
    if (have && err->retry_after_s > 0) std::fprintf(stderr, "lf-auth: retry after %ld s\n", err->retry_after_s);
    std::fflush(stderr);
    if (c.json) {
        cJSON *o = cJSON_CreateObject();
        if (o == nullptr) return exit_for(s);
        cJSON_AddFalseToObject(o, "ok");
        add_error_object(o, what, s, err);
        emit_json(o);
    }
    return exit_for(s);
}

// ---- library calls ------------------------------------------------------------------

lf_status consent_url(const lf_auth *a, const std::string &redirect_uri, const std::string &scope, const char *state,
                      std::vector<char> &url) {
    size_t needed = 0;
    lf_status s = lf_consent_url(a, redirect_uri.c_str(), scope.c_str(), state, nullptr, 0, &needed);
    if (s != LF_E_BUFFER_TOO_SMALL) return s == LF_OK ? LF_E_INTERNAL : s;
    url.assign(needed, '\0');
    return lf_consent_url(a, redirect_uri.c_str(), scope.c_str(), state, url.data(), url.size(), &needed);
}

lf_status parse_callback(const lf_auth *a, const char *url_or_query, const char *expected_state,
                         std::vector<char> &code, lf_error *err) {
    size_t needed = 0;
    lf_status s = lf_parse_callback(a, url_or_query, expected_state, code.data(), code.size(), &needed, err);
    if (s == LF_E_BUFFER_TOO_SMALL) {
        code.assign(needed, '\0');
        s = lf_parse_callback(a, url_or_query, expected_state, code.data(), code.size(), &needed, err);
    }
    return s;
}

// ---- SaveFile -------------------------------------------------------------------

// Before commit() the temporary file holds no token: remove it.
SaveFile::~SaveFile() { discard(); }

void SaveFile::prepare(const std::string &path, bool force) {
    if (path.empty()) throw UsageError{"--save needs a file name"};
    path_ = path;
    force_ = force;
    struct stat st;
    if (!force && lstat(path.c_str(), &st) == 0) throw LocalError{path + " already exists (use --force to replace it)"};
    // The temporary file sits next to the target so that rename()/link() stay
    // on one file system. mkostemp opens with O_CREAT|O_EXCL and mode 0600;
    // O_CLOEXEC keeps it from the browser that `login --open` starts.
    std::string tmpl = path + ".XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) throw LocalError{"cannot create a file next to " + path + ": " + std::strerror(errno)};
    tmp_ = buf.data();
    fd_ = fd;
    if (fchmod(fd_, 0600) != 0) throw LocalError{"cannot set mode 0600 on " + tmp_ + ": " + std::strerror(errno)};
}

void deliver_token(const Common &c, lf_token *tok, SaveFile &out, const char *redirect_uri) {
    struct Owner {
        lf_token *t;
        ~Owner() { lf_token_free(t); }
    } owner{tok};
    const bool save = out.active();  // commit() closes the file
    if (save) {
        out.commit(lf_token_value(tok));
        progress(c, "access token saved to %s (mode 0600)", out.path().c_str());
    }
    if (c.json) {
        cJSON *o = json_ok();
        if (save)
            cJSON_AddStringToObject(o, "saved_to", out.path().c_str());
        else
            cJSON_AddStringToObject(o, "access_token", lf_token_value(tok));
        if (redirect_uri) cJSON_AddStringToObject(o, "redirect_uri", redirect_uri);
        emit_json(o);
    } else if (!save) {
        std::printf("%s\n", lf_token_value(tok));
        std::fflush(stdout);
    }
}

namespace {

bool write_all(int fd, const std::string &text) {
    const char *p = text.data();
    size_t left = text.size();
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        left -= static_cast<size_t>(n);
    }
    return fsync(fd) == 0;
}

// Writes `text` to a new 0600 file made from the mkstemp template; returns its
// name, or "" (and leaves nothing behind) when that fails.
std::string write_new_file(const std::string &tmpl, const std::string &text) {
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return "";
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, text);
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(name.data());
        return "";
    }
    return name.data();
}

}  // namespace

void SaveFile::commit(const char *data) {
    std::string text = std::string(data) + "\n";
    struct Wipe {
        std::string &s;
        ~Wipe() { explicit_bzero(&s[0], s.size()); }
    } wipe{text};
    if (!write_all(fd_, text)) {
        int saved = errno;
        discard();
        throw keep_elsewhere(text, "cannot write " + tmp_ + ": " + std::strerror(saved));
    }
    close(fd_);
    fd_ = -1;
    if (place() != 0) {
        int saved = errno;
        // The temporary file now holds the only copy of the token: keep it.
        throw LocalError{"cannot create " + path_ + ": " + std::strerror(saved) +
                             (saved == EEXIST ? " (use --force to replace it)" : "") +
                             "; the access token is kept in " + tmp_ + " (mode 0600)",
                         tmp_};
    }
}

// Puts the written temporary file in place as the target.
int SaveFile::place() {
    if (force_) return rename(tmp_.c_str(), path_.c_str());
    // link() never replaces: a file that appeared meanwhile is kept.
    if (link(tmp_.c_str(), path_.c_str()) != 0) return -1;
    unlink(tmp_.c_str());
    return 0;
}

void SaveFile::discard() {
    if (fd_ < 0) return;
    close(fd_);
    fd_ = -1;
    unlink(tmp_.c_str());
}

// The temporary file could not take the token: try a new file next to the
// target, then one in $TMPDIR (or /tmp). The token is never printed instead:
// the user asked for it not to appear on the terminal.
LocalError SaveFile::keep_elsewhere(const std::string &text, const std::string &why) {
    std::string kept = write_new_file(path_ + ".XXXXXX", text);
    if (kept.empty()) {
        const char *dir = std::getenv("TMPDIR");
        kept =
            write_new_file(std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/lf-auth-token.XXXXXX", text);
    }
    if (kept.empty()) return LocalError{why + "; the access token could not be kept anywhere (start the flow again)"};
    return LocalError{why + "; the access token is kept in " + kept + " (mode 0600)", kept};
}

}  // namespace lfcli
