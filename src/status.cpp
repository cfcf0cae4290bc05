#include "status.hpp"

namespace lf {

namespace {

constexpr bool same_text(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

// Every entry has a C++ spelling (else the enumerator is still called
// LF_STATUS_CXX_<NAME>), and a value below the count: with the switches
// below refusing a repeated value, the values run from 0 without a gap.
#define LF_STR(x) #x
#define LF_STR_EXPANDED(x) LF_STR(x)
#define LF_STATUS_CHECK(name, value, message)                                               \
    static_assert(!same_text(LF_STR_EXPANDED(LF_STATUS_CXX(name)), "LF_STATUS_CXX_" #name), \
                  "LF_STATUS_CXX_" #name " needs a C++ spelling in status.hpp");            \
    static_assert((value) < kStatusCount, "LF_" #name ": LF_STATUS_MAP values must run from 0 without a gap");
LF_STATUS_MAP(LF_STATUS_CHECK)
#undef LF_STATUS_CHECK
#undef LF_STR_EXPANDED
#undef LF_STR

}  // namespace

// Switches generated from the map, without `default`: a repeated value does
// not compile, and the fallback after the switch covers values from a newer
// caller.
const char *status_name(Status s) noexcept {
    switch (s) {
#define LF_STATUS_NAME(name, value, message) \
    case Status::LF_STATUS_CXX(name):        \
        return "LF_" #name;
        LF_STATUS_MAP(LF_STATUS_NAME)
#undef LF_STATUS_NAME
    }
    return "LF_E_UNKNOWN";
}

const char *status_message(Status s) noexcept {
    switch (s) {
#define LF_STATUS_MESSAGE(name, value, message) \
    case Status::LF_STATUS_CXX(name):           \
        return message;
        LF_STATUS_MAP(LF_STATUS_MESSAGE)
#undef LF_STATUS_MESSAGE
    }
    return "Unknown status.";
}

}  // namespace lf
