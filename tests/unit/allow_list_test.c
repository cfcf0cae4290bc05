/*
 * Configuration checks of lf_auth_new() and the redirect-URI allow-list of
 * lf_consent_url():
 *  - a redirect URI must equal one allow-list entry byte for byte;
 *  - every URL must be absolute https, or http to a loopback host
 *    (127.0.0.0/8, ::1, localhost), without user info: http:// elsewhere or
 *    another scheme is LF_E_INSECURE_TRANSPORT, a malformed URL
 *    LF_E_INVALID_ARGUMENT;
 *  - required fields, timeouts, client_auth;
 *  - struct_size rules of lf_auth_config and lf_call_options, and their
 *    _init functions writing only within `size`.
 */
#include "unit_support.h"

/* lf_auth_new() must fail with `expected`, leave *out NULL and fill err. */
static void assert_new_fails(const lf_auth_config *cfg, lf_status expected, const char *what) {
    lf_auth *a = (lf_auth *)(uintptr_t)0x1; /* must be overwritten with NULL */
    lf_error err;
    lf_status s;
    lf_garbage_fill(&err, sizeof err);
    s = lf_auth_new(cfg, &a, &err);
    if (s != expected) {
        print_error("%s: lf_auth_new returned %s, expected %s\n", what, lf_status_name(s), lf_status_name(expected));
        if (s == LF_OK) lf_auth_free(a);
        fail();
    }
    assert_null(a);
    assert_int_equal(err.status, expected);
    assert_non_null(memchr(err.key, '\0', sizeof err.key));
    assert_non_null(memchr(err.message, '\0', sizeof err.message));
    /* The secret never appears in an error message. */
    assert_null(strstr(err.message, UNIT_CLIENT_SECRET));
}

static void assert_new_fails_either(const lf_auth_config *cfg, lf_status e1, lf_status e2, const char *what) {
    lf_auth *a = NULL;
    lf_status s = lf_auth_new(cfg, &a, NULL);
    if (s != e1 && s != e2) {
        print_error("%s: lf_auth_new returned %s, expected %s or %s\n", what, lf_status_name(s), lf_status_name(e1),
                    lf_status_name(e2));
        if (s == LF_OK) lf_auth_free(a);
        fail();
    }
    assert_null(a);
}

static void assert_new_ok(const lf_auth_config *cfg, const char *what) {
    lf_auth *a = NULL;
    lf_error err;
    lf_status s;
    lf_garbage_fill(&err, sizeof err); /* garbage: reset at the start of the call */
    s = lf_auth_new(cfg, &a, &err);
    if (s != LF_OK) {
        print_error("%s: lf_auth_new returned %s (%s), expected LF_OK\n", what, lf_status_name(s), err.message);
        fail();
    }
    assert_non_null(a);
    assert_int_equal(err.status, LF_OK);
    assert_string_equal(err.key, "");
    assert_string_equal(err.message, "");
    lf_auth_free(a);
}

/* ---- exact allow-list match ---------------------------------------------- */

static const char *const g_list[] = {"https://app.example.test/oauth/callback", "http://127.0.0.1:8080/cb"};

static void test_exact_entries_allowed(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *a;
    char buf[1024];
    unit_config(&cfg);
    cfg.redirect_uris = g_list;
    cfg.redirect_uri_count = 2;
    a = unit_new(&cfg);
    assert_status(lf_consent_url(a, g_list[0], "products", "s", buf, sizeof buf, NULL), LF_OK);
    assert_status(lf_consent_url(a, g_list[1], "products", "s", buf, sizeof buf, NULL), LF_OK);
    lf_auth_free(a);
}

