/*
 * The non-blocking calls on a libuv loop: a server-style program that
 * exchanges many authorization codes at once and asks the API which account
 * each new token belongs to, without ever blocking its loop thread.
 *
 * Who runs what:
 *   - this program's loop thread (main, inside uv_run) starts every call,
 *     and is the only thread that looks at results, frees tokens and
 *     responses, and prints;
 *   - the library's I/O thread (one per lf_auth handle) runs the `done`
 *     callbacks. libuv handles belong to the loop thread, except that
 *     uv_async_send() may be called from any thread; so `done` only puts the
 *     result on a mutex-protected queue and calls uv_async_send(), and the
 *     loop's async callback drains the queue. Nothing else happens there: a
 *     slow callback would delay every other call of the handle.
 *
 * A web server does the same with the codes its /callback handler receives;
 * here they come from stdin, one a line (codes are secrets: never argv).
 * Configuration as examples/flow.c, from the environment:
 *   LF_CLIENT_ID, LF_CLIENT_SECRET, LF_REDIRECT_URI  (required)
 *   LF_BASE_URL             e.g. https://127.0.0.1:8443 for lf-sandbox
 *   LF_CA_FILE              CA bundle to trust (lf-sandbox --tls-self-signed writes one)
 *   LF_EXAMPLE_DEADLINE_MS  bound on the whole run (default 30000), a uv_timer
 *
 * Prints one line per failed call on stderr and a summary on stdout; never a
 * code or a token. Exit status: 0 every call succeeded, 1 some failed,
 * 2 bad configuration or input, 3 the deadline passed (the calls still
 * pending were cancelled).
 *
 * examples/epoll is the same program on epoll and an eventfd (Linux).
 * Build: cc main.c $(pkg-config --cflags --libs lightfunnels-auth libuv)
 */
#include <lightfunnels/auth.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_CODES 1000
#define ACCOUNT_QUERY "query { account { id } }"

enum call_kind { CALL_EXCHANGE, CALL_ACCOUNT };

/* One code's journey: the exchange, then the account query with its token.
 * Allocated before the call starts, so that `done` needs no memory to hand
 * its result over (it must never lose a token to a failed malloc). */
struct call {
    struct call *next; /* queue link, under app.lock */
    struct app *app;
    int line; /* which input line: the only way failures name a code */
    enum call_kind kind;
    lf_status status; /* written by `done`, read by the loop after the queue hand-over */
    lf_token *token;
    lf_response *response;
    char message[LF_ERROR_MESSAGE_SIZE];
};

struct app {
    lf_auth *auth; /* NULL once freed: then results are only cleaned up */
    uv_loop_t loop;
    uv_async_t wake;     /* `done` sends, the loop drains */
    uv_timer_t deadline; /* bounds the whole run */
    long deadline_ms;
    int timed_out;
    pthread_mutex_t lock;
    struct call *head, **tail; /* results handed over by `done`, oldest first */
    int pending;               /* calls started and not yet drained (loop thread only) */
    int exchanged, exchange_failed, queried, query_failed;
    char account[64];
};

/* ---- the library's I/O thread ------------------------------------------ */

static void hand_over(struct call *c, lf_status status, const lf_error *err) {
    struct app *app = c->app;
    c->status = status;
    /* err is valid only during the callback; its message never holds a secret. */
    snprintf(c->message, sizeof c->message, "%s", err && err->message[0] ? err->message : lf_status_message(status));
    pthread_mutex_lock(&app->lock);
    c->next = NULL;
    *app->tail = c;
    app->tail = &c->next;
    pthread_mutex_unlock(&app->lock);
    /* After queueing. libuv may merge several sends into one callback,
     * which is why the loop drains the whole queue each time. */
    uv_async_send(&app->wake);
}

static void exchange_done(void *user, lf_status status, lf_token *token, const lf_error *err) {
    struct call *c = user;
    c->token = token; /* ours now: freed on the loop thread */
    hand_over(c, status, err);
}

static void account_done(void *user, lf_status status, lf_response *response, const lf_error *err) {
    struct call *c = user;
    c->response = response; /* ours now, even on failure: freed on the loop thread */
    hand_over(c, status, err);
}

