/* The app's shared state: set up once in main, read by every request thread. */
#ifndef LF_APP_APP_H
#define LF_APP_APP_H

#include <lightfunnels/auth.h>

#include "config.h"
#include "store.h"

/* How long a consent may take before its state expires (seconds). */
#define APP_STATE_MAX_AGE_S 600
/* Session cookie lifetime (seconds). */
#define APP_SESSION_TTL_S (12 * 3600)
/* Largest webhook body accepted (bytes): order payloads are a few KiB. */
#define APP_MAX_WEBHOOK_BYTES (1024 * 1024)

typedef struct app {
    app_config config;
    lf_auth *auth;
    store *db;
    int stopping; /* set on shutdown: long library calls give up (lf_call_options.cancel) */
} app;

#endif
