/* Consumer built against an installed prefix (pkg-config or find_package). */
#include <lightfunnels/auth.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    const char *v = lf_version();
    printf("lf_version %s\n", v);
    if (strcmp(v, LF_AUTH_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", LF_AUTH_VERSION_STRING, v);
        return 1;
    }
    /* something real: a handle and a consent URL, no network */
    static const char *const uris[] = {"https://app.example.test/cb"};
    lf_auth_config cfg;
    lf_auth_config_init(&cfg, sizeof cfg);
    cfg.client_id = "install-test";
    cfg.client_secret = "install-secret";
    cfg.redirect_uris = uris;
    cfg.redirect_uri_count = 1;
    lf_auth *a = NULL;
    if (lf_auth_new(&cfg, &a, NULL) != LF_OK) return 2;
    char url[512];
    lf_status st = lf_consent_url(a, uris[0], "orders", NULL, url, sizeof url, NULL);
    lf_auth_free(a);
    if (st != LF_OK) return 3;
    printf("%s\n", url);
    return 0;
}
