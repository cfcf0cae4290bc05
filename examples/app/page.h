/* page: the HTML the app shows inside the admin iframe. Every function
 * returns malloc'd text (free it), or NULL when out of memory. */
#ifndef LF_APP_PAGE_H
#define LF_APP_PAGE_H

#include "app.h"

/* The install of `account` (a signed-in session): when, and the last events. */
char *page_install(app *a, const char *account);
/* No session yet: an Install button (a same-frame navigation, as the
 * platform's embedded-apps guide asks). `hint` is the admin's unsigned
 * account_id, shown as such; may be NULL. */
char *page_welcome(const char *hint);
/* A short message, with an Install link when `offer_install`. */
char *page_message(const char *title, const char *text, int offer_install);

#endif
