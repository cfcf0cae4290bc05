package lfauth

// The library calls lf_go_trace (C) with trace_user, which is a cgo.Handle
// number, not a Go pointer: C memory never holds a Go pointer, and the
// handle keeps the Go function alive until the Client deletes it.

/*
#include <stdint.h>
#include "lfauth_go.h"

extern void lfGoTrace(uintptr_t handle, int event, char *line);

static inline void lf_go_trace(void *user, int event, const char *line) {
	lfGoTrace((uintptr_t)user, event, (char *)line);
}

static inline void lf_go_set_trace(lf_auth_config *c, uintptr_t handle) {
	c->trace = lf_go_trace;
	c->trace_user = (void *)handle;
}
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
)

// TraceEvent says what a trace line is about (the C LF_TRACE_* numbers). The
// library may add events: ignore the ones you do not know.
type TraceEvent int

const (
	// TraceConnect: a new connection: host, port, address, why no pooled one
	// was reused, times.
	TraceConnect TraceEvent = C.LF_TRACE_CONNECT
	// TraceReuse: a pooled connection was reused.
	TraceReuse TraceEvent = C.LF_TRACE_REUSE
	// TraceTLS: the TLS version and cipher of a new connection.
	TraceTLS TraceEvent = C.LF_TRACE_TLS
	// TraceRequest: a request went out: method, URL without its query, body
	// size.
	TraceRequest TraceEvent = C.LF_TRACE_REQUEST
	// TraceResponse: an answer arrived: HTTP status, body size, total time.
	TraceResponse TraceEvent = C.LF_TRACE_RESPONSE
	// TraceAuto: ClientAuthAuto's probes, their verdicts and the style chosen.
	TraceAuto TraceEvent = C.LF_TRACE_AUTO
	// TraceError: a failure: the status chosen and why.
	TraceError TraceEvent = C.LF_TRACE_ERROR
	// TraceNoRetry: a request that failed after it may have reached the
	// server, not sent again.
	TraceNoRetry TraceEvent = C.LF_TRACE_NO_RETRY
)

var traceEventNames = map[TraceEvent]string{
	TraceConnect:  "connect",
	TraceReuse:    "reuse",
	TraceTLS:      "tls",
	TraceRequest:  "request",
	TraceResponse: "response",
	TraceAuto:     "auto",
	TraceError:    "error",
	TraceNoRetry:  "no-retry",
}

// String is a short lower-case name ("connect", "request", ...), or
// "event(N)" for an event this binding does not know.
func (e TraceEvent) String() string {
	if name, ok := traceEventNames[e]; ok {
		return name
	}
	return fmt.Sprintf("event(%d)", int(e))
}

// installTrace points c's trace hook at fn through a new handle, which the
// caller deletes once no handle made from c can call it any more.
func installTrace(c *C.lf_auth_config, fn func(TraceEvent, string)) cgo.Handle {
	h := cgo.NewHandle(fn)
	C.lf_go_set_trace(c, C.uintptr_t(h))
	return h
}

//export lfGoTrace
func lfGoTrace(handle C.uintptr_t, event C.int, line *C.char) {
	fn, ok := cgo.Handle(handle).Value().(func(TraceEvent, string))
	if !ok || line == nil {
		return
	}
	// A panic must not unwind through the library's C frames: the line is
	// dropped instead.
	defer func() { _ = recover() }()
	fn(TraceEvent(event), C.GoString(line))
}