/* ---- the loop thread ---------------------------------------------------- */

static struct call *take_all(struct app *app) {
    pthread_mutex_lock(&app->lock);
    struct call *list = app->head;
    app->head = NULL;
    app->tail = &app->head;
    pthread_mutex_unlock(&app->lock);
    return list;
}

/* The account id out of {"data":{"account":{"id":"..."}}}. A real program
 * uses its JSON parser; the shape is fixed enough for a summary line. */
static void note_account(struct app *app, const lf_response *r) {
    const char *id = strstr(lf_response_body(r), "\"id\":\"");
    if (!id || app->account[0]) return;
    id += strlen("\"id\":\"");
    size_t n = strcspn(id, "\"");
    if (n < sizeof app->account) snprintf(app->account, sizeof app->account, "%.*s", (int)n, id);
}

static void start_account_query(struct app *app, struct call *c) {
    lf_token *token = c->token;
    c->token = NULL;
    c->kind = CALL_ACCOUNT;
    /* Once this returns LF_OK, `c` is the I/O thread's until account_done
     * hands it back: not one more access here. The token was copied before
     * it returned; a real server stores it (encrypted) first, then frees
     * its own copy as we do. */
    lf_status s = lf_graphql_async(app->auth, lf_token_value(token), ACCOUNT_QUERY, NULL, NULL, account_done, c);
    lf_token_free(token);
    if (s == LF_OK) {
        app->pending++;
        return;
    }
    fprintf(stderr, "code on line %d: account query not started: %s\n", c->line, lf_status_name(s));
    app->query_failed++;
    free(c);
}

static void finish_exchange(struct app *app, struct call *c) {
    if (c->status != LF_OK) {
        fprintf(stderr, "code on line %d: exchange failed: %s (%s)\n", c->line, lf_status_name(c->status), c->message);
        app->exchange_failed++;
        free(c);
        return;
    }
    app->exchanged++;
    if (app->auth) {
        start_account_query(app, c);
    } else { /* shutting down: no new calls */
        lf_token_free(c->token);
        free(c);
    }
}

static void finish_account(struct app *app, struct call *c) {
    if (c->status == LF_OK) {
        app->queried++;
        note_account(app, c->response);
    } else {
        fprintf(stderr, "code on line %d: account query failed: %s (%s)\n", c->line, lf_status_name(c->status),
                c->message);
        app->query_failed++;
    }
    lf_response_free(c->response);
    free(c);
}

static void drain(struct app *app) {
    struct call *c = take_all(app);
    while (c) {
        struct call *next = c->next;
        app->pending--;
        if (c->kind == CALL_EXCHANGE)
            finish_exchange(app, c);
        else
            finish_account(app, c);
        c = next;
    }
}

static void on_wake(uv_async_t *wake) {
    struct app *app = wake->data;
    drain(app);
    if (app->pending == 0) uv_stop(&app->loop);
}

static void on_deadline(uv_timer_t *timer) {
    struct app *app = timer->data;
    app->timed_out = 1;
    fprintf(stderr, "deadline of %ld ms passed with %d calls pending\n", app->deadline_ms, app->pending);
    uv_stop(&app->loop);
}

/* ---- setup -------------------------------------------------------------- */

static int start_exchanges(struct app *app) {
    char code[4200];
    int line = 0;
    while (fgets(code, sizeof code, stdin)) {
        line++;
        code[strcspn(code, "\r\n")] = '\0';
        if (!code[0]) continue;
        if (line > MAX_CODES) {
            fprintf(stderr, "more than %d codes\n", MAX_CODES);
            break;
        }
        struct call *c = calloc(1, sizeof *c);
        if (!c) {
            fprintf(stderr, "out of memory\n");
            break;
        }
        c->app = app;
        c->line = line;
        c->kind = CALL_EXCHANGE;
        lf_status s = lf_exchange_code_async(app->auth, code, NULL, exchange_done, c);
        if (s == LF_OK) {
            app->pending++;
        } else { /* `done` will never be called for it */
            fprintf(stderr, "code on line %d: exchange not started: %s\n", line, lf_status_name(s));
            app->exchange_failed++;
            free(c);
        }
    }
    /* The library copied every code; do not leave the last one in memory. */
    explicit_bzero(code, sizeof code);
    return line;
}