static void test_near_misses_not_allowed(void **st) {
    (void)st;
    static const char *const near[] = {
        "https://app.example.test/oauth/callback/",          /* trailing slash */
        "https://app.example.test/oauth/callbac",            /* prefix */
        "https://app.example.test/oauth",                    /* prefix */
        "https://app.example.test/oauth/",                   /* prefix */
        "https://app.example.test/oauth/callback2",          /* extension */
        "https://app.example.test/oauth/callback/evil",      /* extension */
        "https://app.example.test/oauth/callback.evil.test", /* extension */
        "https://APP.example.test/oauth/callback",           /* host case */
        "HTTPS://app.example.test/oauth/callback",           /* scheme case */
        "https://app.example.test/OAuth/callback",           /* path case */
        "https://app.example.test/oauth/callback?x=1",       /* extra query */
        "https://app.example.test/oauth/callback?",          /* empty query */
        "https://app.example.test/oauth/callback#frag",      /* fragment */
        "https://app.example.test/oauth/callback#",          /* empty fragment */
        "https://app.example.test/oauth%2Fcallback",         /* encoded '/' */
        "https://app.example.test/oauth/%63allback",         /* encoded 'c' */
        "https%3A%2F%2Fapp.example.test%2Foauth%2Fcallback", /* fully encoded */
        "https://app.example.test:443/oauth/callback",       /* explicit default port */
        "https://app.example.test./oauth/callback",          /* trailing dot */
        "https://app.example.test//oauth/callback",          /* double slash */
        "http://app.example.test/oauth/callback",            /* scheme downgrade */
        " https://app.example.test/oauth/callback",          /* leading space */
        "https://app.example.test/oauth/callback ",          /* trailing space */
        "https://app.example.test/oauth/callback\n",         /* trailing LF */
        "https://evil.test/?https://app.example.test/oauth/callback",
        "http://127.0.0.1:8080/cb/",
        "http://127.0.0.1:8081/cb",
        "http://localhost:8080/cb", /* same machine, different spelling */
        "http://127.0.0.1:8080/CB",
        "http://127.0.0.1:8080",
    };
    lf_auth_config cfg;
    lf_auth *a;
    unit_config(&cfg);
    cfg.redirect_uris = g_list;
    cfg.redirect_uri_count = 2;
    a = unit_new(&cfg);
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        char buf[1024];
        size_t needed = 0;
        lf_status s;
        strcpy(buf, "junk");
        s = lf_consent_url(a, near[i], "products", "s", buf, sizeof buf, &needed);
        if (s != LF_E_REDIRECT_URI_NOT_ALLOWED) {
            print_error("redirect_uri \"%s\": %s, expected LF_E_REDIRECT_URI_NOT_ALLOWED\n", near[i],
                        lf_status_name(s));
            fail();
        }
        assert_string_equal(buf, "");
        /* A size query does not bypass the check. */
        assert_status(lf_consent_url(a, near[i], "products", "s", NULL, 0, &needed), LF_E_REDIRECT_URI_NOT_ALLOWED);
    }
    lf_auth_free(a);
}

/* ---- URL rules in lf_auth_new -------------------------------------------- */

enum url_field { F_REDIRECT, F_AUTHORIZE, F_TOKEN, F_API };
static const char *const g_field_names[] = {"redirect_uris[0]", "authorize_url", "token_url", "api_url"};

/* A valid config whose `field` is `url` (storage for redirect_uris in *list). */
static void config_with_url(lf_auth_config *cfg, const char **list, enum url_field field, const char *url) {
    unit_config(cfg);
    list[0] = UNIT_REDIRECT_URI;
    cfg->redirect_uris = list;
    cfg->redirect_uri_count = 1;
    switch (field) {
    case F_REDIRECT:
        list[0] = url;
        break;
    case F_AUTHORIZE:
        cfg->authorize_url = url;
        break;
    case F_TOKEN:
        cfg->token_url = url;
        break;
    case F_API:
        cfg->api_url = url;
        break;
    }
}

