/*
 * lf_consent_url(): the consent-screen URL
 *   <authorize_url>?client_id=..&redirect_uri=..&scope=a,b[&state=..]
 * Every value is percent-encoded (all but A-Z a-z 0-9 - . _ ~), so a strict,
 * independent decoder (unit_pct_decode) gives back exactly the input; the
 * commas between scopes stay literal; a NULL state omits the parameter and
 * an empty one is rejected.
 */
#include "unit_support.h"

/* Builds the URL through a size query followed by an exact-size buffer and
 * checks the buffer convention on the way. Returns a malloc'd string. */
static char *build(const lf_auth *a, const char *redirect_uri, const char *scopes, const char *state) {
    size_t needed = 0, needed2 = 0;
    char *buf;
    assert_status(lf_consent_url(a, redirect_uri, scopes, state, NULL, 0, &needed), LF_E_BUFFER_TOO_SMALL);
    assert_true(needed > 1);
    buf = (char *)malloc(needed);
    assert_non_null(buf);
    assert_status(lf_consent_url(a, redirect_uri, scopes, state, buf, needed, &needed2), LF_OK);
    assert_int_equal(needed2, needed);
    assert_int_equal(strlen(buf) + 1, needed);
    return buf;
}

/* The output is plain ASCII with no raw space, CR, LF, '#', control or
 * non-ASCII byte, anywhere. */
static void assert_url_is_clean(const char *url) {
    for (const unsigned char *p = (const unsigned char *)url; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7F || *p == '#') {
            print_error("raw byte 0x%02x at offset %zu of %s\n", (unsigned)*p, (size_t)(p - (const unsigned char *)url),
                        url);
            fail();
        }
    }
}

/* Checks the whole URL: prefix, parameter order, each value decodes back to
 * its input, scope raw text. */
static void assert_consent_url(const char *url, const char *authorize_url, const char *client_id,
                               const char *redirect_uri, const char *scope_raw, const char *state) {
    size_t plen = strlen(authorize_url);
    unit_query q;
    const unit_param *scope;

    assert_url_is_clean(url);
    if (strncmp(url, authorize_url, plen) != 0 || url[plen] != '?') {
        print_error("URL %s does not start with %s?\n", url, authorize_url);
        fail();
    }
    unit_split_query(url + plen + 1, &q);
    assert_int_equal(q.count, state != NULL ? 4 : 3);
    assert_string_equal(q.p[0].name, "client_id");
    assert_string_equal(q.p[1].name, "redirect_uri");
    assert_string_equal(q.p[2].name, "scope");
    unit_assert_param_decodes_to(&q, "client_id", client_id);
    unit_assert_param_decodes_to(&q, "redirect_uri", redirect_uri);
    scope = unit_query_get(&q, "scope");
    assert_non_null(scope);
    assert_int_equal(scope->raw_len, strlen(scope_raw));
    assert_memory_equal(scope->raw, scope_raw, scope->raw_len);
    if (state != NULL) {
        assert_string_equal(q.p[3].name, "state");
        unit_assert_param_decodes_to(&q, "state", state);
    } else {
        assert_null(unit_query_get(&q, "state"));
    }
}

/* Byte-for-byte equality, except that the two hex digits after a '%' are
 * compared case-insensitively. */
static void assert_same_url(const char *got, const char *want) {
    size_t i = 0, hex = 0;
    for (;; i++) {
        char g = got[i], w = want[i];
        if (hex > 0) {
            hex--;
            if (g >= 'a' && g <= 'f') g = (char)(g - 'a' + 'A');
            if (w >= 'a' && w <= 'f') w = (char)(w - 'a' + 'A');
        }
        if (g != w) {
            print_error("URL differs at offset %zu:\n  got  %s\n  want %s\n", i, got, want);
            fail();
        }
        if (g == '\0') break;
        if (g == '%') hex = 2;
    }
}

static void test_plain_values_default_authorize_url(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    char *url = build(a, UNIT_REDIRECT_URI, "products,orders", "xyzSTATE123");
    assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "products,orders",
                       "xyzSTATE123");
    /* For plain values the whole URL is predictable (hex digits of an escape
     * may be either case). */
    assert_same_url(url,
                    "https://app.lightfunnels.com/admin/oauth?client_id=unit-client-id-7d3a51"
                    "&redirect_uri=https%3A%2F%2Fapp.example.test%2Foauth%2Fcallback"
                    "&scope=products,orders&state=xyzSTATE123");
    free(url);
    lf_auth_free(a);
}

static void test_state_null_omits_parameter(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    char *url = build(a, UNIT_REDIRECT_URI, "products", NULL);
    assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "products", NULL);
    assert_null(strstr(url, "state"));
    free(url);
    lf_auth_free(a);
}

