/* config: the app's settings, from the environment and an optional
 * KEY=VALUE file named by LF_APP_CONFIG (the environment wins). Secrets come
 * from a variable or a file, never from the command line. */
#ifndef LF_APP_CONFIG_H
#define LF_APP_CONFIG_H

#include "vault.h"

typedef struct app_config {
    char *client_id;
    char *client_secret; /* wiped by config_free */
    char *redirect_uri;  /* the whitelisted callback, e.g. https://app.example.com/callback */
    char *public_url;    /* where the platform reaches the app (webhook URLs), e.g. https://app.example.com */
    char *admin_origin;  /* the only origin allowed to frame the app */
    char *scopes;
    char *db_path;
    char *bind_address;
    int port;
    /* Optional library settings: a sandbox's URLs and CA. */
    char *authorize_url;
    char *token_url;
    char *api_url;
    char *ca_file;
    int client_auth; /* lf_client_auth; -1: the library's default */
    vault vault;
} app_config;

/* 0 on success; on failure prints what is missing to stderr (never a value). */
int config_load(app_config *c);
void config_free(app_config *c);

#endif
