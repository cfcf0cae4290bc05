// lf-auth: shared pieces of the command-line tool (option parsing, secret
// inputs, output and exit codes). Built on the public C API only.
#ifndef LF_AUTH_CLI_HPP
#define LF_AUTH_CLI_HPP

#include <lightfunnels/auth.h>

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct cJSON;

namespace lfcli {

// Exit statuses (documented in --help and lf-auth(1)).
constexpr int kExitOk = 0;
constexpr int kExitLocal = 1;        // local failure: file I/O, listener, existing --save file
constexpr int kExitUsage = 2;        // bad command line or missing input
constexpr int kExitStatusBase = 10;  // 10 + lf_status for every library error

inline int exit_for(lf_status s) { return s == LF_OK ? kExitOk : kExitStatusBase + static_cast<int>(s); }

// Thrown for command-line mistakes; main() prints the message and exits 2.
struct UsageError {
    std::string message;
};
// Thrown for local failures (I/O); main() prints the message and exits 1.
struct LocalError {
    explicit LocalError(std::string m, std::string kept = std::string())
        : message(std::move(m)), token_file(std::move(kept)) {}
    std::string message;
    // Where a token that could not be saved as asked is kept (0600), if any.
    std::string token_file;
};

// A std::string that is wiped when it dies (best effort: it never grows after
// being filled, so no stale copies are left by reallocation).
class Secret {
public:
    Secret() = default;
    Secret(const Secret &) = delete;
    Secret &operator=(const Secret &) = delete;
    ~Secret() { wipe(); }
    void assign(std::string &&s);
    void wipe();
    const char *c_str() const { return value_.c_str(); }
    const std::string &str() const { return value_; }
    bool empty() const { return value_.empty(); }

private:
    std::string value_;
};

// Where a sensitive value comes from: --X-env VAR, --X-file FILE, --X-stdin.
struct SecretSource {
    enum Kind { None, Env, File, Stdin } kind = None;
    std::string ref;   // variable name or file name
    std::string what;  // "client secret", for messages
    std::string flag;  // "--client-secret", for messages
};

// Reads the value (one trailing "\n" or "\r\n" removed). Throws UsageError for
// a missing variable/empty value and LocalError for an unreadable file.
void read_secret(const SecretSource &src, Secret &out);

// Reads a whole file ("-" = stdin) as bytes, at most max_bytes.
std::string read_file_bytes(const std::string &path, size_t max_bytes, const char *what);

// Command-line parser: options are registered with a handler, then parse()
// walks argv. Values may be given as "--opt VALUE" or "--opt=VALUE". Unknown
// options are reported by name only (never with their value, which could be
// a secret pasted by mistake).
class Parser {
public:
    using Handler = std::function<void(const std::string &value)>;
    void flag(const std::string &name, std::function<void()> fn);
    void option(const std::string &name, Handler fn);
    void secret(const std::string &base, const std::string &what, SecretSource &dst);
    // Returns false when --help was seen (help already printed by the caller).
    bool parse(const std::vector<std::string> &args);

private:
    struct Spec {
        std::string name;
        bool takes_value;
        Handler fn;
    };
    std::vector<Spec> specs_;
    std::vector<std::string> secret_bases_;
};

// Shared options: client, endpoints, transport, output.
struct Common {
    std::string client_id;
    SecretSource secret_src;
    SecretSource previous_secret_src;
    std::vector<std::string> redirect_uris;
    std::string authorize_url, token_url, api_url, ca_file, sandbox, user_agent;
    lf_client_auth client_auth = LF_CLIENT_AUTH_JSON_BODY;
    long timeout_ms = 0;
    long connect_timeout_ms = 0;
    bool json = false;
    bool quiet = false;
};

enum OptionGroup : unsigned {
    kClient = 1u << 0,     // --client-id, --client-secret-*
    kPrevious = 1u << 1,   // --previous-client-secret-*
    kRedirect = 1u << 2,   // --redirect-uri
    kAuthorize = 1u << 3,  // --authorize-url
    kToken = 1u << 4,      // --token-url, --client-auth
    kApi = 1u << 5,        // --api-url
    kTransport = 1u << 6,  // --ca-file, --timeout-ms, --connect-timeout-ms, --user-agent, --sandbox
};

void add_common_options(Parser &p, Common &c, unsigned groups);

// The value of a --flag that needs a positive integer; throws UsageError.
long parse_positive_long(const std::string &flag, const std::string &v);

// The value of the environment variable `var` named by --binding-env (a
// sealed state's binding: a session id, so never read from argv). Throws
// UsageError when it is unset or empty.
std::string read_binding(const std::string &var);

// Builds an lf_auth from the common options. `need_secret`: the subcommand
// uses the client secret (otherwise a placeholder is used, because a handle
// always needs one). Returns the status; on failure prints the error.
class Client {
public:
    Client() = default;
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { lf_auth_free(auth_); }
    lf_status open(const Common &c, bool need_client, bool need_secret, lf_error *err);
    const lf_auth *get() const { return auth_; }

private:
    lf_auth *auth_ = nullptr;
    Secret secret_, previous_;
};

// Effective endpoint URLs (for progress messages): "" means the library default.
std::string effective_token_url(const Common &c);
std::string effective_api_url(const Common &c);
std::string effective_authorize_url(const Common &c);

// ---- output -----------------------------------------------------------------
// Progress goes to stderr (unless --quiet); results to stdout. With --json,
// stdout carries exactly one JSON object: {"ok":true,...} or
// {"ok":false,"error":{...}}.
void progress(const Common &c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Prints the failure on stderr (and as JSON on stdout with --json); returns
// the exit status for `s`.
int report_failure(const Common &c, const char *what, lf_status s, const lf_error *err);

// Prints {"ok":true, ...} built by `fill` (JSON mode only); frees and wipes.
// `for_terminal`: the text goes through terminal_safe() first.
void emit_json(cJSON *obj, bool for_terminal = false);
cJSON *json_ok();

// Bytes a server sent, made harmless for a terminal: every C0 control except
// "\n" and "\t", DEL, every C1 control (U+0080-U+009F), every bidi override or
// isolate (U+202A-U+202E, U+2066-U+2069) and every byte that is not part of
// well-formed UTF-8 becomes one '?'. Everything else is kept as it is.
std::string terminal_safe(const std::string &bytes);

// True when standard output is a terminal (where terminal_safe() applies).
bool stdout_is_terminal();

// Saves `data` + "\n" to `path` with mode 0600: the file is prepared before
// the network call (so a single-use code is never spent when the file cannot
// be written) and put in place at the end.
class SaveFile {
public:
    SaveFile() = default;
    SaveFile(const SaveFile &) = delete;
    SaveFile &operator=(const SaveFile &) = delete;
    ~SaveFile();
    // Throws LocalError when the directory is not writable or (without force)
    // the file already exists.
    void prepare(const std::string &path, bool force);
    // Writes and renames into place. Throws LocalError. The code that bought
    // the token is spent by then, so a failure never deletes the only copy:
    // the token stays in a 0600 file named in the message and in token_file.
    void commit(const char *data);
    bool active() const { return fd_ >= 0; }
    const std::string &path() const { return path_; }

private:
    int place();
    void discard();
    LocalError keep_elsewhere(const std::string &text, const std::string &why);

    std::string path_, tmp_;
    bool force_ = false;
    int fd_ = -1;
};

// Hands an access token to the user and frees it: saved through `out` when
// it is active (a progress line; with --json {"ok":true,"saved_to":...}),
// otherwise printed on stdout (with --json as "access_token"). With
// --json, `redirect_uri` (when not null) is added to the object. Throws
// LocalError when the file cannot be written (see SaveFile::commit); tok is
// freed either way.
void deliver_token(const Common &c, lf_token *tok, SaveFile &out, const char *redirect_uri);

// ---- help (help.cpp) --------------------------------------------------------------
// The exit-status table printed by every --help.
const char *exit_help();
// The --client-id / --client-secret-* lines.
const char *client_help();
// A subcommand's --help on stdout: `usage`, then the client options (when
// `client`), the endpoint and transport options (when `endpoints`), the output
// options and the exit statuses.
void print_help(const char *usage, bool client, bool endpoints);

// ---- library calls more than one subcommand makes ------------------------------------
// lf_consent_url into a buffer of the size it asks for.
lf_status consent_url(const lf_auth *a, const std::string &redirect_uri, const std::string &scope, const char *state,
                      std::vector<char> &url);
// lf_parse_callback into `code`, grown once if the code does not fit.
lf_status parse_callback(const lf_auth *a, const char *url_or_query, const char *expected_state,
                         std::vector<char> &code, lf_error *err);

// Adds "error": {"operation","status","code","exit","http_status",
// "retry_after_s","key","message"} to `parent`; the detail of `err` only when
// it is about `s`.
void add_error_object(cJSON *parent, const char *what, lf_status s, const lf_error *err);

}  // namespace lfcli

#endif
