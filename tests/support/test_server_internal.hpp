// Internal glue between the test-support translation units (not for suites).
#pragma once

#include "test_server.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

struct ts_request {
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

namespace ts {
// Borrowed pointers into the PKI (valid until ts_pki_free).
bool pki_server_cert(const ts_pki *pki, ts_cert which, X509 **cert, EVP_PKEY **key);
bool request_contains(const ts_request &r, const char *needle);
}  // namespace ts
