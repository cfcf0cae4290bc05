#include "global.hpp"

#include "trust.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include <cjson/cJSON.h>
#include <curl/curl.h>

namespace lf {

namespace {
std::atomic<long> g_forks{0};
extern "C" void lf_count_fork() { g_forks.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

// Registered on first use, which comes before any pool records a mark. In
// the unlikely case the handler cannot be registered (no memory), the
// process id serves, at the cost of a system call.
long process_mark() noexcept {
    static const bool counted = pthread_atfork(nullptr, nullptr, lf_count_fork) == 0;
    return counted ? g_forks.load(std::memory_order_relaxed) : static_cast<long>(getpid());
}

namespace {
std::mutex g_mu;
std::atomic<bool> g_ready{false};
unsigned g_flags = 0;

Status init_locked(const AllocatorHooks *hooks, unsigned flags) {
    set_allocator(hooks);
    CURLcode rc;
    if (flags & kHookDependencies) {
        rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, dep::malloc_fn, dep::free_fn, dep::realloc_fn, dep::strdup_fn,
                                  dep::calloc_fn);
    } else {
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    }
    if (rc != CURLE_OK) {
        set_allocator(nullptr);
        return rc == CURLE_OUT_OF_MEMORY ? Status::NoMemory : Status::Internal;
    }
    if (flags & kHookDependencies) {
        cJSON_Hooks h{dep::malloc_fn, dep::free_fn};
        cJSON_InitHooks(&h);
    }
    g_flags = flags;
    g_ready.store(true, std::memory_order_release);
    return Status::Ok;
}
}  // namespace

Status global_init(const AllocatorHooks *hooks, unsigned flags) {
    if (flags & ~kHookDependencies) return Status::InvalidArgument;
    if (hooks && (!hooks->alloc || !hooks->realloc || !hooks->free)) return Status::InvalidArgument;
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_ready.load(std::memory_order_acquire))
        return same_allocator(hooks) && flags == g_flags ? Status::Ok : Status::InvalidArgument;
    return init_locked(hooks, flags);
}

Status ensure_init() {
    if (g_ready.load(std::memory_order_acquire)) return Status::Ok;
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_ready.load(std::memory_order_acquire)) return Status::Ok;
    return init_locked(nullptr, 0);
}

bool dependencies_hooked() noexcept { return (g_flags & kHookDependencies) != 0; }

void global_cleanup() noexcept {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_ready.load(std::memory_order_acquire)) return;
    trust::clear();
    curl_global_cleanup();
    if (g_flags & kHookDependencies) cJSON_InitHooks(nullptr);
    set_allocator(nullptr);
    g_flags = 0;
    g_ready.store(false, std::memory_order_release);
}

}  // namespace lf