/* Tries every URL in every URL field and reports all mismatches at once. */
static void each_field_expect(const char *const *urls, size_t n, lf_status expected) {
    int failures = 0;
    for (int f = F_REDIRECT; f <= F_API; f++) {
        for (size_t i = 0; i < n; i++) {
            const char *list[1];
            lf_auth_config cfg;
            lf_auth *a = (lf_auth *)(uintptr_t)0x1;
            lf_error err;
            lf_status s;
            config_with_url(&cfg, list, (enum url_field)f, urls[i]);
            s = lf_auth_new(&cfg, &a, &err);
            if (s != expected) {
                print_error("%s = \"%s\": lf_auth_new returned %s (%s), expected %s\n", g_field_names[f], urls[i],
                            lf_status_name(s), s != LF_OK ? err.message : "", lf_status_name(expected));
                failures++;
            } else if (s != LF_OK && (a != NULL || err.status != s)) {
                print_error("%s = \"%s\": *out not NULL or err.status wrong\n", g_field_names[f], urls[i]);
                failures++;
            }
            if (s == LF_OK) lf_auth_free(a);
        }
    }
    assert_int_equal(failures, 0);
}

static void test_plain_http_to_non_loopback_is_insecure(void **st) {
    (void)st;
    static const char *const urls[] = {
        "http://example.com/x",
        "http://app.example.test/oauth/callback",
        "http://10.0.0.1/x",
        "http://192.168.1.10:8080/x",
        "http://0.0.0.0/x",
        "http://128.0.0.1/x",
        "http://127.0.0.1.nip.io/x",       /* loopback-looking name */
        "http://localhost.example.test/x", /* loopback-looking name */
        "http://[::2]/x",
    };
    each_field_expect(urls, sizeof urls / sizeof urls[0], LF_E_INSECURE_TRANSPORT);
}

static void test_other_schemes_are_insecure(void **st) {
    (void)st;
    static const char *const urls[] = {
        "ftp://example.com/x", "file://localhost/etc/passwd", "gopher://127.0.0.1/x",
        "ws://127.0.0.1/x",    "wss://example.com/x",
    };
    each_field_expect(urls, sizeof urls / sizeof urls[0], LF_E_INSECURE_TRANSPORT);
}

static void test_https_and_loopback_http_accepted(void **st) {
    (void)st;
    static const char *const urls[] = {
        "https://example.com/x",    "https://app.example.test:8443/oauth/callback",
        "http://127.0.0.1:8080/cb", "http://127.0.0.1/cb",
        "http://127.255.3.9:9/cb", /* all of 127.0.0.0/8 */
        "http://localhost/cb",      "http://localhost:3000/cb",
        "http://[::1]/cb",          "http://[::1]:9000/cb",
    };
    each_field_expect(urls, sizeof urls / sizeof urls[0], LF_OK);
}

static void test_relative_and_malformed_urls_invalid(void **st) {
    (void)st;
    static const char *const urls[] = {
        "", "/cb", "cb", "./cb", "//example.com/cb", "https://", "https:///cb", "https://exa mple.com/cb",
    };
    each_field_expect(urls, sizeof urls / sizeof urls[0], LF_E_INVALID_ARGUMENT);
}

/* User info is refused; the header names no single status for it, so either
 * "malformed" or "insecure" is accepted, but never success. The same holds
 * for URLs that are both another scheme and malformed. */
static void test_userinfo_refused(void **st) {
    (void)st;
    static const char *const urls[] = {
        "https://user:pass@example.com/cb",
        "https://user@example.com/cb",
        "https://:@example.com/cb",
        "http://127.0.0.1@evil.example/cb",
        "http://user@127.0.0.1/cb",
        "http://localhost:80@evil.example/cb",
        "javascript:alert(1)", /* another scheme, but also not hierarchical */
        "mailto:unit@example.test",
        "file:///etc/passwd", /* another scheme, but also host-less */
    };
    for (int f = F_REDIRECT; f <= F_API; f++) {
        for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
            char what[512];
            const char *list[1];
            lf_auth_config cfg;
            config_with_url(&cfg, list, (enum url_field)f, urls[i]);
            snprintf(what, sizeof what, "%s = \"%s\"", g_field_names[f], urls[i]);
            assert_new_fails_either(&cfg, LF_E_INVALID_ARGUMENT, LF_E_INSECURE_TRANSPORT, what);
        }
    }
}

