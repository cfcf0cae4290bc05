/* vault: the app's own secrets at rest. Access tokens are sealed with
 * AES-256-GCM under a key kept outside the database; session cookies are
 * MACed with a key derived from the same master key. */
#ifndef LF_APP_VAULT_H
#define LF_APP_VAULT_H

#include <stddef.h>

#define VAULT_KEY_SIZE 32
/* Short fingerprint of the key stored next to each sealed token, so a row
 * sealed under another key (after a rotation) is told apart from a forgery. */
#define VAULT_KEY_ID_SIZE 17

typedef struct vault {
    unsigned char key[VAULT_KEY_SIZE];
    unsigned char mac_key[VAULT_KEY_SIZE];
    char key_id[VAULT_KEY_ID_SIZE];
} vault;

/* Reads 64 hex digits (surrounding whitespace allowed) into the vault. */
int vault_init_hex(vault *v, const char *hex);
void vault_wipe(vault *v);

/* Seals `token` bound to `account` (the AAD: a sealed token moved to another
 * account's row does not open). *out is malloc'd text; free it. */
int vault_seal(const vault *v, const char *account, const char *token, char **out);
/* Opens what vault_seal made; *out is malloc'd, wipe and free it. */
int vault_open(const vault *v, const char *account, const char *sealed, char **out);

/* Session cookie value "<account>.<expiry>.<mac>"; buf of at least 256. */
int vault_session_make(const vault *v, const char *account, long long expires, char *buf, size_t size);
/* Checks a cookie value; on success copies the account into buf. */
int vault_session_check(const vault *v, const char *value, long long now, char *account, size_t size);

#endif
