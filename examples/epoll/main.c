/*
 * The non-blocking calls on an epoll loop (Linux): a server-style program
 * that exchanges many authorization codes at once and asks the API which
 * account each new token belongs to, without ever blocking its loop thread.
 *
 * Who runs what:
 *   - this program's loop thread (main) starts every call, and is the only
 *     thread that looks at results, frees tokens and responses, and prints;
 *   - the library's I/O thread (one per lf_auth handle) runs the `done`
 *     callbacks. They only put the result on a mutex-protected queue and
 *     write 1 to an eventfd, which wakes the loop's epoll_wait(). Nothing
 *     else happens there: a slow callback would delay every other call of
 *     the handle.
 *
 * A web server does the same with the codes its /callback handler receives;
 * here they come from stdin, one a line (codes are secrets: never argv).
 * Configuration as examples/flow.c, from the environment:
 *   LF_CLIENT_ID, LF_CLIENT_SECRET, LF_REDIRECT_URI  (required)
 *   LF_BASE_URL             e.g. https://127.0.0.1:8443 for lf-sandbox
 *   LF_CA_FILE              CA bundle to trust (lf-sandbox --tls-self-signed writes one)
 *   LF_EXAMPLE_DEADLINE_MS  bound on the whole run (default 30000)
 *
 * Prints one line per failed call on stderr and a summary on stdout; never a
 * code or a token. Exit status: 0 every call succeeded, 1 some failed,
 * 2 bad configuration or input, 3 the deadline passed (the calls still
 * pending were cancelled).
 *
 * examples/libuv is the same program on a libuv loop.
 */
#include <lightfunnels/auth.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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
    int wake_fd;   /* eventfd: `done` writes, the loop reads */
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
    /* After queueing: the loop reads the eventfd before draining, so a
     * result queued at any point is seen by this wake-up or the next. */
    uint64_t one = 1;
    if (write(app->wake_fd, &one, sizeof one) != (ssize_t)sizeof one) {
        /* Only a counter at 2^64-2 fails here, and then the loop is due to wake anyway. */
    }
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

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs until every call has been drained (returns 0) or the deadline passes
 * (returns -1). */
static int run_loop(struct app *app, int epoll_fd, long deadline_ms) {
    const long long deadline = now_ms() + deadline_ms;
    while (app->pending > 0) {
        long long left = deadline - now_ms();
        if (left <= 0) return -1;
        struct epoll_event ev;
        int n = epoll_wait(epoll_fd, &ev, 1, left > 1000000 ? 1000000 : (int)left);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            return -1;
        }
        if (n <= 0) continue;
        /* Reset the counter first, then drain: see hand_over(). */
        uint64_t count;
        if (read(app->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN) perror("read eventfd");
        drain(app);
    }
    return 0;
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

int main(void) {
    const char *deadline_env = getenv("LF_EXAMPLE_DEADLINE_MS");
    long deadline_ms = deadline_env ? strtol(deadline_env, NULL, 10) : 30000;
    if (deadline_ms <= 0) {
        fprintf(stderr, "LF_EXAMPLE_DEADLINE_MS must be a positive number of milliseconds\n");
        return 2;
    }

    struct app app = {.wake_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};
    app.tail = &app.head;
    if (new_auth(&app.auth) != LF_OK) {
        fprintf(stderr, "set LF_CLIENT_ID, LF_CLIENT_SECRET and LF_REDIRECT_URI (and LF_BASE_URL, LF_CA_FILE)\n");
        return 2;
    }
    app.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = app.wake_fd};
    if (app.wake_fd < 0 || epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, app.wake_fd, &ev) != 0) {
        perror("eventfd/epoll");
        lf_auth_free(app.auth);
        return 2;
    }

    start_exchanges(&app);
    int timed_out = run_loop(&app, epoll_fd, deadline_ms) != 0;
    if (timed_out) fprintf(stderr, "deadline of %ld ms passed with %d calls pending\n", deadline_ms, app.pending);

    /* lf_auth_free completes every call still pending with LF_E_CANCELLED:
     * their `done` still queue and write to the eventfd, which is why it
     * stays open until the queue has been drained once more below. */
    lf_auth_free(app.auth);
    app.auth = NULL;
    drain(&app);
    close(epoll_fd);
    close(app.wake_fd);
    pthread_mutex_destroy(&app.lock);

    printf("exchanges: %d ok, %d failed; account queries: %d ok, %d failed; account: %s\n", app.exchanged,
           app.exchange_failed, app.queried, app.query_failed, app.account[0] ? app.account : "none");
    if (timed_out) return 3;
    return app.exchange_failed || app.query_failed ? 1 : 0;
}
