/* lf-example-app: a complete Lightfunnels app on lightfunnels-auth,
 * libmicrohttpd and SQLite. See README.md next to this file. */
#include <lightfunnels/auth.h>

#include <openssl/crypto.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "routes.h"

static int make_client(app *a) {
    const app_config *c = &a->config;
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = c->client_id;
    cfg.client_secret = c->client_secret;
    const char *redirects[] = {c->redirect_uri};
    cfg.redirect_uris = redirects;
    cfg.redirect_uri_count = 1;
    cfg.authorize_url = c->authorize_url;
    cfg.token_url = c->token_url;
    cfg.api_url = c->api_url;
    cfg.ca_file = c->ca_file;
    if (c->client_auth >= 0) cfg.client_auth = (lf_client_auth)c->client_auth;
    lf_error err;
    if (lf_auth_new(&cfg, &a->auth, &err) != LF_OK) {
        fprintf(stderr, "app: configuration refused: %s\n", err.message);
        return -1;
    }
    return 0;
}

/* Blocks until SIGINT or SIGTERM. Every thread (the server's included) is
 * started with them blocked, so only this wait receives them. */
static void wait_for_stop(const sigset_t *stop) {
    int sig = 0;
    sigwait(stop, &sig);
    fprintf(stderr, "app: %s received, shutting down\n", strsignal(sig));
}

/* `lf-example-app check-token ACCOUNT`: does the stored token of ACCOUNT
 * still work? Prints the verdict, never the token. Exit 0 works, 3 the API
 * refuses it (401), 4 no install in the database, 1 otherwise. */
static int check_token(app *a, const char *account) {
    install_row row;
    int found = store_get_install(a->db, account, &row);
    char *token = NULL;
    if (found != 1) {
        printf("%s: no install in the database\n", account);
        return found == 0 ? 4 : 1;
    }
    int opened = vault_open(&a->config.vault, account, row.sealed_token, &token) == 0;
    install_row_clear(&row);
    if (!opened) {
        printf("%s: the sealed token does not open with this key\n", account);
        return 1;
    }
    char id[128];
    lf_error err;
    lf_status st = lf_account_id(a->auth, token, id, sizeof id, NULL, &err);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    if (st == LF_OK)
        printf("%s: the token works (account %s)\n", account, id);
    else
        printf("%s: the token is refused: %s (%s)\n", account, lf_status_name(st), err.message);
    return st == LF_OK ? 0 : st == LF_E_UNAUTHORIZED ? 3 : 1;
}

static int serve(app *a, const sigset_t *stop) {
    struct MHD_Daemon *d = routes_start(a);
    if (!d) {
        fprintf(stderr, "app: cannot listen on %s:%d\n", a->config.bind_address, a->config.port);
        return 1;
    }
    printf("LF_APP_LISTENING=http://%s:%d\n", a->config.bind_address, a->config.port);
    fflush(stdout);
    wait_for_stop(stop);
    /* In-flight library calls see the flag within ~100 ms (lf_call_options.cancel);
     * MHD_stop_daemon then waits for every connection thread to finish. */
    __atomic_store_n(&a->stopping, 1, __ATOMIC_SEQ_CST);
    MHD_stop_daemon(d);
    return 0;
}

int main(int argc, char **argv) {
    int checking = argc == 3 && strcmp(argv[1], "check-token") == 0;
    if (argc != 1 && !checking) {
        fprintf(stderr,
                "usage: lf-example-app                    serve (settings from the environment, README.md)\n"
                "       lf-example-app check-token ACCOUNT does ACCOUNT's stored token still work?\n");
        return 2;
    }
    static app a;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (config_load(&a.config) != 0) return 2;
    int rc = 1;
    if (make_client(&a) == 0 && store_open(a.config.db_path, &a.db) == 0)
        rc = checking ? check_token(&a, argv[2]) : serve(&a, &stop);
    store_close(a.db);
    lf_auth_free(a.auth);
    config_free(&a.config);
    if (!checking) fprintf(stderr, "app: stopped\n");
    return rc;
}
