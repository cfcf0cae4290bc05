/* Linked into second copies of webhook_test and sealed_state_test (see
 * CMakeLists.txt): EVP_MAC_init with a NULL key succeeds and does nothing,
 * as HMAC did in OpenSSL 3.0.0 to 3.0.2 (openssl/openssl#17811, fixed in
 * 3.0.3; FIPS providers built from those sources keep it). The executable
 * exports this definition, so the library's calls reach it before
 * libcrypto's; every call with a key goes on to libcrypto's. The suites must
 * pass unchanged: the library has to notice that a context cannot be
 * restarted and compute each MAC on a new duplicate of the keyed one. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

#include <openssl/evp.h>

typedef int (*mac_init_fn)(EVP_MAC_CTX *, const unsigned char *, size_t, const OSSL_PARAM[]);

int EVP_MAC_init(EVP_MAC_CTX *ctx, const unsigned char *key, size_t keylen, const OSSL_PARAM params[]) {
    mac_init_fn real;
    void *sym;
    if (!key) return 1;
    sym = dlsym(RTLD_NEXT, "EVP_MAC_init");
    if (!sym) return 0;
    memcpy(&real, &sym, sizeof real); /* POSIX: dlsym's result may be a function */
    return real(ctx, key, keylen, params);
}
