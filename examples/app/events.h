/* events: one webhook delivery, from raw body to database. */
#ifndef LF_APP_EVENTS_H
#define LF_APP_EVENTS_H

#include <stddef.h>

#include "app.h"

typedef enum event_outcome {
    EVENT_RECORDED,      /* new event stored */
    EVENT_DUPLICATE,     /* already seen: a redelivery */
    EVENT_UNINSTALLED,   /* app/uninstalled: the account's token and rows are gone */
    EVENT_IGNORED,       /* signed, but for a type or account the app does not keep */
    EVENT_BAD_SIGNATURE, /* lightfunnels-hmac missing or wrong: nothing was read */
    EVENT_MALFORMED,     /* signed, but not the documented {"node": {...}} */
    EVENT_FAILED         /* the database failed: let the platform deliver again */
} event_outcome;

/* `type` and `account` come from the webhook URL the app registered (the
 * payload names neither for most events); `body` is the raw request body,
 * exactly as received; `hmac` the lightfunnels-hmac header (may be NULL). */
event_outcome events_receive(app *a, const char *type, const char *account, const char *body, size_t len,
                             const char *hmac);

const char *event_outcome_name(event_outcome o);

#endif
