#include "trust.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace lf::trust {

namespace {

// A program uses one or two CA sources; a few more (tests, tools that try
// several files) replace the least recently used.
constexpr std::size_t kEntries = 4;

struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtim{};
    timespec ctim{};
};

Identity identity_of(const struct stat &st) noexcept {
    Identity id;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
    id.size = st.st_size;
    id.mtim = st.st_mtim;
    id.ctim = st.st_ctim;
    return id;
}

bool same_time(const timespec &a, const timespec &b) noexcept { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

bool same(const Identity &a, const Identity &b) noexcept {
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && same_time(a.mtim, b.mtim) &&
           same_time(a.ctim, b.ctim);
}

// Static storage: the cache outlives handles and must not hold blocks of the
// caller's allocator (lf_global_cleanup may swap it). The stores themselves
// are OpenSSL's.
struct Entry {
    char file[PATH_MAX];  // "" when unused
    bool system = false;  // libcurl's defaults: the bundle and the directory
    Identity id;
    X509_STORE *store = nullptr;
    unsigned long long used = 0;
};

std::mutex g_mu;
Entry g_entries[kEntries];
unsigned long long g_clock = 0;
bool g_defaults_read = false;
char g_default_file[PATH_MAX];  // libcurl's built-in CA bundle, "" if none
char g_default_dir[PATH_MAX];   // libcurl's built-in CA directory, "" if none

void copy_path(char (&dst)[PATH_MAX], const char *src) noexcept {
    dst[0] = '\0';
    if (src && std::strlen(src) < sizeof dst) std::memcpy(dst, src, std::strlen(src) + 1);
}

// Where libcurl itself would look when no CA file is given.
bool read_defaults() noexcept {
    if (g_defaults_read) return true;
    CURL *probe = curl_easy_init();
    if (!probe) return false;
    char *file = nullptr;
    char *dir = nullptr;
    if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &file) != CURLE_OK) file = nullptr;
    if (curl_easy_getinfo(probe, CURLINFO_CAPATH, &dir) != CURLE_OK) dir = nullptr;
    copy_path(g_default_file, file);
    copy_path(g_default_dir, dir);
    curl_easy_cleanup(probe);
    g_defaults_read = true;
    return true;
}

// Certificates compute derived fields (extension flags, hashes) on first
// use, under a per-certificate lock but with an unlocked fast path in
// OpenSSL 3.0. Computing them all here, before the store is published to
// other threads, leaves nothing to be filled in concurrently later.
void prefill(X509_STORE *st) noexcept {
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(st);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x) X509_check_purpose(x, -1, 0);
    }
}

// Completes a store that is `r` so far: the CA directory (if any) as a
// lookup, libcurl's flags, the derived fields; *out on success, else freed.
Result finish(X509_STORE *st, Result r, const char *dir, X509_STORE **out, char *why, std::size_t why_size) noexcept {
    if (r == Result::Ok && dir && *dir && X509_STORE_load_path(st, dir) != 1) {
        std::snprintf(why, why_size, "cannot use the CA directory %s", dir);
        r = Result::Failed;
    }
    // libcurl 7.88 sets these on its own stores (and sets them again on this
    // one after the ClientHello: the same bits, so the value never changes).
    if (r == Result::Ok && X509_STORE_set_flags(st, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN) != 1)
        r = Result::NoMemory;
    ERR_clear_error();  // libcurl reads this thread's error queue for its own messages
    if (r != Result::Ok) {
        X509_STORE_free(st);
        return r;
    }
    prefill(st);
    *out = st;
    return Result::Ok;
}

