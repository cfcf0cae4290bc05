// The trust anchors TLS connections verify against, parsed once per process.
//
// libcurl 7.88 parses the CA bundle again for every new connection when a CA
// directory is set (Debian's default: /etc/ssl/certs next to the bundle),
// and once per multi handle otherwise: about 22 ms of CPU for the system
// bundle each time. Here one X509_STORE per CA source is kept for the whole
// process and installed in each new connection's TLS context, for as long as
// the file is unchanged (same device, inode, size, mtime and ctime, checked
// at every new connection). A changed file is parsed again; a file that can
// no longer be read fails the connection, as libcurl's own loading would.
#pragma once

#include <cstddef>

typedef struct x509_store_st X509_STORE;

namespace lf::trust {

enum class Result {
    Ok,        // *out holds a new reference: X509_STORE_free() it
    NoSource,  // no CA file and libcurl has no default location either
    Failed,    // the file cannot be read or holds no certificate; why is set
    NoMemory,
};

// The store for `ca_file` (nullptr: libcurl's default bundle and directory,
// the system trust store), with the verification flags libcurl sets on its
// own stores. On Failed, `why` (of `why_size` bytes) says what went wrong,
// naming the file. Thread-safe.
Result acquire(const char *ca_file, X509_STORE **out, char *why, std::size_t why_size) noexcept;

// Drops every cached store (connections still using one keep it alive).
// Called by lf_global_cleanup().
void clear() noexcept;

}  // namespace lf::trust