static lf_status new_auth(lf_auth **out) {
    static char authorize[512], token_url[512], api_url[512];
    const char *redirect_uri = getenv("LF_REDIRECT_URI");
    const char *base = getenv("LF_BASE_URL");
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = getenv("LF_CLIENT_ID");
    cfg.client_secret = getenv("LF_CLIENT_SECRET");
    cfg.redirect_uris = &redirect_uri;
    cfg.redirect_uri_count = 1;
    cfg.ca_file = getenv("LF_CA_FILE");
    if (base) {
        snprintf(authorize, sizeof authorize, "%s/admin/oauth", base);
        snprintf(token_url, sizeof token_url, "%s/api/access_token", base);
        snprintf(api_url, sizeof api_url, "%s/api/v2", base);
        cfg.authorize_url = authorize;
        cfg.token_url = token_url;
        cfg.api_url = api_url;
    }
    if (!cfg.client_id || !cfg.client_secret || !redirect_uri) return LF_E_INVALID_ARGUMENT;
    lf_error err;
    lf_status s = lf_auth_new(&cfg, out, &err);
    if (s != LF_OK) fprintf(stderr, "configuration: %s (%s)\n", err.message, lf_status_name(s));
    return s;
}

/* Both handles stay open until after lf_auth_free(): a `done` callback may
 * call uv_async_send() until then. */
static int open_handles(struct app *app) {
    if (uv_loop_init(&app->loop) != 0 || uv_async_init(&app->loop, &app->wake, on_wake) != 0) return -1;
    app->wake.data = app;
    if (uv_timer_init(&app->loop, &app->deadline) != 0) return -1;
    app->deadline.data = app;
    return uv_timer_start(&app->deadline, on_deadline, (uint64_t)app->deadline_ms, 0);
}

static void close_handles(struct app *app) {
    uv_close((uv_handle_t *)&app->wake, NULL);
    uv_close((uv_handle_t *)&app->deadline, NULL);
    uv_run(&app->loop, UV_RUN_DEFAULT); /* lets the closes complete */
    uv_loop_close(&app->loop);
}

int main(void) {
    const char *deadline_env = getenv("LF_EXAMPLE_DEADLINE_MS");
    struct app app = {.lock = PTHREAD_MUTEX_INITIALIZER};
    app.tail = &app.head;
    app.deadline_ms = deadline_env ? strtol(deadline_env, NULL, 10) : 30000;
    if (app.deadline_ms <= 0) {
        fprintf(stderr, "LF_EXAMPLE_DEADLINE_MS must be a positive number of milliseconds\n");
        return 2;
    }
    if (new_auth(&app.auth) != LF_OK) {
        fprintf(stderr, "set LF_CLIENT_ID, LF_CLIENT_SECRET and LF_REDIRECT_URI (and LF_BASE_URL, LF_CA_FILE)\n");
        return 2;
    }
    if (open_handles(&app) != 0) {
        fprintf(stderr, "libuv: could not set up the loop\n");
        lf_auth_free(app.auth);
        return 2;
    }

    start_exchanges(&app);
    if (app.pending > 0) uv_run(&app.loop, UV_RUN_DEFAULT);

    /* lf_auth_free completes every call still pending with LF_E_CANCELLED:
     * their `done` still queue and call uv_async_send(), which is why the
     * async handle stays open until the queue has been drained once more
     * below (here, on the loop thread, outside uv_run). */
    lf_auth_free(app.auth);
    app.auth = NULL;
    drain(&app);
    close_handles(&app);
    pthread_mutex_destroy(&app.lock);

    printf("exchanges: %d ok, %d failed; account queries: %d ok, %d failed; account: %s\n", app.exchanged,
           app.exchange_failed, app.queried, app.query_failed, app.account[0] ? app.account : "none");
    if (app.timed_out) return 3;
    return app.exchange_failed || app.query_failed ? 1 : 0;
}
