/*
 * Server text in lf_error (the sanitiser behind err.key and err.message),
 * driven through lf_parse_callback's error= path, where the text comes
 * straight from the redirect:
 *  - C1 controls (U+0080..U+009F: CSI, NEL, ...) and the bidirectional
 *    formatting characters (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F,
 *    U+061C) become '?', one per character, like the C0 controls: a terminal
 *    that prints the error must not be driven or have its text reordered;
 *  - every other valid UTF-8 character comes through unchanged.
 */
#include "unit_support.h"

#define PREFIX "authorization was not granted: "

/* `s` with every byte outside printable ASCII as \xNN, so a failure report
 * does not itself drive the terminal it is printed on. */
static const char *shown(const char *s) {
    static char out[4][1200];
    static int slot;
    char *o = out[slot++ % 4];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n + 5 < sizeof out[0]; p++) {
        if (*p >= 0x20 && *p < 0x7F)
            o[n++] = (char)*p;
        else
            n += (size_t)snprintf(o + n, 5, "\\x%02X", (unsigned)*p);
    }
    o[n] = '\0';
    return o;
}

/* error=<key_enc>&error_description=<desc_enc>: LF_E_ACCESS_DENIED, err filled. */
static lf_error denied(const char *key_enc, const char *desc_enc) {
    char input[4096];
    char buf[64];
    lf_error err;
    int n = snprintf(input, sizeof input, "error=%s&error_description=%s", key_enc, desc_enc);
    assert_true(n > 0 && (size_t)n < sizeof input);
    lf_garbage_fill(&err, sizeof err);
    assert_status(lf_parse_callback(NULL, input, NULL, buf, sizeof buf, NULL, &err), LF_E_ACCESS_DENIED);
    assert_int_equal(err.status, LF_E_ACCESS_DENIED);
    assert_non_null(memchr(err.key, '\0', sizeof err.key));
    assert_non_null(memchr(err.message, '\0', sizeof err.message));
    return err;
}

/* The description `enc` (percent-encoded) must come out as exactly `want`,
 * and the same text as the error key too. */
static void expect_text(const char *enc, const char *want) {
    char msg[sizeof(((lf_error *)0)->message)];
    lf_error err = denied("access_denied", enc);
    snprintf(msg, sizeof msg, PREFIX "%s", want);
    if (strcmp(err.message, msg) != 0) {
        print_error("description %s\n  message \"%s\"\n  expected \"%s\"\n", enc, shown(err.message), shown(msg));
        fail();
    }
    err = denied(enc, "");
    if (strcmp(err.key, want) != 0) {
        print_error("key %s\n  key \"%s\"\n  expected \"%s\"\n", enc, shown(err.key), shown(want));
        fail();
    }
}

static const struct {
    const char *enc;
    const char *name;
} g_unsafe[] = {
    {"%C2%80", "U+0080 PAD"},    {"%C2%85", "U+0085 NEL"},    {"%C2%8D", "U+008D RI"},     {"%C2%90", "U+0090 DCS"},
    {"%C2%9B", "U+009B CSI"},    {"%C2%9D", "U+009D OSC"},    {"%C2%9F", "U+009F APC"},    {"%D8%9C", "U+061C ALM"},
    {"%E2%80%8E", "U+200E LRM"}, {"%E2%80%8F", "U+200F RLM"}, {"%E2%80%AA", "U+202A LRE"}, {"%E2%80%AB", "U+202B RLE"},
    {"%E2%80%AC", "U+202C PDF"}, {"%E2%80%AD", "U+202D LRO"}, {"%E2%80%AE", "U+202E RLO"}, {"%E2%81%A6", "U+2066 LRI"},
    {"%E2%81%A7", "U+2067 RLI"}, {"%E2%81%A8", "U+2068 FSI"}, {"%E2%81%A9", "U+2069 PDI"},
};

static void test_each_unsafe_character_becomes_a_question_mark(void **st) {
    (void)st;
    for (size_t i = 0; i < sizeof g_unsafe / sizeof g_unsafe[0]; i++) {
        char enc[64];
        snprintf(enc, sizeof enc, "before%safter", g_unsafe[i].enc);
        print_message("%s\n", g_unsafe[i].name);
        expect_text(enc, "before?after");
    }
}

/* What an attacker would actually send: a CSI colour/erase sequence, an OSC
 * title change, a NEL line break faking a second log line, and a filename
 * whose extension an RLO or isolate turns around. */
