// Test-time PKI: every key and certificate is generated in-process with the
// OpenSSL API and written into a fresh temporary directory.
#include "test_server.h"
#include "test_server_internal.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>

namespace ts {
namespace {

struct KeyCert {
    EVP_PKEY *key = nullptr;
    X509 *cert = nullptr;
};

void fail(const char *what) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    ERR_print_errors_fp(stderr);
}

bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// issuer == nullptr: self-signed.
bool make_cert(KeyCert &out, const char *cn, const KeyCert *issuer, bool ca, const char *san, long not_before_s,
               long not_after_s) {
    out.key = EVP_EC_gen("P-256");
    if (!out.key) return fail("EVP_EC_gen"), false;
    out.cert = X509_new();
    if (!out.cert) return fail("X509_new"), false;
    X509_set_version(out.cert, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(out.cert));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(out.cert), not_before_s);
    X509_gmtime_adj(X509_getm_notAfter(out.cert), not_after_s);
    X509_set_pubkey(out.cert, out.key);
    X509_NAME *name = X509_get_subject_name(out.cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("lightfunnels-auth tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(cn), -1, -1, 0);
    X509 *issuer_cert = issuer ? issuer->cert : out.cert;
    EVP_PKEY *issuer_key = issuer ? issuer->key : out.key;
    X509_set_issuer_name(out.cert, X509_get_subject_name(issuer_cert));
    bool ok = true;
    if (ca) {
        ok = ok && add_ext(out.cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        ok = ok && add_ext(out.cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        ok = ok && add_ext(out.cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        ok = ok && add_ext(out.cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
        ok = ok && add_ext(out.cert, issuer_cert, NID_ext_key_usage, "serverAuth");
        ok = ok && add_ext(out.cert, issuer_cert, NID_subject_alt_name, san);
    }
    ok = ok && add_ext(out.cert, issuer_cert, NID_subject_key_identifier, "hash");
    if (issuer) ok = ok && add_ext(out.cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
    if (!ok) return fail("X509 extensions"), false;
    if (X509_sign(out.cert, issuer_key, EVP_sha256()) <= 0) return fail("X509_sign"), false;
    return true;
}

bool write_cert(const std::string &path, X509 *cert) {
    FILE *f = std::fopen(path.c_str(), "w");
    if (!f) return false;
    bool ok = PEM_write_X509(f, cert) == 1;
    return std::fclose(f) == 0 && ok;
}

// The CA certificate followed by a CRL it signed that revokes nothing: a CA
// file of the mixed kind some bundles are.
bool write_ca_with_crl(const std::string &path, const KeyCert &ca) {
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = X509_gmtime_adj(nullptr, -3600);
    ASN1_TIME *next = X509_gmtime_adj(nullptr, 30L * 86400);
    bool ok = crl && last && next && X509_CRL_set_version(crl, 1) == 1 &&
              X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca.cert)) == 1 &&
              X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1 &&
              X509_CRL_sign(crl, ca.key, EVP_sha256()) > 0;
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    FILE *f = ok ? std::fopen(path.c_str(), "w") : nullptr;
    if (f) {
        ok = PEM_write_X509(f, ca.cert) == 1 && PEM_write_X509_CRL(f, crl) == 1;
        ok = std::fclose(f) == 0 && ok;
    } else {
        ok = false;
    }
    X509_CRL_free(crl);
    return ok;
}

void free_kc(KeyCert &kc) {
    X509_free(kc.cert);
    EVP_PKEY_free(kc.key);
    kc.cert = nullptr;
    kc.key = nullptr;
}

}  // namespace
}  // namespace ts

struct ts_pki {
    std::string dir;
    std::string ca_file;
    std::string wrong_ca_file;
    std::string ca_with_crl_file;
    ts::KeyCert ca, wrong_ca;
    ts::KeyCert leaf[4];  // indexed by ts_cert
};

namespace ts {
bool pki_server_cert(const ts_pki *pki, ts_cert which, X509 **cert, EVP_PKEY **key) {
    int i = static_cast<int>(which);
    if (!pki || i < 0 || i > 3) return false;
    *cert = pki->leaf[i].cert;
    *key = pki->leaf[i].key;
    return *cert && *key;
}
}  // namespace ts

extern "C" ts_pki *ts_pki_create(void) {
    auto *pki = new ts_pki;
    const char *tmpdir = std::getenv("TMPDIR");
    std::string t = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/lf-test-pki-XXXXXX";
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
        std::perror("mkdtemp");
        delete pki;
        return nullptr;
    }
    pki->dir = buf.data();
    const char *san = "IP:127.0.0.1,DNS:localhost";
    const long day = 86400;
    bool ok =
        ts::make_cert(pki->ca, "lf test CA", nullptr, true, nullptr, -day, 30 * day) &&
        ts::make_cert(pki->wrong_ca, "lf unrelated CA", nullptr, true, nullptr, -day, 30 * day) &&
        ts::make_cert(pki->leaf[TS_CERT_GOOD], "127.0.0.1", &pki->ca, false, san, -day, 30 * day) &&
        ts::make_cert(pki->leaf[TS_CERT_EXPIRED], "127.0.0.1", &pki->ca, false, san, -10 * day, -day) &&
        ts::make_cert(pki->leaf[TS_CERT_WRONG_HOST], "other.test", &pki->ca, false, "DNS:other.test", -day, 30 * day) &&
        ts::make_cert(pki->leaf[TS_CERT_SELF_SIGNED], "127.0.0.1", nullptr, false, san, -day, 30 * day);
    if (ok) {
        pki->ca_file = pki->dir + "/ca.pem";
        pki->wrong_ca_file = pki->dir + "/wrong-ca.pem";
        pki->ca_with_crl_file = pki->dir + "/ca-with-crl.pem";
        ok = ts::write_cert(pki->ca_file, pki->ca.cert) && ts::write_cert(pki->wrong_ca_file, pki->wrong_ca.cert) &&
             ts::write_ca_with_crl(pki->ca_with_crl_file, pki->ca);
    }
    if (!ok) {
        ts_pki_free(pki);
        return nullptr;
    }
    return pki;
}

extern "C" void ts_pki_free(ts_pki *pki) {
    if (!pki) return;
    if (!pki->ca_file.empty()) unlink(pki->ca_file.c_str());
    if (!pki->wrong_ca_file.empty()) unlink(pki->wrong_ca_file.c_str());
    if (!pki->ca_with_crl_file.empty()) unlink(pki->ca_with_crl_file.c_str());
    if (!pki->dir.empty()) rmdir(pki->dir.c_str());
    ts::free_kc(pki->ca);
    ts::free_kc(pki->wrong_ca);
    for (auto &kc : pki->leaf) ts::free_kc(kc);
    delete pki;
}

extern "C" const char *ts_pki_ca_file(const ts_pki *pki) { return pki ? pki->ca_file.c_str() : nullptr; }
extern "C" const char *ts_pki_wrong_ca_file(const ts_pki *pki) { return pki ? pki->wrong_ca_file.c_str() : nullptr; }
extern "C" const char *ts_pki_ca_with_crl_file(const ts_pki *pki) {
    return pki ? pki->ca_with_crl_file.c_str() : nullptr;
}
extern "C" const char *ts_pki_dir(const ts_pki *pki) { return pki ? pki->dir.c_str() : nullptr; }