static void test_one_bad_redirect_uri_spoils_the_list(void **st) {
    (void)st;
    static const char *const list[] = {"https://ok.example.test/cb", "http://bad.example.test/cb"};
    lf_auth_config cfg;
    unit_config(&cfg);
    cfg.redirect_uris = list;
    cfg.redirect_uri_count = 2;
    assert_new_fails(&cfg, LF_E_INSECURE_TRANSPORT, "second redirect URI http non-loopback");
}

/* ---- a handle without redirect URIs (1.1) -------------------------------- */

/* A handle made with redirect_uri_count 0 only signs and verifies webhooks and
 * calls the API: every call of the consent flow (consent URL, callback) is
 * LF_E_REDIRECT_URI_NOT_ALLOWED, with the caller's buffer left "". */
static void test_webhook_only_handle(void **st) {
    (void)st;
    static const char body[] = "{\"event\":\"order/created\"}";
    static const char query[] = "code=abc&state=s1";
    lf_auth_config cfg;
    lf_auth *a;
    lf_error err;
    char buf[512], url[512], sig[LF_SIGNATURE_BUFFER_SIZE], sealed[LF_SEALED_STATE_BUFFER_SIZE];
    size_t needed = 0;

    unit_config(&cfg);
    cfg.redirect_uris = NULL;
    cfg.redirect_uri_count = 0;
    a = unit_new(&cfg);

    /* Webhooks work. */
    assert_status(lf_webhook_sign(a, body, sizeof body - 1, sig, sizeof sig, NULL), LF_OK);
    assert_status(lf_webhook_verify(a, body, sizeof body - 1, sig), LF_OK);
    assert_status(lf_webhook_verify(a, body, sizeof body - 2, sig), LF_E_SIGNATURE_MISMATCH);

    /* The consent URL: no redirect URI is allowed, not even one that other
     * handles accept. */
    memset(buf, 'x', sizeof buf);
    assert_status(lf_consent_url(a, UNIT_REDIRECT_URI, "products", "s1", buf, sizeof buf, &needed),
                  LF_E_REDIRECT_URI_NOT_ALLOWED);
    assert_string_equal(buf, "");

    /* The callback, plain and sealed: refused before the URL is read, code "". */
    memset(buf, 'x', sizeof buf);
    lf_garbage_fill(&err, sizeof err);
    lf_assert_status_err(lf_parse_callback(a, query, "s1", buf, sizeof buf, &needed, &err),
                         LF_E_REDIRECT_URI_NOT_ALLOWED, &err);
    assert_int_equal(err.status, LF_E_REDIRECT_URI_NOT_ALLOWED);
    assert_non_null(strstr(err.message, "redirect URI"));
    assert_string_equal(buf, "");
    lf_assert_err_text(&err);
    lf_assert_no_secret_in_err(&err, "callback", UNIT_CLIENT_SECRET);

    assert_status(lf_state_seal(a, "session-1", sealed, sizeof sealed, NULL), LF_OK);
    snprintf(url, sizeof url, "code=abc&state=%s", sealed);
    memset(buf, 'x', sizeof buf);
    lf_garbage_fill(&err, sizeof err);
    lf_assert_status_err(lf_parse_callback_sealed(a, url, "session-1", 600, buf, sizeof buf, &needed, &err),
                         LF_E_REDIRECT_URI_NOT_ALLOWED, &err);
    assert_string_equal(buf, "");
    lf_assert_err_text(&err);

    /* NULL err is fine too. */
    assert_status(lf_parse_callback(a, query, NULL, buf, sizeof buf, NULL, NULL), LF_E_REDIRECT_URI_NOT_ALLOWED);

    /* Without a handle, lf_parse_callback parses as in 1.0. */
    assert_status(lf_parse_callback(NULL, query, "s1", buf, sizeof buf, NULL, NULL), LF_OK);
    assert_string_equal(buf, "abc");
    lf_auth_free(a);

    /* A handle with redirect URIs parses the same query. */
    a = unit_default_auth();
    assert_status(lf_parse_callback(a, query, "s1", buf, sizeof buf, NULL, NULL), LF_OK);
    assert_string_equal(buf, "abc");
    lf_auth_free(a);

    /* A count with a NULL list is still an error. */
    unit_config(&cfg);
    cfg.redirect_uris = NULL;
    cfg.redirect_uri_count = 1;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "redirect_uris NULL with a count");
}