static void test_terminal_and_reordering_attacks(void **st) {
    (void)st;
    expect_text("x%C2%9B2J%C2%9B31mred", "x?2J?31mred");
    expect_text("%C2%9D0%3Btitle%C2%9C", "?0;title?");
    expect_text("ok%C2%85lf-auth%3A+token+saved", "ok?lf-auth: token saved");
    expect_text("invoice%E2%80%AEfdp.exe", "invoice?fdp.exe");
    expect_text("%E2%81%A7abc%E2%81%A9%E2%80%8F", "?abc??");
    /* back to back, nothing else: one '?' each */
    expect_text("%C2%9B%E2%80%AE%E2%81%A6%C2%85%D8%9C", "?????");
}

/* Nothing in the key or message carries one of the sequences, whatever the
 * mix and however long the text (the key is cut at 63 bytes, the message at
 * 255: a sequence cut in half must not survive either). */
static void test_long_mixed_text_is_clean(void **st) {
    (void)st;
    static const char *const raw[] = {"\xC2\x80",     "\xC2\x85",     "\xC2\x9B",     "\xC2\x9F",
                                      "\xD8\x9C",     "\xE2\x80\x8E", "\xE2\x80\x8F", "\xE2\x80\xAA",
                                      "\xE2\x80\xAE", "\xE2\x81\xA6", "\xE2\x81\xA9"};
    char enc[1024];
    size_t o = 0;
    for (size_t i = 0; o + 16 < 1000; i++) {
        const char *e = g_unsafe[i % (sizeof g_unsafe / sizeof g_unsafe[0])].enc;
        o += (size_t)snprintf(enc + o, sizeof enc - o, "%s%s", i % 3 ? "" : "a", e);
    }
    enc[o] = '\0';
    lf_error err = denied(enc, enc); /* the key is cut at 63 decoded bytes */
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        if (strstr(err.message, raw[i]) != NULL || strstr(err.key, raw[i]) != NULL) {
            print_error("sequence #%zu survived: message \"%s\" key \"%s\"\n", i, shown(err.message), shown(err.key));
            fail();
        }
    }
    assert_true(strlen(err.message) > strlen(PREFIX) + 50);
    assert_true(strlen(err.key) > 20);
    for (const char *p = err.message + strlen(PREFIX); *p != '\0'; p++) assert_true(*p == 'a' || *p == '?');
    for (const char *p = err.key; *p != '\0'; p++) assert_true(*p == 'a' || *p == '?');
}

/* Ordinary text, including the neighbours of the replaced ranges, is kept. */
static void test_ordinary_non_ascii_kept(void **st) {
    (void)st;
    expect_text("caf%C3%A9", "caf\xC3\xA9");                                     /* café */
    expect_text("%E6%B3%A8%E6%96%87", "\xE6\xB3\xA8\xE6\x96\x87");               /* 注文 */
    expect_text("%D8%B7%D9%84%D8%A8", "\xD8\xB7\xD9\x84\xD8\xA8");               /* طلب (right-to-left text) */
    expect_text("%D7%A9%D7%9C%D7%95%D7%9D", "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"); /* שלום */
    expect_text("%C2%A0%C2%BF%C2%A9", "\xC2\xA0\xC2\xBF\xC2\xA9");               /* U+00A0 U+00BF U+00A9 */
    expect_text("%C3%80%C3%9F", "\xC3\x80\xC3\x9F");                             /* À ß: second byte 80..9F */
    expect_text("%D8%9B%D8%9D", "\xD8\x9B\xD8\x9D");                             /* U+061B U+061D */
    expect_text("%E2%80%8D%E2%80%8C", "\xE2\x80\x8D\xE2\x80\x8C");               /* ZWJ ZWNJ */
    expect_text("%E2%80%90%E2%80%94%E2%80%A9", "\xE2\x80\x90\xE2\x80\x94\xE2\x80\xA9");
    expect_text("%E2%80%AF%E2%81%A5%E2%81%AA", "\xE2\x80\xAF\xE2\x81\xA5\xE2\x81\xAA");
    expect_text("%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB", "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB");
    expect_text("%E2%82%AC+5%2C00", "\xE2\x82\xAC 5,00"); /* € 5,00 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_unsafe_character_becomes_a_question_mark),
        cmocka_unit_test(test_terminal_and_reordering_attacks),
        cmocka_unit_test(test_long_mixed_text_is_clean),
        cmocka_unit_test(test_ordinary_non_ascii_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
