/* lf-example-app: a complete Lightfunnels app on lightfunnels-auth,
 * libmicrohttpd and SQLite. See README.md next to this file. */
#include <lightfunnels/auth.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

int main(void) {
    static app a;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (config_load(&a.config) != 0) return 2;
    int rc = 1;
    struct MHD_Daemon *d = NULL;
    if (make_client(&a) == 0 && store_open(a.config.db_path, &a.db) == 0 && (d = routes_start(&a)) != NULL) {
        printf("LF_APP_LISTENING=http://%s:%d\n", a.config.bind_address, a.config.port);
        fflush(stdout);
        wait_for_stop(&stop);
        /* In-flight library calls see the flag within ~100 ms (lf_call_options.cancel);
         * MHD_stop_daemon then waits for every connection thread to finish. */
        __atomic_store_n(&a.stopping, 1, __ATOMIC_SEQ_CST);
        MHD_stop_daemon(d);
        rc = 0;
    } else if (a.auth && a.db) {
        fprintf(stderr, "app: cannot listen on %s:%d\n", a.config.bind_address, a.config.port);
    }
    store_close(a.db);
    lf_auth_free(a.auth);
    config_free(&a.config);
    fprintf(stderr, "app: stopped\n");
    return rc;
}
