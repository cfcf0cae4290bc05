// The public header alone, as C++17 with every warning an error.
#include <lightfunnels/auth.h>

#include <type_traits>

static_assert(std::is_standard_layout<lf_error>::value, "lf_error is a C struct");
static_assert(sizeof(lf_status) == sizeof(int), "lf_status is int-sized");

int main() { return LF_OK; }
