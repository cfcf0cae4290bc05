// lf-auth webhook-sign and webhook-verify: the lightfunnels-hmac header value
// of a body, made or checked with the client secret (and, when verifying, the
// previous one).
#include "cli.hpp"
#include "commands.hpp"

#include <cjson/cJSON.h>

#include <cstdio>

namespace lfcli {

namespace {

const char kSignUsage[] =
    "usage: lf-auth webhook-sign [--body-file FILE] (--client-secret-env VAR | ...)\n"
    "\n"
    "Prints base64(HMAC-SHA256(client secret, body)), the lightfunnels-hmac\n"
    "header value, for the exact bytes of FILE (stdin when absent or \"-\").\n"
    "\n";

const char kVerifyUsage[] =
    "usage: lf-auth webhook-verify --signature HMAC [--body-file FILE]\n"
    "                             (--client-secret-env VAR | ...)\n"
    "                             [--previous-client-secret-env VAR | ...]\n"
    "\n"
    "Checks the lightfunnels-hmac header value HMAC against the exact bytes of\n"
    "the body (FILE, or stdin when absent or \"-\"). Exit 0 and \"valid\" when it\n"
    "matches (the current or the previous secret), 29 LF_E_SIGNATURE_MISMATCH\n"
    "and \"invalid\" otherwise. There is no timestamp: deduplicate events.\n"
    "\n";

constexpr size_t kMaxBody = 64u << 20;

struct WebhookArgs {
    Common c;
    std::string body_file = "-", signature;
    bool have_signature = false;
};

// False when --help was asked for (and printed).
bool parse_args(const Args &args, bool verify, WebhookArgs &a) {
    Parser p;
    add_common_options(p, a.c, kClient | (verify ? kPrevious : 0u));
    p.option("body-file", [&a](const std::string &v) {
        if (v.empty()) throw UsageError{"--body-file is empty"};
        a.body_file = v;
    });
    if (verify)
        p.option("signature", [&a](const std::string &v) {
            a.signature = v;
            a.have_signature = true;
        });
    if (!p.parse(args)) {
        print_help(verify ? kVerifyUsage : kSignUsage, true, false);
        return false;
    }
    if (verify && !a.have_signature) throw UsageError{"--signature is required"};
    int from_stdin = (a.c.secret_src.kind == SecretSource::Stdin) +
                     (a.c.previous_secret_src.kind == SecretSource::Stdin) + (a.body_file == "-");
    if (from_stdin > 1) throw UsageError{"only one input can come from stdin (use --body-file FILE)"};
    return true;
}

// A mismatch is an answer, not a failure to report: "invalid" (or
// {"ok":false,"valid":false,"error":{..}}) on stdout and exit 29.
int print_mismatch(const Common &c, lf_status s) {
    if (c.json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddFalseToObject(o, "ok");
        cJSON_AddFalseToObject(o, "valid");
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "operation", "webhook-verify");
        cJSON_AddStringToObject(e, "status", lf_status_name(s));
        cJSON_AddNumberToObject(e, "code", static_cast<double>(s));
        cJSON_AddNumberToObject(e, "exit", exit_for(s));
        emit_json(o);
    } else {
        std::printf("invalid\n");
    }
    return exit_for(s);
}

int verify(const Common &c, const lf_auth *auth, const std::string &body, const std::string &signature) {
    lf_status s = lf_webhook_verify(auth, body.data(), body.size(), signature.c_str());
    if (s == LF_E_SIGNATURE_MISMATCH) return print_mismatch(c, s);
    if (s != LF_OK) return report_failure(c, "webhook-verify", s, nullptr);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddTrueToObject(o, "valid");
        emit_json(o);
    } else {
        std::printf("valid\n");
    }
    return kExitOk;
}

int sign(const Common &c, const lf_auth *auth, const std::string &body) {
    char sig[LF_SIGNATURE_BUFFER_SIZE];
    lf_status s = lf_webhook_sign(auth, body.data(), body.size(), sig, sizeof sig, nullptr);
    if (s != LF_OK) return report_failure(c, "webhook-sign", s, nullptr);
    if (c.json) {
        cJSON *o = json_ok();
        cJSON_AddStringToObject(o, "signature", sig);
        cJSON_AddStringToObject(o, "header", "lightfunnels-hmac");
        emit_json(o);
    } else {
        std::printf("%s\n", sig);
    }
    return kExitOk;
}

int run(const Args &args, bool verifying) {
    WebhookArgs a;
    if (!parse_args(args, verifying, a)) return kExitOk;
    lf_error err;
    Client client;
    lf_status s = client.open(a.c, false, true, &err);
    if (s != LF_OK) return report_failure(a.c, "client configuration", s, &err);
    std::string body = read_file_bytes(a.body_file, kMaxBody, "body");
    return verifying ? verify(a.c, client.get(), body, a.signature) : sign(a.c, client.get(), body);
}

}  // namespace

int cmd_webhook_sign(const Args &args) { return run(args, false); }

int cmd_webhook_verify(const Args &args) { return run(args, true); }

}  // namespace lfcli