// Parses the open PEM file `fd` (closed here) the way libcurl's
// X509_STORE_load_file() would: every certificate and CRL it holds; a parse
// error anywhere, or no certificate at all, fails the whole file.
Result build(int fd, const char *file, const char *dir, X509_STORE **out, char *why, std::size_t why_size) noexcept {
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return Result::NoMemory;
    }
    BIO *bio = BIO_new_fp(fp, BIO_CLOSE);
    if (!bio) {
        std::fclose(fp);
        return Result::NoMemory;
    }
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509_INFO) *infos =
        st ? PEM_X509_INFO_read_bio_ex(bio, nullptr, nullptr, const_cast<char *>(""), nullptr, nullptr) : nullptr;
    BIO_free(bio);
    Result r = Result::Ok;
    if (!st) {
        r = Result::NoMemory;
    } else if (!infos) {
        std::snprintf(why, why_size, "cannot parse the CA file %s as PEM", file);
        r = Result::Failed;
    } else {
        int count = 0;
        for (int i = 0; i < sk_X509_INFO_num(infos) && r == Result::Ok; i++) {
            X509_INFO *info = sk_X509_INFO_value(infos, i);
            if (info->x509) {
                if (X509_STORE_add_cert(st, info->x509) != 1) r = Result::NoMemory;
                count++;
            }
            if (info->crl) {
                if (X509_STORE_add_crl(st, info->crl) != 1) r = Result::NoMemory;
                count++;
            }
        }
        if (r == Result::Ok && count == 0) {
            std::snprintf(why, why_size, "the CA file %s holds no certificate", file);
            r = Result::Failed;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return finish(st, r, dir, out, why, why_size);
}

// A CA directory alone: OpenSSL reads it lazily, by subject hash, at each
// verification, so there is nothing to parse up front or to cache.
Result dir_only(const char *dir, X509_STORE **out, char *why, std::size_t why_size) noexcept {
    if (!dir[0]) return Result::NoSource;
    X509_STORE *st = X509_STORE_new();
    if (!st) return Result::NoMemory;
    return finish(st, Result::Ok, dir, out, why, why_size);
}

Entry *find(const char *file, bool system) noexcept {
    for (Entry &e : g_entries)
        if (e.file[0] && e.system == system && std::strcmp(e.file, file) == 0) return &e;
    return nullptr;
}

Entry *victim() noexcept {
    Entry *v = &g_entries[0];
    for (Entry &e : g_entries) {
        if (!e.file[0]) return &e;
        if (e.used < v->used) v = &e;
    }
    return v;
}

void drop(Entry &e) noexcept {
    X509_STORE_free(e.store);
    e.store = nullptr;
    e.file[0] = '\0';
}

}  // namespace

Result acquire(const char *ca_file, X509_STORE **out, char *why, std::size_t why_size) noexcept {
    *out = nullptr;
    std::lock_guard<std::mutex> lock(g_mu);
    const char *dir = nullptr;
    const bool system = !ca_file;
    if (system) {
        if (!read_defaults()) return Result::NoMemory;
        if (!g_default_file[0]) return dir_only(g_default_dir, out, why, why_size);
        ca_file = g_default_file;
        dir = g_default_dir;
    }
    if (std::strlen(ca_file) >= PATH_MAX) {
        std::snprintf(why, why_size, "cannot read the CA file %.64s...: %s", ca_file, "path too long");
        return Result::Failed;
    }
    char buf[128];
    struct stat st;
    if (stat(ca_file, &st) != 0) {
        std::snprintf(why, why_size, "cannot read the CA file %s: %s", ca_file, strerror_r(errno, buf, sizeof buf));
        return Result::Failed;
    }
    Entry *e = find(ca_file, system);
    if (e && same(e->id, identity_of(st)) && X509_STORE_up_ref(e->store) == 1) {
        e->used = ++g_clock;
        *out = e->store;
        return Result::Ok;
    }

    // Parse what is open, and remember the identity of what was parsed.
    // Non-blocking, so that a FIFO in place of the file cannot hang us.
    int fd = open(ca_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        std::snprintf(why, why_size, "cannot read the CA file %s: %s", ca_file, strerror_r(errno, buf, sizeof buf));
        if (fd >= 0) close(fd);
        return Result::Failed;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        std::snprintf(why, why_size, "the CA file %s is not a regular file", ca_file);
        return Result::Failed;
    }
    X509_STORE *store = nullptr;
    Result r = build(fd, ca_file, dir, &store, why, why_size);
    if (r != Result::Ok) return r;
    if (X509_STORE_up_ref(store) != 1) {
        X509_STORE_free(store);
        return Result::NoMemory;
    }
    if (!e) e = victim();
    Identity id = identity_of(st);
    drop(*e);
    copy_path(e->file, ca_file);
    e->system = system;
    e->id = id;
    e->store = store;  // the cache's reference
    e->used = ++g_clock;
    *out = store;  // the caller's
    return Result::Ok;
}

void clear() noexcept {
    std::lock_guard<std::mutex> lock(g_mu);
    for (Entry &e : g_entries)
        if (e.file[0]) drop(e);
    g_defaults_read = false;
}

}  // namespace lf::trust
