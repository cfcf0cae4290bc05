/* routes: the app's HTTP face on libmicrohttpd — /install, /callback,
 * /webhooks and the embedded page at /. */
#ifndef LF_APP_ROUTES_H
#define LF_APP_ROUTES_H

#include <microhttpd.h>

#include "app.h"

/* Starts the server (one thread per connection: the callback waits on the
 * platform) bound to config.bind_address:config.port. NULL on failure. */
struct MHD_Daemon *routes_start(app *a);

#endif
