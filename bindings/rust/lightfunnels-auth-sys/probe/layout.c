/* Layout probe for lightfunnels-auth-sys: build.rs compiles it against the
 * installed header (pkg-config --cflags lightfunnels-auth), runs it and saves
 * its output; tests/layout.rs compares every line with what the hand-written
 * Rust declarations give. One "name value" pair per line. Only sizeof,
 * offsetof and macros: nothing here links against the library. */
#include <lightfunnels/auth.h>
#include <stddef.h>
#include <stdio.h>

#define SIZE(T) printf("sizeof %s %lu\n", #T, (unsigned long)sizeof(T))
#define ALIGN(T)                    \
    printf("alignof %s %lu\n", #T,  \
           (unsigned long)offsetof( \
               struct {             \
                   char c;          \
                   T t;             \
               },                   \
               t))
#define OFF(T, f) printf("offsetof %s.%s %lu\n", #T, #f, (unsigned long)offsetof(T, f))
#define FSIZE(T, f) printf("fieldsize %s.%s %lu\n", #T, #f, (unsigned long)sizeof(((T *)0)->f))
#define VAL(m) printf("value %s %ld\n", #m, (long)(m))

int main(void) {
    SIZE(lf_status);
    printf("signed lf_status %d\n", (double)(lf_status)-1 < 0.0 ? 1 : 0);
    SIZE(lf_client_auth);
    printf("signed lf_client_auth %d\n", (double)(lf_client_auth)-1 < 0.0 ? 1 : 0);
    SIZE(lf_code_sent);
    printf("signed lf_code_sent %d\n", (double)(lf_code_sent)-1 < 0.0 ? 1 : 0);

    SIZE(lf_error);
    ALIGN(lf_error);
    OFF(lf_error, status);
    OFF(lf_error, http_status);
    OFF(lf_error, retry_after_s);
    OFF(lf_error, key);
    OFF(lf_error, message);
    FSIZE(lf_error, http_status);
    FSIZE(lf_error, key);
    FSIZE(lf_error, message);

    SIZE(lf_allocator);
    ALIGN(lf_allocator);
    OFF(lf_allocator, alloc);
    OFF(lf_allocator, realloc);
    OFF(lf_allocator, free);
    OFF(lf_allocator, ctx);

    SIZE(lf_auth_config);
    ALIGN(lf_auth_config);
    OFF(lf_auth_config, struct_size);
    OFF(lf_auth_config, client_id);
    OFF(lf_auth_config, client_secret);
    OFF(lf_auth_config, previous_client_secret);
    OFF(lf_auth_config, redirect_uris);
    OFF(lf_auth_config, redirect_uri_count);
    OFF(lf_auth_config, authorize_url);
    OFF(lf_auth_config, token_url);
    OFF(lf_auth_config, api_url);
    OFF(lf_auth_config, client_auth);
    OFF(lf_auth_config, connect_timeout_ms);
    OFF(lf_auth_config, timeout_ms);
    OFF(lf_auth_config, max_response_bytes);
    OFF(lf_auth_config, ca_file);
    OFF(lf_auth_config, user_agent);
    OFF(lf_auth_config, stall_timeout_ms);
    FSIZE(lf_auth_config, stall_timeout_ms);
    OFF(lf_auth_config, trace);
    OFF(lf_auth_config, trace_user);

    SIZE(lf_call_options);
    ALIGN(lf_call_options);
    OFF(lf_call_options, struct_size);
    OFF(lf_call_options, timeout_ms);
    OFF(lf_call_options, cancel);
    OFF(lf_call_options, code_sent);

    VAL(LF_AUTH_VERSION_MAJOR);
    VAL(LF_AUTH_VERSION_MINOR);
    VAL(LF_AUTH_VERSION_PATCH);
    VAL(LF_AUTH_VERSION_NUMBER);
    printf("string LF_AUTH_VERSION_STRING %s\n", LF_AUTH_VERSION_STRING);
    VAL(LF_STATE_BUFFER_SIZE);
    VAL(LF_SEALED_STATE_BUFFER_SIZE);
    VAL(LF_SIGNATURE_BUFFER_SIZE);
    VAL(LF_MAX_TOKEN_LENGTH);
    VAL(LF_MAX_CALLBACK_LENGTH);
    VAL(LF_INIT_HOOK_DEPENDENCIES);

    VAL(LF_OK);
    VAL(LF_E_INVALID_ARGUMENT);
    VAL(LF_E_BUFFER_TOO_SMALL);
    VAL(LF_E_NO_MEMORY);
    VAL(LF_E_REDIRECT_URI_NOT_ALLOWED);
    VAL(LF_E_STATE_MISMATCH);
    VAL(LF_E_STATE_EXPIRED);
    VAL(LF_E_ACCESS_DENIED);
    VAL(LF_E_NETWORK);
    VAL(LF_E_TIMEOUT);
    VAL(LF_E_TLS);
    VAL(LF_E_INSECURE_TRANSPORT);
    VAL(LF_E_HTTP);
    VAL(LF_E_INVALID_CODE);
    VAL(LF_E_INVALID_CLIENT);
    VAL(LF_E_UNAUTHORIZED);
    VAL(LF_E_API);
    VAL(LF_E_PROTOCOL);
    VAL(LF_E_RESPONSE_TOO_LARGE);
    VAL(LF_E_SIGNATURE_MISMATCH);
    VAL(LF_E_CANCELLED);
    VAL(LF_E_RATE_LIMITED);
    VAL(LF_E_INTERNAL);

    VAL(LF_CLIENT_AUTH_JSON_BODY);
    VAL(LF_CLIENT_AUTH_BASIC);
    VAL(LF_CLIENT_AUTH_AUTO);

    VAL(LF_CODE_NOT_SENT);
    VAL(LF_CODE_MAYBE_SENT);
    VAL(LF_CODE_SENT);

    VAL(LF_TRACE_CONNECT);
    VAL(LF_TRACE_REUSE);
    VAL(LF_TRACE_TLS);
    VAL(LF_TRACE_REQUEST);
    VAL(LF_TRACE_RESPONSE);
    VAL(LF_TRACE_AUTO);
    VAL(LF_TRACE_ERROR);
    VAL(LF_TRACE_NO_RETRY);
    return ferror(stdout) ? 1 : 0;
}