/* ---- required fields and ranges ------------------------------------------ */

static void test_required_fields(void **st) {
    (void)st;
    static const char *const with_null[] = {UNIT_REDIRECT_URI, NULL};
    lf_auth_config cfg;

    unit_config(&cfg);
    assert_new_ok(&cfg, "baseline");

    unit_config(&cfg);
    cfg.client_id = NULL;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_id NULL");
    unit_config(&cfg);
    cfg.client_id = "";
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_id empty");
    unit_config(&cfg);
    cfg.client_secret = NULL;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_secret NULL");
    unit_config(&cfg);
    cfg.client_secret = "";
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_secret empty");
    unit_config(&cfg);
    cfg.redirect_uri_count = 0; /* valid since 1.1: a webhook-only handle (above) */
    assert_new_ok(&cfg, "zero redirect URIs");
    unit_config(&cfg);
    cfg.redirect_uris = NULL;
    cfg.redirect_uri_count = 0;
    assert_new_ok(&cfg, "no redirect URI list");
    unit_config(&cfg);
    cfg.redirect_uris = NULL;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "redirect_uris NULL");
    unit_config(&cfg);
    cfg.redirect_uris = with_null;
    cfg.redirect_uri_count = 2;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "redirect_uris[1] NULL");
    unit_config(&cfg);
    cfg.previous_client_secret = NULL; /* optional */
    assert_new_ok(&cfg, "previous_client_secret NULL");
}

static void test_timeouts_and_limits(void **st) {
    (void)st;
    lf_auth_config cfg;
    static const long bad[] = {0, -1, -30000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unit_config(&cfg);
        cfg.connect_timeout_ms = bad[i];
        assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "connect_timeout_ms <= 0");
        unit_config(&cfg);
        cfg.timeout_ms = bad[i];
        assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "timeout_ms <= 0");
    }
    unit_config(&cfg);
    cfg.max_response_bytes = 0;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "max_response_bytes 0");

    unit_config(&cfg);
    cfg.connect_timeout_ms = 1;
    cfg.timeout_ms = 1;
    cfg.max_response_bytes = 1;
    assert_new_ok(&cfg, "smallest positive limits");
}

static void test_client_auth_values(void **st) {
    (void)st;
    lf_auth_config cfg;
    unit_config(&cfg);
    cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
    assert_new_ok(&cfg, "JSON_BODY");
    cfg.client_auth = LF_CLIENT_AUTH_BASIC;
    assert_new_ok(&cfg, "BASIC");
    cfg.client_auth = LF_CLIENT_AUTH_AUTO;
    assert_new_ok(&cfg, "AUTO");
    cfg.client_auth = (lf_client_auth)3;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_auth 3");
    cfg.client_auth = (lf_client_auth)99;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "client_auth 99");

    /* A ':' in client_id cannot be carried by Basic authentication. */
    unit_config(&cfg);
    cfg.client_id = "unit:client";
    cfg.client_auth = LF_CLIENT_AUTH_BASIC;
    assert_new_fails(&cfg, LF_E_INVALID_ARGUMENT, "':' in client_id with BASIC");
    cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
    assert_new_ok(&cfg, "':' in client_id with JSON_BODY");
}

