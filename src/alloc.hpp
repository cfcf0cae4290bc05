// The one allocation path of the library. Every heap block the library
// itself makes comes from mem_alloc (the caller's allocator when one was
// installed with lf_global_init, else the C heap); containers use
// lf::Allocator, which wipes every block before releasing it, so no secret
// outlives its container.
#pragma once

#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lf {

struct AllocatorHooks {
    void *(*alloc)(void *ctx, std::size_t n) = nullptr;
    void *(*realloc)(void *ctx, void *p, std::size_t n) = nullptr;
    void (*free)(void *ctx, void *p) = nullptr;
    void *ctx = nullptr;
};

// Installs (hooks != nullptr) or removes the allocator. Only called by
// global init/cleanup while no other thread uses the library.
void set_allocator(const AllocatorHooks *hooks) noexcept;
bool same_allocator(const AllocatorHooks *hooks) noexcept;

void *mem_alloc(std::size_t n) noexcept;  // nullptr on failure
void mem_free(void *p) noexcept;
// Zeroes n bytes; never optimised away. Small buffers (keys, MACs, hash
// states on the stack) are zeroed inline: the empty asm statement takes the
// pointer and clobbers memory, so the compiler must assume the zeros are
// read and cannot drop the stores (the technique of BoringSSL's
// OPENSSL_cleanse). Larger ones go to wipe_large.
void wipe_large(void *p, std::size_t n) noexcept;
inline void wipe(void *p, std::size_t n) noexcept {
    if (!p || !n) return;
    if (n > 256) return wipe_large(p, n);
    std::memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

// Hooks in libcurl's and cJSON's shape: they prepend the block size so every
// block can be wiped when released. Failures set a thread-local flag that
// the caller of a dependency reads to tell "out of memory" from "bad input".
namespace dep {
void *malloc_fn(std::size_t n);
void free_fn(void *p);
void *realloc_fn(void *p, std::size_t n);
char *strdup_fn(const char *s);
void *calloc_fn(std::size_t n, std::size_t size);
bool take_failure() noexcept;  // true if an allocation failed on this thread since the last call
}  // namespace dep

// Memory set aside before an authorization code is sent. While a
// ReserveScope is active on a thread, an allocation of libcurl or cJSON
// (through the dependency hooks below) that the allocator refuses is served
// from the reserve instead, so nothing that happens after the code went out
// can fail for lack of memory and lose the token it bought. Blocks taken
// from it are freed like any other (and may outlive the scope: libcurl keeps
// some with its connections); the reserve goes back to the allocator when
// its owner has released it and its last block is freed.
class Reserve;
Reserve *reserve_new(std::size_t bytes) noexcept;     // nullptr on failure
void reserve_release(Reserve *r) noexcept;            // the owner's reference; nullptr-safe
std::size_t reserve_size(const Reserve *r) noexcept;  // the bytes it was made with
std::size_t reserve_room(const Reserve *r) noexcept;  // the bytes not taken yet

// One reserve in scope, or several (the async loop's pool, from which every
// exchange in flight reads its answer): a refused allocation is served by the
// first of them with room. The array must outlive the scope.
class ReserveScope {
public:
    explicit ReserveScope(Reserve *r) noexcept : ReserveScope(&one_, r ? 1 : 0) { one_ = r; }
    ReserveScope(Reserve *const *rs, std::size_t n) noexcept;
    ReserveScope(const ReserveScope &) = delete;
    ReserveScope &operator=(const ReserveScope &) = delete;
    ~ReserveScope();

private:
    Reserve *one_ = nullptr;
    Reserve *const *previous_;
    std::size_t previous_n_;
};

template <class T>
struct Allocator {
    using value_type = T;
    Allocator() noexcept = default;
    template <class U>
    Allocator(const Allocator<U> &) noexcept {}
    T *allocate(std::size_t n) {
        if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
        void *p = mem_alloc(n * sizeof(T));
        if (!p) throw std::bad_alloc();
        return static_cast<T *>(p);
    }
    void deallocate(T *p, std::size_t n) noexcept {
        wipe(p, n * sizeof(T));
        mem_free(p);
    }
    template <class U>
    bool operator==(const Allocator<U> &) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const Allocator<U> &) const noexcept {
        return false;
    }
};

using String = std::basic_string<char, std::char_traits<char>, Allocator<char>>;
template <class T>
using Vector = std::vector<T, Allocator<T>>;

// A string holding a secret: its bytes are wiped however it is released,
// including the small-string buffer inside the object itself.
class SecretString {
public:
    SecretString() = default;
    explicit SecretString(std::string_view v) : s_(v.data(), v.size()) {}
    SecretString(const SecretString &) = delete;
    SecretString &operator=(const SecretString &) = delete;
    // A heap buffer is wiped by Allocator::deallocate; only a short string
    // living inside the object itself needs wiping here.
    ~SecretString() {
        if (s_.capacity() < sizeof s_) wipe(&s_[0], s_.capacity());
    }
    String &str() noexcept { return s_; }
    const String &str() const noexcept { return s_; }
    const char *c_str() const noexcept { return s_.c_str(); }
    std::size_t size() const noexcept { return s_.size(); }
    bool empty() const noexcept { return s_.empty(); }
    std::string_view view() const noexcept { return {s_.data(), s_.size()}; }

private:
    String s_;
};

// new/delete through mem_alloc, for the objects behind the C handles.
template <class T, class... Args>
T *make(Args &&...args) {
    void *p = mem_alloc(sizeof(T));
    if (!p) throw std::bad_alloc();
    try {
        return new (p) T(std::forward<Args>(args)...);
    } catch (...) {
        mem_free(p);
        throw;
    }
}

template <class T>
void destroy(T *p) noexcept {
    if (!p) return;
    p->~T();
    wipe(p, sizeof(T));
    mem_free(p);
}

}  // namespace lf