static void test_empty_state_rejected(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    char buf[512];
    size_t needed = 0;
    strcpy(buf, "junk");
    assert_status(lf_consent_url(a, UNIT_REDIRECT_URI, "products", "", buf, sizeof buf, &needed),
                  LF_E_INVALID_ARGUMENT);
    assert_string_equal(buf, "");
    lf_auth_free(a);
}

static void test_hostile_client_id_round_trips(void **st) {
    (void)st;
    static const char *const ids[] = {
        "id with spaces",
        "a&b=c#d?e+f%g",
        "%41%2B%%25",
        "quote\"single'back`<>",
        "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80", /* café-€-😀 */
        "slash/colon:semi;comma,at@bang!star*paren()",
        "tilde~dot.dash-under_",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        lf_auth_config cfg;
        lf_auth *a;
        char *url;
        unit_config(&cfg);
        cfg.client_id = ids[i];
        /* HTTP Basic, the default, cannot carry a ':' in client_id; the JSON
         * body can, and the consent URL must encode it either way. */
        if (strchr(ids[i], ':')) cfg.client_auth = LF_CLIENT_AUTH_JSON_BODY;
        a = unit_new(&cfg);
        url = build(a, UNIT_REDIRECT_URI, "products,orders", "s1");
        assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, ids[i], UNIT_REDIRECT_URI, "products,orders", "s1");
        free(url);
        lf_auth_free(a);
    }
}

static void test_hostile_state_round_trips(void **st) {
    (void)st;
    static const char *const states[] = {
        "state with spaces",
        "a&b=c#d?e+f%g",
        "%41%2B%%25%",
        "+",
        "=",
        "&state=evil",
        "#frag",
        "quote\"single'<script>",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "line1\r\nline2\ttab",
        "comma,separated,state",
        "~-._",
    };
    lf_auth *a = unit_default_auth();
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        char *url = build(a, UNIT_REDIRECT_URI, "orders", states[i]);
        assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "orders", states[i]);
        free(url);
    }
    lf_auth_free(a);
}

/* Redirect URIs whose query is full of reserved characters that RFC 3986
 * allows raw: they must be accepted by lf_auth_new and round-trip exactly. */
static void test_hostile_redirect_uri_round_trips(void **st) {
    (void)st;
    static const char *const uris[] = {
        "https://app.example.test/cb?next=%2Fhome%3Fx%3D1&q=a+b&r='x'!*(),;:@=?&flag",
        "https://app.example.test/a+b/c%20d/e=f?x=1&y=2",
        "http://127.0.0.1:8080/callback?state_in_path=%25%26%23",
        "https://app.example.test:8443/cb?only",
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        const char *list[2];
        lf_auth_config cfg;
        lf_auth *a;
        char *url;
        list[0] = UNIT_REDIRECT_URI;
        list[1] = uris[i];
        unit_config(&cfg);
        cfg.redirect_uris = list;
        cfg.redirect_uri_count = 2;
        a = unit_new(&cfg);
        url = build(a, uris[i], "products", "s2");
        assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, uris[i], "products", "s2");
        free(url);
        lf_auth_free(a);
    }
}

/* Redirect URIs that are not strict RFC 3986 (raw space, '#' fragment, raw
 * UTF-8, '"'). The header lets lf_auth_new() call such a URL malformed
 * (LF_E_INVALID_ARGUMENT); if it accepts one, the consent URL must still
 * carry it byte for byte. */
static void test_irregular_redirect_uri_rejected_or_round_trips(void **st) {
    (void)st;
    static const char *const uris[] = {
        "https://app.example.test/cb?a=b c",
        "https://app.example.test/cb#fragment",
        "https://app.example.test/caf\xc3\xa9/cb",
        "https://app.example.test/cb?q=\"quoted\"",
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        lf_auth_config cfg;
        lf_auth *a = NULL;
        lf_status s;
        unit_config(&cfg);
        cfg.redirect_uris = &uris[i];
        cfg.redirect_uri_count = 1;
        s = lf_auth_new(&cfg, &a, NULL);
        if (s == LF_OK) {
            char *url = build(a, uris[i], "products", "s3");
            assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, uris[i], "products", "s3");
            free(url);
            lf_auth_free(a);
        } else {
            assert_status(s, LF_E_INVALID_ARGUMENT);
            assert_null(a);
        }
    }
}

static void test_second_allow_list_entry(void **st) {
    (void)st;
    static const char *const list[] = {"https://one.example.test/cb", "https://two.example.test/cb",
                                       "http://localhost:5000/cb"};
    lf_auth_config cfg;
    lf_auth *a;
    unit_config(&cfg);
    cfg.redirect_uris = list;
    cfg.redirect_uri_count = 3;
    a = unit_new(&cfg);
    for (size_t i = 0; i < 3; i++) {
        char *url = build(a, list[i], "products", "s");
        assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, list[i], "products", "s");
        free(url);
    }
    lf_auth_free(a);
}

