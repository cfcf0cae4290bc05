// Library-wide initialisation: libcurl's global state and the allocator.
#pragma once

#include "alloc.hpp"
#include "status.hpp"

namespace lf {

constexpr unsigned kHookDependencies = 0x1u;

Status global_init(const AllocatorHooks *hooks, unsigned flags);
void global_cleanup() noexcept;
// Lazy initialisation with the defaults; cheap once done.
Status ensure_init();
// True when libcurl's and cJSON's allocations go through our hooks.
bool dependencies_hooked() noexcept;
// Which process this is: a number that differs in the child of every
// fork() from the parent's, so that pools can tell they were inherited.
// Checked on every call, so it is no system call (getpid() is one, ~1 us
// on some virtual machines): a pthread_atfork child handler counts forks.
long process_mark() noexcept;

}  // namespace lf
