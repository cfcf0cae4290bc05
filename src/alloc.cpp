#include "alloc.hpp"

#include <atomic>
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

// Dependency blocks carry their size and origin in a header this big (keeps alignment).
constexpr std::size_t kHeader = alignof(std::max_align_t) > 16 ? alignof(std::max_align_t) : 16;
static_assert(kHeader >= sizeof(std::size_t) + sizeof(void *), "dependency block header");
}  // namespace

void set_allocator(const AllocatorHooks *hooks) noexcept {
    g_hooks = hooks ? *hooks : AllocatorHooks{};
    g_custom = hooks != nullptr;
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

// A bump allocator over one block of the caller's allocator. Only the
// thread holding the ReserveScope takes from it; blocks may be given back
// from any thread. refs_ counts the owner plus every block taken.
class Reserve {
public:
    explicit Reserve(std::size_t size) noexcept : size_(size) {}
    void *take(std::size_t n) noexcept {
        n = (n + kHeader - 1) / kHeader * kHeader;
        if (n > size_ - used_) return nullptr;
        void *p = data() + used_;
        used_ += n;
        refs_.fetch_add(1, std::memory_order_relaxed);
        return p;
    }
    void unref() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        wipe_large(data(), used_);
        this->~Reserve();
        mem_free(this);
    }
    std::size_t size() const noexcept { return size_; }
    std::size_t room() const noexcept { return size_ - used_; }

private:
    unsigned char *data() noexcept { return reinterpret_cast<unsigned char *>(this) + kOffset; }
    static constexpr std::size_t kOffset =
        (sizeof(std::size_t) * 2 + sizeof(std::atomic<std::size_t>) + kHeader - 1) / kHeader * kHeader;
    std::size_t size_;
    std::size_t used_ = 0;
    std::atomic<std::size_t> refs_{1};

    friend Reserve *reserve_new(std::size_t) noexcept;
};

namespace {
thread_local Reserve *const *t_reserves = nullptr;
thread_local std::size_t t_reserve_count = 0;

// A block from the first reserve in scope with room, or nullptr.
void *take_reserved(std::size_t n, Reserve *&from) noexcept {
    for (std::size_t i = 0; i < t_reserve_count; i++) {
        if (void *p = t_reserves[i]->take(n)) {
            from = t_reserves[i];
            return p;
        }
    }
    return nullptr;
}
}  // namespace

Reserve *reserve_new(std::size_t bytes) noexcept {
    static_assert(sizeof(Reserve) <= Reserve::kOffset, "reserve header");
    void *p = mem_alloc(Reserve::kOffset + bytes);
    return p ? new (p) Reserve(bytes) : nullptr;
}

void reserve_release(Reserve *r) noexcept {
    if (r) r->unref();
}

std::size_t reserve_size(const Reserve *r) noexcept { return r->size(); }

std::size_t reserve_room(const Reserve *r) noexcept { return r->room(); }

ReserveScope::ReserveScope(Reserve *const *rs, std::size_t n) noexcept
    : previous_(t_reserves), previous_n_(t_reserve_count) {
    t_reserves = rs;
    t_reserve_count = n;
}

ReserveScope::~ReserveScope() {
    t_reserves = previous_;
    t_reserve_count = previous_n_;
}

namespace dep {

// Every block carries a header: its size, and the reserve it came from
// (nullptr: the allocator).
void *malloc_fn(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) - kHeader) {
        t_dep_failed = true;
        return nullptr;
    }
    auto *base = static_cast<unsigned char *>(mem_alloc(n + kHeader));
    Reserve *from = nullptr;
    if (!base) base = static_cast<unsigned char *>(take_reserved(n + kHeader, from));
    if (!base) {
        t_dep_failed = true;
        return nullptr;
    }
    std::memcpy(base, &n, sizeof n);
    std::memcpy(base + sizeof n, &from, sizeof from);
    return base + kHeader;
}

void free_fn(void *p) {
    if (!p) return;
    unsigned char *base = static_cast<unsigned char *>(p) - kHeader;
    std::size_t n;
    Reserve *from;
    std::memcpy(&n, base, sizeof n);
    std::memcpy(&from, base + sizeof n, sizeof from);
    wipe(base, n + kHeader);
    if (from)
        from->unref();
    else
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
