/* The public header alone, as C99 with every warning an error (see CMake). */
#include <lightfunnels/auth.h>

#if !LF_AUTH_VERSION_CHECK(1, 0, 0)
#error "version macros broken"
#endif

int main(void) {
    lf_error err = {LF_OK, 0, 0, {0}, {0}};
    return (int)err.status;
}
