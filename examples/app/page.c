#define _GNU_SOURCE /* open_memstream is POSIX 2008 */
#include "page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_SHOWN 10

static void put_escaped(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void put_time(FILE *f, long long t) {
    char buf[64];
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
        fputs(buf, f);
    else
        fprintf(f, "%lld", t);
}

static FILE *begin(char **text, size_t *len, const char *title) {
    FILE *f = open_memstream(text, len);
    if (!f) return NULL;
    fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>", f);
    put_escaped(f, title);
    fputs(
        "</title><style>body{font-family:sans-serif;margin:1.5em}td,th{padding:.2em .8em;text-align:left}"
        "</style></head><body><h1>",
        f);
    put_escaped(f, title);
    fputs("</h1>", f);
    return f;
}

/* open_memstream publishes the text only at fclose. */
static char *end(FILE *f, char **text) {
    fputs("</body></html>\n", f);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(*text);
        return NULL;
    }
    return *text;
}

static void put_install_link(FILE *f, const char *hint) {
    fputs("<p><a id=\"install\" href=\"/install", f);
    if (hint) {
        fputs("?account=", f);
        for (const char *p = hint; *p; p++)
            if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                *p == '-')
                fputc(*p, f);
    }
    fputs("\">Install</a></p>", f);
}

char *page_welcome(const char *hint) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = begin(&text, &len, "Example app");
    if (!f) return NULL;
    if (hint) {
        fputs("<p>Opened for account <code id=\"hint\">", f);
        put_escaped(f, hint);
        fputs("</code> (the admin's hint; not signed, so nothing is shown until you install).</p>", f);
    }
    fputs("<p id=\"status\">Not installed in this browser.</p>", f);
    put_install_link(f, hint);
    return end(f, &text);
}

char *page_message(const char *title, const char *message, int offer_install) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = begin(&text, &len, title);
    if (!f) return NULL;
    fputs("<p id=\"status\">", f);
    put_escaped(f, message);
    fputs("</p>", f);
    if (offer_install) put_install_link(f, NULL);
    return end(f, &text);
}

static void put_events(FILE *f, app *a, const char *account) {
    event_row rows[EVENTS_SHOWN];
    int n = store_last_events(a->db, account, rows, EVENTS_SHOWN);
    fprintf(f, "<h2>Last events</h2><p id=\"event-count\">%d shown</p><table id=\"events\">", n < 0 ? 0 : n);
    fputs("<tr><th>received</th><th>type</th><th>id</th></tr>", f);
    for (int i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        put_time(f, rows[i].received_at);
        fputs("</td><td>", f);
        put_escaped(f, rows[i].type);
        fputs("</td><td>", f);
        put_escaped(f, rows[i].node_id);
        fputs("</td></tr>", f);
    }
    fputs("</table>", f);
}

char *page_install(app *a, const char *account) {
    install_row row;
    int found = store_get_install(a->db, account, &row);
    char *text = NULL;
    size_t len = 0;
    FILE *f = begin(&text, &len, "Example app");
    if (!f) {
        install_row_clear(&row);
        return NULL;
    }
    if (found == 1) {
        fputs("<p id=\"status\">Installed for account <code id=\"account\">", f);
        put_escaped(f, row.account);
        fputs("</code> since ", f);
        put_time(f, row.installed_at);
        fputs(".</p>", f);
        put_events(f, a, account);
    } else {
        fputs("<p id=\"status\">Not installed (the app was uninstalled, or never installed).</p>", f);
        put_install_link(f, account);
    }
    install_row_clear(&row);
    return end(f, &text);
}
