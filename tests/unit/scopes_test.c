/*
 * The `scopes` argument of lf_consent_url(): a comma-separated list;
 * surrounding whitespace trimmed, empty entries and duplicates dropped (the
 * first occurrence keeps its place); each scope must match [a-z0-9_]+
 * (unknown names allowed); at least one must remain. A bad list is
 * LF_E_INVALID_ARGUMENT and leaves the buffer an empty string.
 */
#include "unit_support.h"

/* The raw scope parameter of the consent URL built for `scopes`. */
static void assert_scope_becomes(const char *scopes, const char *expected) {
    char url[2048];
    size_t plen = strlen(UNIT_DEFAULT_AUTHORIZE_URL);
    unit_query q;
    const unit_param *p;
    lf_status s = lf_consent_url(g_auth, UNIT_REDIRECT_URI, scopes, "st", url, sizeof url, NULL);
    if (s != LF_OK) {
        print_error("scopes \"%s\": %s, expected LF_OK\n", scopes, lf_status_name(s));
        fail();
    }
    assert_true(strncmp(url, UNIT_DEFAULT_AUTHORIZE_URL "?", plen + 1) == 0);
    unit_split_query(url + plen + 1, &q);
    p = unit_query_get(&q, "scope");
    assert_non_null(p);
    if (p->raw_len != strlen(expected) || memcmp(p->raw, expected, p->raw_len) != 0) {
        print_error("scopes \"%s\" became \"%.*s\", expected \"%s\"\n", scopes, (int)p->raw_len, p->raw, expected);
        fail();
    }
}

static void assert_scopes_rejected(const char *scopes) {
    char url[2048];
    size_t needed = 0;
    lf_status s;
    strcpy(url, "junk");
    s = lf_consent_url(g_auth, UNIT_REDIRECT_URI, scopes, "st", url, sizeof url, &needed);
    if (s != LF_E_INVALID_ARGUMENT) {
        print_error("scopes \"%s\": %s, expected LF_E_INVALID_ARGUMENT\n", scopes, lf_status_name(s));
        fail();
    }
    assert_string_equal(url, "");
    /* Also as a size query: a bad list is not "buffer too small". */
    assert_status(lf_consent_url(g_auth, UNIT_REDIRECT_URI, scopes, "st", NULL, 0, &needed), LF_E_INVALID_ARGUMENT);
}

static void test_single_scope(void **st) {
    (void)st;
    assert_scope_becomes("products", "products");
}

static void test_normalisation_example_from_contract(void **st) {
    (void)st;
    assert_scope_becomes(" products, ,orders,products ", "products,orders");
}

static void test_order_is_kept_not_sorted(void **st) {
    (void)st;
    assert_scope_becomes("orders,products", "orders,products");
    assert_scope_becomes("settings,analytics,funnels", "settings,analytics,funnels");
}

static void test_whitespace_trimmed(void **st) {
    (void)st;
    assert_scope_becomes("  products  ", "products");
    assert_scope_becomes("\tproducts\t,\torders ", "products,orders");
    assert_scope_becomes("products ,  orders", "products,orders");
}

static void test_empty_entries_dropped(void **st) {
    (void)st;
    assert_scope_becomes(",products", "products");
    assert_scope_becomes("products,", "products");
    assert_scope_becomes(",,products,,,orders,,", "products,orders");
    assert_scope_becomes("products, ,\t,orders", "products,orders");
}

static void test_duplicates_dropped_first_kept(void **st) {
    (void)st;
    assert_scope_becomes("orders,orders,orders", "orders");
    assert_scope_becomes("b_scope,a_scope,b_scope,a_scope", "b_scope,a_scope");
    assert_scope_becomes("products, products ,orders, products", "products,orders");
}

static void test_all_known_scopes(void **st) {
    (void)st;
    assert_scope_becomes(
        "funnels,orders,products,analytics,customers,discounts,"
        "contact_form_data,settings",
        "funnels,orders,products,analytics,customers,discounts,"
        "contact_form_data,settings");
}

static void test_unknown_names_allowed(void **st) {
    (void)st;
    assert_scope_becomes("future_scope_2", "future_scope_2");
    assert_scope_becomes("products,x9,_,0", "products,x9,_,0");
}

static void test_malformed_scope_rejected(void **st) {
    (void)st;
    static const char *const bad[] = {
        "Products",         /* upper case */
        "products,Orders",  /* one bad entry spoils the list */
        "a-b",              /* dash */
        "a b",              /* internal space is not trimming */
        "a\tb",             /* internal tab */
        "\xc3\xa9",         /* é */
        "caf\xc3\xa9",      /* non-ASCII inside */
        "a.b",              /* dot */
        "a;b",              /* ';' is not a separator */
        "a%2Cb",            /* no decoding of the scope list */
        "products orders",  /* space is not a separator */
        "products,orders!", /* punctuation */
        "prod\"ucts",       /* quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_scopes_rejected(bad[i]);
}

static void test_empty_list_rejected(void **st) {
    (void)st;
    assert_scopes_rejected("");
    assert_scopes_rejected(",, ,");
    assert_scopes_rejected("   ");
    assert_scopes_rejected(",");
    assert_scopes_rejected("\t,\t");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_scope),
        cmocka_unit_test(test_normalisation_example_from_contract),
        cmocka_unit_test(test_order_is_kept_not_sorted),
        cmocka_unit_test(test_whitespace_trimmed),
        cmocka_unit_test(test_empty_entries_dropped),
        cmocka_unit_test(test_duplicates_dropped_first_kept),
        cmocka_unit_test(test_all_known_scopes),
        cmocka_unit_test(test_unknown_names_allowed),
        cmocka_unit_test(test_malformed_scope_rejected),
        cmocka_unit_test(test_empty_list_rejected),
    };
    return cmocka_run_group_tests(tests, unit_group_setup, unit_group_teardown);
}