/* ---- lf_auth_config.struct_size ------------------------------------------ */

/* A config with room past sizeof, so an oversized struct_size is readable. */
typedef union big_config {
    lf_auth_config cfg;
    unsigned char bytes[sizeof(lf_auth_config) + 64];
} big_config;

/* A valid config whose optional fields hold values that would make
 * lf_auth_new fail if they were read (callers set struct_size so that they
 * lie outside it). */
static void config_with_garbage_tail(big_config *b) {
    lf_auth_config *cfg = &b->cfg;
    memset(b, 0, sizeof *b);
    unit_config(cfg);
    cfg->authorize_url = "http://insecure.example.test/oauth";
    cfg->token_url = "ftp://insecure.example.test/token";
    cfg->api_url = "not a url";
    cfg->client_auth = (lf_client_auth)77;
    cfg->connect_timeout_ms = -5;
    cfg->timeout_ms = -5;
    cfg->max_response_bytes = 0;
    cfg->ca_file = "/nonexistent/unit-ca.pem";
}

static void assert_default_authorize_url(const lf_auth *a) {
    char buf[1024];
    assert_status(lf_consent_url(a, UNIT_REDIRECT_URI, "products", NULL, buf, sizeof buf, NULL), LF_OK);
    assert_true(strncmp(buf, UNIT_DEFAULT_AUTHORIZE_URL "?", strlen(UNIT_DEFAULT_AUTHORIZE_URL) + 1) == 0);
}

static void test_struct_size_covering_required_fields_only(void **st) {
    (void)st;
    big_config b;
    lf_auth *a;
    size_t size = offsetof(lf_auth_config, authorize_url);
    assert_int_equal(size, offsetof(lf_auth_config, redirect_uri_count) + sizeof(size_t));
    config_with_garbage_tail(&b);
    b.cfg.struct_size = size;
    a = unit_new(&b.cfg); /* the garbage past struct_size is never read */
    assert_default_authorize_url(a);
    lf_auth_free(a);
}

/* A struct_size that ends inside a field: that field is not "inside" and
 * must not be read (its tail bytes are guard garbage, a wild pointer). */
static void test_struct_size_ending_mid_field(void **st) {
    (void)st;
    big_config b;
    lf_auth *a;
    size_t size = offsetof(lf_auth_config, authorize_url) + 3;
    config_with_garbage_tail(&b);
    unit_guard_fill(b.bytes + size, sizeof b.bytes - size);
    b.cfg.struct_size = size;
    a = unit_new(&b.cfg);
    assert_default_authorize_url(a);
    lf_auth_free(a);
}

/* Fields inside struct_size are read, those past it take defaults. */
static void test_struct_size_partial_optional_fields(void **st) {
    (void)st;
    big_config b;
    lf_auth *a;
    char buf[1024];
    size_t size = offsetof(lf_auth_config, client_auth);
    config_with_garbage_tail(&b);
    b.cfg.authorize_url = "https://auth.example.test/custom";
    b.cfg.token_url = UNIT_DEAD_TOKEN_URL;
    b.cfg.api_url = UNIT_DEAD_API_URL;
    b.cfg.struct_size = size;
    a = unit_new(&b.cfg);
    assert_status(lf_consent_url(a, UNIT_REDIRECT_URI, "products", NULL, buf, sizeof buf, NULL), LF_OK);
    assert_true(strncmp(buf, "https://auth.example.test/custom?", 33) == 0);
    lf_auth_free(a);

    /* ...and an insecure URL inside struct_size is still refused. */
    config_with_garbage_tail(&b);
    b.cfg.struct_size = size;
    assert_new_fails(&b.cfg, LF_E_INSECURE_TRANSPORT, "insecure authorize_url inside struct_size");
}

