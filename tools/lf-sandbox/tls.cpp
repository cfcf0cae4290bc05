#include "tls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace sandbox {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct X509Free {
    void operator()(X509 *p) const { X509_free(p); }
};
struct BioFree {
    void operator()(BIO *p) const { BIO_free(p); }
};
struct BnFree {
    void operator()(BIGNUM *p) const { BN_free(p); }
};
struct ExtFree {
    void operator()(X509_EXTENSION *p) const { X509_EXTENSION_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

std::string ssl_error(const char *what) {
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + (e ? std::string(": ") + buf : std::string());
}

bool add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value) {
    std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool random_serial(X509 *cert) {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) return false;
    raw[0] &= 0x7f;  // positive
    raw[0] |= 0x01;  // and never zero-length after stripping leading zeros
    std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(raw, sizeof raw, nullptr));
    return bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr;
}

// issuer == nullptr: self-signed with `key`.
Cert make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca, std::string &err) {
    Cert cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !random_serial(cert.get())) {
        err = ssl_error("creating a certificate");
        return nullptr;
    }
    X509_NAME *name = X509_get_subject_name(cert.get());
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("lf-sandbox"), -1,
                                   -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(cn), -1, -1, 0) !=
            1 ||
        X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600) || X509_set_pubkey(cert.get(), key) != 1) {
        err = ssl_error("filling a certificate");
        return nullptr;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    bool ok;
    if (ca) {
        ok = add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
             add_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
             add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    } else {
        ok = add_ext(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature") &&
             add_ext(cert.get(), &ctx, NID_ext_key_usage, "serverAuth") &&
             add_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
             add_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always") &&
             add_ext(cert.get(), &ctx, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
    }
    if (!ok) {
        err = ssl_error("adding certificate extensions");
        return nullptr;
    }
    if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) {
        err = ssl_error("signing a certificate");
        return nullptr;
    }
    return cert;
}

// Writes `data` to `path` via a temporary file and rename(), so a reader
// never sees half a file. Keys get mode 0600.
bool write_file(const std::string &path, const std::string &data, mode_t mode, std::string &err) {
    std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        err = "cannot create " + tmp + ": " + std::strerror(errno);
        return false;
    }
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            err = "cannot write " + tmp + ": " + std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(fd, mode) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        err = "cannot write " + path + ": " + std::strerror(errno);
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

bool pem_of(X509 *cert, EVP_PKEY *key, std::string &out) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
    if (!bio) return false;
    if (cert && PEM_write_bio_X509(bio.get(), cert) != 1) return false;
    if (key && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) return false;
    char *data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || !data) return false;
    out.assign(data, static_cast<size_t>(len));
    if (key) OPENSSL_cleanse(data, static_cast<size_t>(len));
    return true;
}

}  // namespace

bool generate_self_signed(const std::string &dir, TlsFiles &out, std::string &err) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        err = "cannot create " + dir + ": " + std::strerror(errno);
        return false;
    }
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        err = dir + " is not a directory";
        return false;
    }
    Pkey ca_key(EVP_EC_gen("P-256"));
    Pkey srv_key(EVP_EC_gen("P-256"));
    if (!ca_key || !srv_key) {
        err = ssl_error("generating keys");
        return false;
    }
    Cert ca = make_cert("lf-sandbox test CA", ca_key.get(), nullptr, nullptr, true, err);
    if (!ca) return false;
    Cert srv = make_cert("localhost", srv_key.get(), ca.get(), ca_key.get(), false, err);
    if (!srv) return false;
    std::string ca_pem, cert_pem, key_pem;
    if (!pem_of(ca.get(), nullptr, ca_pem) || !pem_of(srv.get(), nullptr, cert_pem) ||
        !pem_of(nullptr, srv_key.get(), key_pem)) {
        err = ssl_error("encoding PEM");
        return false;
    }
    out.ca_cert = dir + "/ca.pem";
    out.server_cert = dir + "/server-cert.pem";
    out.server_key = dir + "/server-key.pem";
    bool ok = write_file(out.server_key, key_pem, 0600, err) && write_file(out.server_cert, cert_pem, 0644, err) &&
              write_file(out.ca_cert, ca_pem, 0644, err);
    OPENSSL_cleanse(&key_pem[0], key_pem.size());
    return ok;
}

}  // namespace sandbox