static void test_commas_between_scopes_literal(void **st) {
    (void)st;
    lf_auth *a = unit_default_auth();
    char *url = build(a, UNIT_REDIRECT_URI, "funnels,orders,products,analytics,customers", "s");
    assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, UNIT_REDIRECT_URI,
                       "funnels,orders,products,analytics,customers", "s");
    assert_non_null(strstr(url, "&scope=funnels,orders,products,analytics,customers&"));
    assert_null(strstr(url, "%2C"));
    assert_null(strstr(url, "%2c"));
    free(url);
    lf_auth_free(a);
}

static void test_custom_authorize_url_https(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *a;
    char *url;
    unit_config(&cfg);
    cfg.authorize_url = "https://auth.example.test/custom/oauth";
    a = unit_new(&cfg);
    url = build(a, UNIT_REDIRECT_URI, "products", "st");
    assert_consent_url(url, "https://auth.example.test/custom/oauth", UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "products",
                       "st");
    free(url);
    lf_auth_free(a);
}

static void test_custom_authorize_url_loopback_http(void **st) {
    (void)st;
    lf_auth_config cfg;
    lf_auth *a;
    char *url;
    unit_config(&cfg);
    cfg.authorize_url = "http://127.0.0.1:8080/admin/oauth";
    a = unit_new(&cfg);
    url = build(a, UNIT_REDIRECT_URI, "orders", NULL);
    assert_consent_url(url, "http://127.0.0.1:8080/admin/oauth", UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "orders", NULL);
    free(url);
    lf_auth_free(a);
}

/* Property-style: 300 deterministic pseudo-random states and client ids
 * assembled from hostile pieces all round-trip. */
static void test_generated_values_round_trip(void **st) {
    (void)st;
    static const char *const pieces[] = {
        "a", "Z", "9",  " ",  "&",   "#", "+", "%", "=", "?", "\"", "'", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "/", ":", "\r", "\n", "%41", "~", "-", ".", "_", ",", "\t", "<", ">",        "\\",           "[",
        "]", "{", "}",  "|",  "^",   "`", "!", "$", "(", ")",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    uint32_t seed = 0x1234567u;
    lf_auth *a = unit_default_auth();
    for (int iter = 0; iter < 300; iter++) {
        char state[256];
        size_t len = 0;
        int count;
        seed = seed * 1103515245u + 12345u;
        count = 1 + (int)((seed >> 16) % 24);
        state[0] = '\0';
        for (int k = 0; k < count; k++) {
            const char *piece;
            seed = seed * 1103515245u + 12345u;
            piece = pieces[(seed >> 16) % npieces];
            memcpy(state + len, piece, strlen(piece) + 1);
            len += strlen(piece);
        }
        {
            char *url = build(a, UNIT_REDIRECT_URI, "products", state);
            assert_consent_url(url, UNIT_DEFAULT_AUTHORIZE_URL, UNIT_CLIENT_ID, UNIT_REDIRECT_URI, "products", state);
            free(url);
        }
    }
    lf_auth_free(a);
}

/* The checker itself: the decoder used above must be strict, or the
 * round-trip tests would prove nothing. */
static void test_reference_decoder_is_strict(void **st) {
    (void)st;
    static const char *const rejected[] = {"a+b", "a b", "%4",       "%G1", "%",    "a#", "a&b",
                                           "a=b", "a?b", "\xc3\xa9", "a,b", "a\"b", "a/b"};
    size_t len = 0;
    char *d;
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++)
        assert_null(unit_pct_decode(rejected[i], strlen(rejected[i]), NULL, &len));
    d = unit_pct_decode("%41%2b%2B%20~-._%00x", 20, NULL, &len);
    assert_non_null(d);
    assert_int_equal(len, 10);
    assert_memory_equal(d, "A++ ~-._\0x", 10);
    free(d);
    d = unit_pct_decode("a,b", 3, ",", &len);
    assert_non_null(d);
    assert_string_equal(d, "a,b");
    free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_decoder_is_strict),
        cmocka_unit_test(test_plain_values_default_authorize_url),
        cmocka_unit_test(test_state_null_omits_parameter),
        cmocka_unit_test(test_empty_state_rejected),
        cmocka_unit_test(test_hostile_client_id_round_trips),
        cmocka_unit_test(test_hostile_state_round_trips),
        cmocka_unit_test(test_hostile_redirect_uri_round_trips),
        cmocka_unit_test(test_irregular_redirect_uri_rejected_or_round_trips),
        cmocka_unit_test(test_second_allow_list_entry),
        cmocka_unit_test(test_commas_between_scopes_literal),
        cmocka_unit_test(test_custom_authorize_url_https),
        cmocka_unit_test(test_custom_authorize_url_loopback_http),
        cmocka_unit_test(test_generated_values_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