static void test_struct_size_full(void **st) {
    (void)st;
    lf_auth_config cfg;
    unit_config(&cfg);
    assert_int_equal(cfg.struct_size, sizeof cfg);
    assert_new_ok(&cfg, "struct_size = sizeof");
}

static void test_struct_size_too_small_or_too_large(void **st) {
    (void)st;
    big_config b;
    const size_t bad[] = {
        0,
        1,
        sizeof(size_t),
        offsetof(lf_auth_config, redirect_uri_count),                      /* count not covered */
        offsetof(lf_auth_config, redirect_uri_count) + sizeof(size_t) - 1, /* partly */
        sizeof(lf_auth_config) + 1,
        sizeof(lf_auth_config) + 8,
        sizeof(lf_auth_config) + 64,
        (size_t)-1,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        memset(&b, 0, sizeof b); /* zero tail: a valid-looking extension */
        unit_config(&b.cfg);
        b.cfg.struct_size = bad[i];
        snprintf(what, sizeof what, "struct_size %zu", bad[i]);
        assert_new_fails(&b.cfg, LF_E_INVALID_ARGUMENT, what);
    }
}

/* ---- lf_auth_config_init writes only within size -------------------------- */

static void test_config_init_writes_only_within_size(void **st) {
    (void)st;
    const size_t sizes[] = {
        sizeof(size_t),
        offsetof(lf_auth_config, authorize_url),
        offsetof(lf_auth_config, authorize_url) + 3,
        offsetof(lf_auth_config, client_auth),
        offsetof(lf_auth_config, user_agent),
        sizeof(lf_auth_config),
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        big_config b;
        unit_guard_fill(&b, sizeof b);
        lf_auth_config_init(&b.cfg, sizes[i]);
        assert_int_equal(b.cfg.struct_size, sizes[i]);
        unit_assert_guard(b.bytes, sizes[i], sizeof b.bytes);
        if (sizes[i] >= offsetof(lf_auth_config, authorize_url)) {
            assert_null(b.cfg.client_id);
            assert_null(b.cfg.client_secret);
            assert_null(b.cfg.previous_client_secret);
            assert_null(b.cfg.redirect_uris);
            assert_int_equal(b.cfg.redirect_uri_count, 0);
        }
    }
}

static void test_config_init_full_defaults(void **st) {
    (void)st;
    big_config b;
    unit_guard_fill(&b, sizeof b);
    lf_auth_config_init(&b.cfg, sizeof b.cfg);
    unit_assert_guard(b.bytes, sizeof b.cfg, sizeof b.bytes);
    assert_int_equal(b.cfg.struct_size, sizeof b.cfg);
    assert_null(b.cfg.client_id);
    assert_null(b.cfg.authorize_url);
    assert_null(b.cfg.token_url);
    assert_null(b.cfg.api_url);
    assert_null(b.cfg.ca_file);
    assert_null(b.cfg.user_agent);
    /* the platform's documented method since 2025-02 (1.0: JSON_BODY) */
    assert_int_equal(b.cfg.client_auth, LF_CLIENT_AUTH_BASIC);
}

static void test_config_init_too_small_does_nothing(void **st) {
    (void)st;
    const size_t sizes[] = {0, 1, sizeof(size_t) - 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        big_config b;
        unit_guard_fill(&b, sizeof b);
        lf_auth_config_init(&b.cfg, sizes[i]);
        unit_assert_guard(b.bytes, 0, sizeof b.bytes);
    }
    lf_auth_config_init(NULL, sizeof(lf_auth_config)); /* no crash */
}

/* ---- lf_call_options ------------------------------------------------------ */

typedef union big_options {
    lf_call_options o;
    unsigned char bytes[sizeof(lf_call_options) + 64];
} big_options;

