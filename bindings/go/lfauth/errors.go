package lfauth

// #include "lfauth_go.h"
import "C"

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Status is a library status code (lf_status). Values are ABI: they never
// change within major version 1. A Status is itself an error, so the
// constants below serve as sentinels:
//
//	if errors.Is(err, lfauth.ErrInvalidCode) { /* start the flow again */ }
//
// lf_status has no negative values, so C compilers make it unsigned: Status is
// a uint32.
type Status uint32

// Status codes, mirroring lf_status in lightfunnels/auth.h.
const (
	StatusOK                 Status = 0
	ErrInvalidArgument       Status = 1  // NULL, malformed or out-of-range input (incl. a bad callback)
	ErrBufferTooSmall        Status = 2  // internal: the binding sizes buffers itself
	ErrNoMemory              Status = 3  // an allocation failed
	ErrRedirectURINotAllowed Status = 4  // redirect URI not in the allow-list (exact match), or a client made without RedirectURIs
	ErrStateMismatch         Status = 5  // callback state missing or different from the expected one
	ErrStateExpired          Status = 6  // sealed state older than its max age, or from the future (OpenState, since 1.1)
	ErrAccessDenied          Status = 7  // the merchant declined (callback carried error=...)
	ErrNetwork               Status = 8  // connection failed, reset or closed early
	ErrTimeout               Status = 9  // connect or total timeout reached (or the context's deadline)
	ErrTLS                   Status = 10 // certificate, host name or handshake failure
	ErrInsecureTransport     Status = 11 // http:// to a non-loopback host, or an unusable URL scheme
	ErrHTTP                  Status = 12 // unexpected HTTP status (incl. 3xx: redirects are not followed)
	ErrInvalidCode           Status = 13 // authorization code rejected: used, expired or unknown
	ErrInvalidClient         Status = 14 // client id/secret rejected
	ErrUnauthorized          Status = 15 // access token rejected: it does not work now (install again); uninstalls come as the app/uninstalled webhook
	ErrAPI                   Status = 16 // the API answered with GraphQL errors
	ErrProtocol              Status = 17 // malformed or unexpected response
	ErrResponseTooLarge      Status = 18 // response over MaxResponseBytes
	ErrSignatureMismatch     Status = 19 // webhook signature missing or wrong
	ErrCancelled             Status = 20 // the context was cancelled (or its deadline passed) during the call, or Close ended it
	ErrRateLimited           Status = 21 // HTTP 429 or rate_limit_reached; see Error.RetryAfter
	ErrInternal              Status = 22 // a bug or an unexpected failure inside the library
)

// String returns the C name of the status, e.g. "LF_E_TIMEOUT". Values this
// library version does not know print as "LF_E_UNKNOWN(<n>)".
func (s Status) String() string {
	name := C.GoString(C.lf_status_name(C.lf_status(s)))
	if name == "LF_E_UNKNOWN" {
		return name + "(" + strconv.FormatUint(uint64(s), 10) + ")"
	}
	return name
}

// Message returns the library's short English description of the status.
func (s Status) Message() string {
	return C.GoString(C.lf_status_message(C.lf_status(s)))
}

// Error implements error, so a Status can be used as an errors.Is target.
func (s Status) Error() string {
	return "lfauth: " + s.String() + ": " + s.Message()
}

// ErrClosed is returned by every method of a Client after Close.
var ErrClosed = errors.New("lfauth: client is closed")

// Error is the detailed error returned by every fallible function of this
// package (except ErrClosed and JSON marshalling errors). It matches its
// Status with errors.Is:
//
//	var e *lfauth.Error
//	if errors.As(err, &e) && e.Status == lfauth.ErrRateLimited {
//		time.Sleep(e.RetryAfter)
//	}
//
// When a call ends because its context was cancelled or its deadline passed,
// the Error also wraps ctx.Err(), so errors.Is(err, context.Canceled) or
// errors.Is(err, context.DeadlineExceeded) is true as well.
//
// CodeSent says, for an error from Client.Exchange, whether the code can have
// reached the server (see CodeSpent). Other calls send no code: CodeNotSent.
//
// Message never contains the client secret, an authorization code or a token.
type Error struct {
	Status     Status        // what went wrong
	HTTPStatus int           // HTTP status of the response; 0 when none was received
	RetryAfter time.Duration // the server's Retry-After (0 when absent), at most one hour
	Key        string        // the server's error key (Lightfunnels "key" or OAuth "error"); "" when none
	Message    string        // what went wrong, with the server's description when it sent one
	CodeSent   Delivery      // Exchange only: whether the code can have reached the server

	cause error // the context's error, when the context ended the call
}

