/* store: the app's SQLite database (installs, registered webhooks, events
 * seen). One connection behind one mutex: every call is short, so request
 * threads simply take turns, and the uninstall transaction never interleaves
 * with another thread's statement. */
#ifndef LF_APP_STORE_H
#define LF_APP_STORE_H

#include <stddef.h>

typedef struct store store;

typedef struct install_row {
    char account[128];
    char key_id[32];
    long long installed_at;
    long long updated_at;
    char *sealed_token; /* malloc'd; free with install_row_clear */
} install_row;

typedef struct event_row {
    char type[64];
    char node_id[128];
    long long received_at;
} event_row;

int store_open(const char *path, store **out);
void store_close(store *s);

/* Insert or replace the install of `account` (a re-install keeps installed_at). */
int store_put_install(store *s, const char *account, const char *sealed_token, const char *key_id, long long now);
/* 1 found, 0 not installed, -1 error. */
int store_get_install(store *s, const char *account, install_row *row);
void install_row_clear(install_row *row);
/* 1 when the account already has a webhook of this type, 0 not, -1 error. */
int store_has_webhook(store *s, const char *account, const char *type);
int store_put_webhook(store *s, const char *account, const char *type, const char *webhook_id);
/* Records an event once: 1 new, 0 already seen (the same key), -1 error. */
int store_record_event(store *s, const char *event_key, const char *account, const char *type, const char *node_id,
                       long long now);
/* Up to `max` newest events of the account; returns how many, -1 on error. */
int store_last_events(store *s, const char *account, event_row *rows, int max);
/* Deletes the account's token and every row about it, in one transaction. */
int store_delete_account(store *s, const char *account);

#endif