static void test_call_options_init_writes_only_within_size(void **st) {
    (void)st;
    const size_t sizes[] = {sizeof(size_t), offsetof(lf_call_options, cancel), sizeof(lf_call_options)};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        big_options b;
        unit_guard_fill(&b, sizeof b);
        lf_call_options_init(&b.o, sizes[i]);
        assert_int_equal(b.o.struct_size, sizes[i]);
        unit_assert_guard(b.bytes, sizes[i], sizeof b.bytes);
        if (sizes[i] >= offsetof(lf_call_options, cancel)) assert_int_equal(b.o.timeout_ms, 0);
        if (sizes[i] == sizeof(lf_call_options)) assert_null(b.o.cancel);
    }
    {
        big_options b;
        unit_guard_fill(&b, sizeof b);
        lf_call_options_init(&b.o, 0);
        unit_assert_guard(b.bytes, 0, sizeof b.bytes);
    }
    lf_call_options_init(NULL, sizeof(lf_call_options)); /* no crash */
}

/* Bad options are refused before any network (the handle's token URL is a
 * dead loopback port: reaching it would give LF_E_NETWORK instead). */
static void assert_exchange_ex_rejects(const lf_auth *a, const lf_call_options *o, const char *what) {
    lf_token *t = (lf_token *)(uintptr_t)0x1;
    lf_error err;
    lf_status s = lf_exchange_code_ex(a, "unit-FAKE-code-5e2b", o, &t, &err);
    if (s != LF_E_INVALID_ARGUMENT) {
        print_error("%s: lf_exchange_code_ex returned %s, expected LF_E_INVALID_ARGUMENT\n", what, lf_status_name(s));
        fail();
    }
    assert_null(t);
    assert_int_equal(err.status, LF_E_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 0);
    assert_null(strstr(err.message, "unit-FAKE-code-5e2b"));
}

static void test_call_options_struct_size_and_timeout_rules(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    big_options b;
    const size_t bad_sizes[] = {
        0, 1, sizeof(size_t) - 1, sizeof(lf_call_options) + 1, sizeof(lf_call_options) + 64, (size_t)-1};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        char what[64];
        memset(&b, 0, sizeof b);
        lf_call_options_init(&b.o, sizeof b.o);
        b.o.struct_size = bad_sizes[i];
        snprintf(what, sizeof what, "options struct_size %zu", bad_sizes[i]);
        assert_exchange_ex_rejects(a, &b.o, what);
    }
    memset(&b, 0, sizeof b);
    lf_call_options_init(&b.o, sizeof b.o);
    b.o.timeout_ms = -1;
    assert_exchange_ex_rejects(a, &b.o, "timeout_ms -1");
    b.o.timeout_ms = -100000;
    assert_exchange_ex_rejects(a, &b.o, "timeout_ms -100000");
    lf_auth_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_entries_allowed),
        cmocka_unit_test(test_near_misses_not_allowed),
        cmocka_unit_test(test_plain_http_to_non_loopback_is_insecure),
        cmocka_unit_test(test_other_schemes_are_insecure),
        cmocka_unit_test(test_https_and_loopback_http_accepted),
        cmocka_unit_test(test_relative_and_malformed_urls_invalid),
        cmocka_unit_test(test_userinfo_refused),
        cmocka_unit_test(test_one_bad_redirect_uri_spoils_the_list),
        cmocka_unit_test(test_webhook_only_handle),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_timeouts_and_limits),
        cmocka_unit_test(test_client_auth_values),
        cmocka_unit_test(test_struct_size_covering_required_fields_only),
        cmocka_unit_test(test_struct_size_ending_mid_field),
        cmocka_unit_test(test_struct_size_partial_optional_fields),
        cmocka_unit_test(test_struct_size_full),
        cmocka_unit_test(test_struct_size_too_small_or_too_large),
        cmocka_unit_test(test_config_init_writes_only_within_size),
        cmocka_unit_test(test_config_init_full_defaults),
        cmocka_unit_test(test_config_init_too_small_does_nothing),
        cmocka_unit_test(test_call_options_init_writes_only_within_size),
        cmocka_unit_test(test_call_options_struct_size_and_timeout_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
