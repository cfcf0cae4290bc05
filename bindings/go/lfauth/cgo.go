package lfauth

// The library is found with pkg-config, exactly as a user's build would find
// an installed copy. The major version is checked at compile time: a 2.x
// header (a different ABI) must not be compiled against this binding.

/*
#cgo pkg-config: lightfunnels-auth
#include "lfauth_go.h"
#if LF_AUTH_VERSION_MAJOR != 1
#error "lfauth: lightfunnels-auth major version 1 is required"
#endif
*/
import "C"

import (
	"bytes"
	"unsafe"
)

// Version reports the version of the C library actually loaded, e.g. "1.1.0".
func Version() string {
	return C.GoString(C.lf_version())
}

// cString copies s into C memory. Strings with a NUL byte are refused: C
// would silently see a shorter string (a truncated secret or code).
func cString(s, what string) (*C.char, error) {
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		return nil, &Error{Status: ErrInvalidArgument, Message: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// cOptString is cString with "" mapped to NULL (the library's default).
func cOptString(s, what string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cString(s, what)
}

// freeSecret wipes and frees a string made by cString. NULL-safe.
func freeSecret(p *C.char) {
	C.lf_go_free_secret(p)
}

// goStringN reads a NUL-terminated string from a fixed-size C array without
// ever reading past its end.
func goStringN(p *C.char, n int) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// goBytes copies n bytes of C memory into a new Go slice.
func goBytes(p unsafe.Pointer, n int) []byte {
	out := make([]byte, n)
	if n > 0 {
		copy(out, unsafe.Slice((*byte)(p), n))
	}
	return out
}
