#include "store.h"

#include <pthread.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct store {
    sqlite3 *db;
    /* Multi-statement work (the uninstall transaction) must not interleave
     * with another request thread's statements on the shared connection. */
    pthread_mutex_t lock;
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS installs ("
    "  account_id TEXT PRIMARY KEY,"
    "  sealed_token TEXT NOT NULL,"
    "  key_id TEXT NOT NULL,"
    "  installed_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS webhooks ("
    "  account_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  webhook_id TEXT NOT NULL,"
    "  PRIMARY KEY (account_id, type));"
    /* event_key is UNIQUE: a delivery seen twice is recorded once. */
    "CREATE TABLE IF NOT EXISTS events ("
    "  event_key TEXT PRIMARY KEY,"
    "  account_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  node_id TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_by_account ON events (account_id, received_at);";

static void report(store *s, const char *what) {
    fprintf(stderr, "app: database: %s: %s\n", what, sqlite3_errmsg(s->db));
}

int store_open(const char *path, store **out) {
    *out = NULL;
    store *s = calloc(1, sizeof *s);
    if (!s) return -1;
    pthread_mutex_init(&s->lock, NULL);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        report(s, "open");
        store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (sqlite3_exec(s->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        report(s, "schema");
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(store *s) {
    if (!s) return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static sqlite3_stmt *prepare(store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        report(s, "prepare");
        return NULL;
    }
    return st;
}

static int run(store *s, sqlite3_stmt *st) {
    int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (st && rc != SQLITE_DONE) report(s, "write");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) { sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT); }

static int store_put_install_locked(store *s, const char *account, const char *sealed_token, const char *key_id,
                                    long long now) {
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO installs (account_id, sealed_token, key_id, installed_at, updated_at)"
                               " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (account_id) DO UPDATE SET"
                               " sealed_token = excluded.sealed_token, key_id = excluded.key_id,"
                               " updated_at = excluded.updated_at");
    if (!st) return -1;
    bind_text(st, 1, account);
    bind_text(st, 2, sealed_token);
    bind_text(st, 3, key_id);
    sqlite3_bind_int64(st, 4, now);
    return run(s, st);
}

static void copy_column(sqlite3_stmt *st, int col, char *buf, size_t size) {
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(buf, size, "%s", v ? (const char *)v : "");
}

static int store_get_install_locked(store *s, const char *account, install_row *row) {
    memset(row, 0, sizeof *row);
    sqlite3_stmt *st = prepare(s,
                               "SELECT account_id, sealed_token, key_id, installed_at, updated_at FROM installs"
                               " WHERE account_id = ?1");
    if (!st) return -1;
    bind_text(st, 1, account);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        copy_column(st, 0, row->account, sizeof row->account);
        const unsigned char *t = sqlite3_column_text(st, 1);
        row->sealed_token = strdup(t ? (const char *)t : "");
        copy_column(st, 2, row->key_id, sizeof row->key_id);
        row->installed_at = sqlite3_column_int64(st, 3);
        row->updated_at = sqlite3_column_int64(st, 4);
        found = row->sealed_token ? 1 : -1;
    } else if (rc != SQLITE_DONE) {
        report(s, "read");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

void install_row_clear(install_row *row) {
    free(row->sealed_token);
    memset(row, 0, sizeof *row);
}

static int store_has_webhook_locked(store *s, const char *account, const char *type) {
    sqlite3_stmt *st = prepare(s, "SELECT 1 FROM webhooks WHERE account_id = ?1 AND type = ?2");
    if (!st) return -1;
    bind_text(st, 1, account);
    bind_text(st, 2, type);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int store_put_webhook_locked(store *s, const char *account, const char *type, const char *webhook_id) {
    sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO webhooks (account_id, type, webhook_id) VALUES (?1, ?2, ?3)");
    if (!st) return -1;
    bind_text(st, 1, account);
    bind_text(st, 2, type);
    bind_text(st, 3, webhook_id);
    return run(s, st);
}

static int store_record_event_locked(store *s, const char *event_key, const char *account, const char *type,
                                     const char *node_id, long long now) {
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO events (event_key, account_id, type, node_id, received_at)"
                               " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (event_key) DO NOTHING RETURNING 1");
    if (!st) return -1;
    bind_text(st, 1, event_key);
    bind_text(st, 2, account);
    bind_text(st, 3, type);
    bind_text(st, 4, node_id);
    sqlite3_bind_int64(st, 5, now);
    int rc = sqlite3_step(st), fresh = rc == SQLITE_ROW ? 1 : 0;
    if (rc == SQLITE_ROW) rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        report(s, "write");
        fresh = -1;
    }
    sqlite3_finalize(st);
    return fresh;
}

static int store_last_events_locked(store *s, const char *account, event_row *rows, int max) {
    sqlite3_stmt *st = prepare(s,
                               "SELECT type, node_id, received_at FROM events WHERE account_id = ?1"
                               " ORDER BY received_at DESC, rowid DESC LIMIT ?2");
    if (!st) return -1;
    bind_text(st, 1, account);
    sqlite3_bind_int(st, 2, max);
    int n = 0, rc;
    while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        copy_column(st, 0, rows[n].type, sizeof rows[n].type);
        copy_column(st, 1, rows[n].node_id, sizeof rows[n].node_id);
        rows[n].received_at = sqlite3_column_int64(st, 2);
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

int store_put_install(store *s, const char *account, const char *sealed_token, const char *key_id, long long now) {
    pthread_mutex_lock(&s->lock);
    int rc = store_put_install_locked(s, account, sealed_token, key_id, now);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_get_install(store *s, const char *account, install_row *row) {
    pthread_mutex_lock(&s->lock);
    int rc = store_get_install_locked(s, account, row);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_has_webhook(store *s, const char *account, const char *type) {
    pthread_mutex_lock(&s->lock);
    int rc = store_has_webhook_locked(s, account, type);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_put_webhook(store *s, const char *account, const char *type, const char *webhook_id) {
    pthread_mutex_lock(&s->lock);
    int rc = store_put_webhook_locked(s, account, type, webhook_id);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_record_event(store *s, const char *event_key, const char *account, const char *type, const char *node_id,
                       long long now) {
    pthread_mutex_lock(&s->lock);
    int rc = store_record_event_locked(s, event_key, account, type, node_id, now);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_last_events(store *s, const char *account, event_row *rows, int max) {
    pthread_mutex_lock(&s->lock);
    int rc = store_last_events_locked(s, account, rows, max);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_delete_account(store *s, const char *account) {
    static const char *const sql[] = {
        "DELETE FROM installs WHERE account_id = ?1",
        "DELETE FROM webhooks WHERE account_id = ?1",
        "DELETE FROM events WHERE account_id = ?1",
    };
    pthread_mutex_lock(&s->lock);
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = prepare(s, sql[i]);
        if (st) bind_text(st, 1, account);
        rc = run(s, st);
    }
    if (rc == 0) rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    if (rc != 0) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->lock);
    return rc;
}
