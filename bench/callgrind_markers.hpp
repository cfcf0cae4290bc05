// Callgrind's client requests when valgrind's header is installed, and
// no-ops otherwise, so the benchmarks build either way.
#pragma once

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define LF_HAVE_CALLGRIND 1
#endif
#endif
#ifndef LF_HAVE_CALLGRIND
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS
#endif
