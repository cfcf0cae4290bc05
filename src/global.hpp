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

}  // namespace lf
