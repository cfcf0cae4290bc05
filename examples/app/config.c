#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define MAX_FILE_BYTES 65536

/* The KEY=VALUE file, read once; values are looked up by name. */
typedef struct file_values {
    char *text;
} file_values;

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int failed = !buf || ferror(f) || n > MAX_FILE_BYTES;
    fclose(f);
    if (failed) {
        if (buf) OPENSSL_cleanse(buf, MAX_FILE_BYTES + 1);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void trim_end(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
}

static char *file_lookup(const file_values *fv, const char *name) {
    if (!fv->text) return NULL;
    size_t len = strlen(name);
    for (const char *line = fv->text; *line;) {
        const char *end = strchr(line, '\n');
        size_t line_len = end ? (size_t)(end - line) : strlen(line);
        if (line_len > len && strncmp(line, name, len) == 0 && line[len] == '=') {
            char *v = strndup(line + len + 1, line_len - len - 1);
            if (v) trim_end(v);
            return v;
        }
        line += line_len + (end ? 1 : 0);
    }
    return NULL;
}

/* The environment first, then the file; NULL when neither has it. */
static char *setting(const file_values *fv, const char *name) {
    const char *v = getenv(name);
    if (v && *v) return strdup(v);
    return file_lookup(fv, name);
}

static char *setting_or(const file_values *fv, const char *name, const char *fallback) {
    char *v = setting(fv, name);
    return v ? v : (fallback ? strdup(fallback) : NULL);
}

/* A secret from NAME, or from the file named by NAME_FILE (one line). */
static char *secret(const file_values *fv, const char *name) {
    char *v = setting(fv, name);
    if (v) return v;
    char file_name[96];
    snprintf(file_name, sizeof file_name, "%s_FILE", name);
    char *path = setting(fv, file_name);
    if (!path) return NULL;
    v = read_file(path);
    if (!v) fprintf(stderr, "app: cannot read %s (%s)\n", file_name, strerror(errno));
    free(path);
    if (v) trim_end(v);
    return v;
}

static int require(const char *value, const char *name) {
    if (value && *value) return 0;
    fprintf(stderr, "app: %s is not set\n", name);
    return -1;
}

static void wipe_free(char *s) {
    if (s) OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static int load_key(app_config *c, const file_values *fv) {
    char *hex = secret(fv, "LF_APP_TOKEN_KEY");
    if (require(hex, "LF_APP_TOKEN_KEY (or LF_APP_TOKEN_KEY_FILE)") != 0) return -1;
    int rc = vault_init_hex(&c->vault, hex);
    wipe_free(hex);
    if (rc != 0) fprintf(stderr, "app: LF_APP_TOKEN_KEY must be 64 hex digits (32 random bytes)\n");
    return rc;
}

static int load_port(app_config *c, const file_values *fv) {
    char *p = setting_or(fv, "LF_APP_PORT", "8080");
    char *end = NULL;
    long port = p ? strtol(p, &end, 10) : -1;
    int ok = p && *end == '\0' && port > 0 && port < 65536;
    free(p);
    if (!ok) {
        fprintf(stderr, "app: LF_APP_PORT must be a port number\n");
        return -1;
    }
    c->port = (int)port;
    return 0;
}

/* LF_APP_CLIENT_AUTH: basic (the platform's documented method), json_body or
 * auto; unset leaves the library's default. */
static int load_client_auth(app_config *c, const file_values *fv) {
    static const char *const names[] = {"json_body", "basic", "auto"};
    char *v = setting(fv, "LF_APP_CLIENT_AUTH");
    c->client_auth = -1;
    for (int i = 0; v && i < 3; i++)
        if (strcmp(v, names[i]) == 0) c->client_auth = i;
    int bad = v && c->client_auth < 0;
    free(v);
    if (bad) fprintf(stderr, "app: LF_APP_CLIENT_AUTH must be basic, json_body or auto\n");
    return bad ? -1 : 0;
}

int config_load(app_config *c) {
    memset(c, 0, sizeof *c);
    file_values fv = {NULL};
    const char *path = getenv("LF_APP_CONFIG");
    if (path && *path && !(fv.text = read_file(path))) {
        fprintf(stderr, "app: cannot read LF_APP_CONFIG %s\n", path);
        return -1;
    }
    c->client_id = setting(&fv, "LF_APP_CLIENT_ID");
    c->client_secret = secret(&fv, "LF_APP_CLIENT_SECRET");
    c->redirect_uri = setting(&fv, "LF_APP_REDIRECT_URI");
    c->public_url = setting(&fv, "LF_APP_PUBLIC_URL");
    c->admin_origin = setting_or(&fv, "LF_APP_ADMIN_ORIGIN", "https://app.lightfunnels.com");
    c->scopes = setting_or(&fv, "LF_APP_SCOPES", "orders");
    c->db_path = setting_or(&fv, "LF_APP_DB", "lf-app.db");
    c->bind_address = setting_or(&fv, "LF_APP_BIND", "127.0.0.1");
    c->authorize_url = setting(&fv, "LF_APP_AUTHORIZE_URL");
    c->token_url = setting(&fv, "LF_APP_TOKEN_URL");
    c->api_url = setting(&fv, "LF_APP_API_URL");
    c->ca_file = setting(&fv, "LF_APP_CA_FILE");
    int rc = require(c->client_id, "LF_APP_CLIENT_ID") | require(c->client_secret, "LF_APP_CLIENT_SECRET(_FILE)") |
             require(c->redirect_uri, "LF_APP_REDIRECT_URI") | require(c->public_url, "LF_APP_PUBLIC_URL") |
             require(c->admin_origin, "LF_APP_ADMIN_ORIGIN") | require(c->scopes, "LF_APP_SCOPES") |
             require(c->db_path, "LF_APP_DB") | require(c->bind_address, "LF_APP_BIND");
    if (rc == 0) rc = load_port(c, &fv);
    if (rc == 0) rc = load_client_auth(c, &fv);
    if (rc == 0) rc = load_key(c, &fv);
    if (fv.text) wipe_free(fv.text);
    if (rc != 0) config_free(c);
    return rc;
}

void config_free(app_config *c) {
    wipe_free(c->client_secret);
    char *plain[] = {c->client_id,    c->redirect_uri,  c->public_url, c->admin_origin, c->scopes, c->db_path,
                     c->bind_address, c->authorize_url, c->token_url,  c->api_url,      c->ca_file};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) free(plain[i]);
    vault_wipe(&c->vault);
    memset(c, 0, sizeof *c);
}
