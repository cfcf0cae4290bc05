package lfauth

// #include "lfauth_go.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Token is a permanent access token. Printing it with any fmt verb (%v, %+v,
// %#v, %s, %q, ...) shows lfauth.Token(REDACTED), never the value, so it does
// not end up in logs by accident; Value returns it explicitly.
//
// The library's C copy is wiped and freed as soon as the token has been
// copied into Go memory. Close overwrites that Go copy; but strings returned
// by Value cannot be wiped (Go strings are immutable and the garbage
// collector may have copied them), so keep them short-lived.
type Token struct {
	value []byte
}

// takeToken copies a C token into Go memory and frees (wipes) the C token.
func takeToken(t *C.lf_token) *Token {
	defer C.lf_token_free(t)
	v := C.lf_token_value(t)
	if v == nil {
		return &Token{}
	}
	return &Token{value: goBytes(unsafe.Pointer(v), int(C.strlen(v)))}
}

// Value returns the access token, e.g. to store it or to pass it to GraphQL
// and AccountID. "" after Close.
func (t *Token) Value() string {
	if t == nil {
		return ""
	}
	return string(t.value)
}

// Close overwrites the token's bytes held by t. Calling it again does
// nothing. Do not call it while another goroutine uses t.
func (t *Token) Close() error {
	if t != nil {
		for i := range t.value {
			t.value[i] = 0
		}
		t.value = nil
	}
	return nil
}

const redacted = "lfauth.Token(REDACTED)"

// String returns "lfauth.Token(REDACTED)".
func (t Token) String() string { return redacted }

// GoString returns "lfauth.Token(REDACTED)" (the %#v form).
func (t Token) GoString() string { return redacted }

// Format prints "lfauth.Token(REDACTED)" for every verb and flag.
func (t Token) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", redacted)
	default:
		_, _ = f.Write([]byte(redacted))
	}
}

// MarshalText encodes the token as "REDACTED" (encoding/json, XML and other
// encoders), so serialising a struct never leaks it: store Value explicitly.
func (t Token) MarshalText() ([]byte, error) {
	return []byte("REDACTED"), nil
}
