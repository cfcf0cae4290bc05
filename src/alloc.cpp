#include "alloc.hpp"

#include <cstdlib>
#include <cstring>
#include <string.h>  // explicit_bzero

#include <openssl/crypto.h>

namespace lf {

namespace {
// Written only by global init/cleanup, before/after any concurrent use (the
// header documents this), so plain reads are safe afterwards.
AllocatorHooks g_hooks;
bool g_custom = false;

thread_local bool t_dep_failed = false;

// Dependency blocks carry their size in a header this big (keeps alignment).
constexpr std::size_t kHeader = alignof(std::max_align_t) > 16 ? alignof(std::max_align_t) : 16;
}  // namespace

void set_allocator(const AllocatorHooks *hooks) noexcept {
    if (hooks) {
        g_hooks = *hooks;
        g_custom = true;
    } else {
        g_hooks = AllocatorHooks{};
        g_custom = false;
    }
}

bool same_allocator(const AllocatorHooks *hooks) noexcept {
    if (!hooks) return !g_custom;
    return g_custom && hooks->alloc == g_hooks.alloc && hooks->realloc == g_hooks.realloc &&
           hooks->free == g_hooks.free && hooks->ctx == g_hooks.ctx;
}

void *mem_alloc(std::size_t n) noexcept {
    if (n == 0) n = 1;
    return g_custom ? g_hooks.alloc(g_hooks.ctx, n) : std::malloc(n);
}

void mem_free(void *p) noexcept {
    if (!p) return;
    if (g_custom)
        g_hooks.free(g_hooks.ctx, p);
    else
        std::free(p);
}

// explicit_bzero is glibc's (and musl's, and the BSDs') memset that the
// compiler may not drop. It is called in pieces below glibc's `rep stosb`
// threshold (2 KiB), which glibc serves with vector stores: measured on the
// bench machine, 26 ns for 5 KiB against 43 ns in one call and 214 ns with
// OPENSSL_cleanse (8 bytes per store), which made wiping the response and
// token buffers a visible part of an exchange (docs/BENCHMARKS.md).
void wipe_large(void *p, std::size_t n) noexcept {
#ifdef LF_HAVE_EXPLICIT_BZERO
    constexpr std::size_t kPiece = 1024;
    auto *b = static_cast<unsigned char *>(p);
    for (std::size_t off = 0; off < n; off += kPiece) explicit_bzero(b + off, n - off < kPiece ? n - off : kPiece);
#else
    OPENSSL_cleanse(p, n);
#endif
}

namespace dep {

void *malloc_fn(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) - kHeader) {
        t_dep_failed = true;
        return nullptr;
    }
    auto *base = static_cast<unsigned char *>(mem_alloc(n + kHeader));
    if (!base) {
        t_dep_failed = true;
        return nullptr;
    }
    std::memcpy(base, &n, sizeof n);
    return base + kHeader;
}

void free_fn(void *p) {
    if (!p) return;
    unsigned char *base = static_cast<unsigned char *>(p) - kHeader;
    std::size_t n;
    std::memcpy(&n, base, sizeof n);
    wipe(base, n + kHeader);
    mem_free(base);
}

// A fresh block and a wiped old one: an in-place realloc could leave a copy
// of a secret behind in memory we no longer own.
void *realloc_fn(void *p, std::size_t n) {
    if (!p) return malloc_fn(n);
    if (n == 0) {
        free_fn(p);
        return nullptr;
    }
    void *q = malloc_fn(n);
    if (!q) return nullptr;
    std::size_t old;
    std::memcpy(&old, static_cast<unsigned char *>(p) - kHeader, sizeof old);
    std::memcpy(q, p, old < n ? old : n);
    free_fn(p);
    return q;
}

char *strdup_fn(const char *s) {
    std::size_t n = std::strlen(s) + 1;
    auto *p = static_cast<char *>(malloc_fn(n));
    if (p) std::memcpy(p, s, n);
    return p;
}

void *calloc_fn(std::size_t n, std::size_t size) {
    if (size && n > static_cast<std::size_t>(-1) / size) {
        t_dep_failed = true;
        return nullptr;
    }
    void *p = malloc_fn(n * size);
    if (p) std::memset(p, 0, n * size);
    return p;
}

bool take_failure() noexcept {
    bool f = t_dep_failed;
    t_dep_failed = false;
    return f;
}

}  // namespace dep
}  // namespace lf
