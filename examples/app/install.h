/* install: what the callback does once the state is checked — buy the
 * token with the single-use code, learn the account, keep the token sealed,
 * and subscribe to the events the app needs. */
#ifndef LF_APP_INSTALL_H
#define LF_APP_INSTALL_H

#include <stddef.h>

#include "app.h"

/* The event types the app subscribes to at install. app/uninstalled is the
 * platform's only uninstall signal: without it the app keeps dead tokens. */
extern const char *const APP_WEBHOOK_TYPES[];
extern const size_t APP_WEBHOOK_TYPE_COUNT;

/* 0 on success with the account id in `account`; else -1 with a short,
 * secret-free reason in `why`. */
int install_from_code(app *a, const char *code, char *account, size_t account_size, char *why, size_t why_size);

#endif