// Delivery tells whether an authorization code can have reached the token
// endpoint (lf_code_sent). Values mirror the C enum.
type Delivery int

const (
	// CodeNotSent: the code provably never left the process (bad argument,
	// an ended context, connection refused, DNS or TLS failure before the
	// request, ...). Exchanging the same code again is safe.
	CodeNotSent Delivery = C.LF_CODE_NOT_SENT
	// CodeMaybeSent: the request went out (or started to) and no complete
	// answer came back (reset, timeout, cancel after sending). The code may
	// be spent: send the merchant through the consent screen again.
	CodeMaybeSent Delivery = C.LF_CODE_MAYBE_SENT
	// CodeSent: the server answered, so it has seen the code.
	CodeSent Delivery = C.LF_CODE_SENT
)

// String returns "not sent", "maybe sent" or "sent".
func (d Delivery) String() string {
	switch d {
	case CodeNotSent:
		return "not sent"
	case CodeMaybeSent:
		return "maybe sent"
	case CodeSent:
		return "sent"
	}
	return "Delivery(" + strconv.Itoa(int(d)) + ")"
}

// CodeSpent reports whether the code given to Client.Exchange may have been
// used up, given the error Exchange returned. It is false only when err is
// (or wraps) an *Error whose CodeSent is CodeNotSent: then the same code can
// be exchanged again at once. Otherwise (nil, the code reached the server or
// may have, or an error that tells nothing, such as ErrClosed) the code must
// be treated as spent: start the flow again.
//
//	tok, err := client.Exchange(ctx, code)
//	if err != nil && !lfauth.CodeSpent(err) {
//		tok, err = client.Exchange(ctx, code) // e.g. after a refused connection
//	}
func CodeSpent(err error) bool {
	var e *Error
	return !errors.As(err, &e) || e.CodeSent != CodeNotSent
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("lfauth: ")
	b.WriteString(e.Status.String())
	if e.HTTPStatus != 0 || e.Key != "" {
		b.WriteString(" (")
		if e.HTTPStatus != 0 {
			b.WriteString("HTTP ")
			b.WriteString(strconv.Itoa(e.HTTPStatus))
			if e.Key != "" {
				b.WriteString(", ")
			}
		}
		b.WriteString(e.Key)
		b.WriteString(")")
	}
	msg := e.Message
	if msg == "" {
		msg = e.Status.Message()
	}
	b.WriteString(": ")
	b.WriteString(msg)
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Is reports whether target is the Status of e (errors.Is(err, ErrTimeout)).
func (e *Error) Is(target error) bool {
	s, ok := target.(Status)
	return ok && s == e.Status
}

// Unwrap returns the context error that ended the call, if any.
func (e *Error) Unwrap() error { return e.cause }

// Timeout reports whether the call ran out of time (the net.Error convention).
func (e *Error) Timeout() bool {
	return e.Status == ErrTimeout || errors.Is(e.cause, context.DeadlineExceeded)
}

// newError converts a failed status and its optional detail into an *Error.
func newError(st C.lf_status, detail *C.lf_error) error {
	if st == C.LF_OK {
		return nil
	}
	e := &Error{Status: Status(st)}
	if detail != nil {
		e.HTTPStatus = int(detail.http_status)
		if detail.retry_after_s > 0 {
			e.RetryAfter = time.Duration(detail.retry_after_s) * time.Second
		}
		e.Key = goStringN(&detail.key[0], len(detail.key))
		e.Message = goStringN(&detail.message[0], len(detail.message))
	}
	if e.Message == "" {
		e.Message = e.Status.Message()
	}
	return e
}

// contextError is the error for a context that ended before or during a call.
func contextError(err error) error {
	st := ErrCancelled
	if errors.Is(err, context.DeadlineExceeded) {
		st = ErrTimeout
	}
	return &Error{Status: st, Message: "the context ended before the call completed", cause: err}
}
