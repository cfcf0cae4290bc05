package lfauth

// Exchange and GraphQL run on the library's non-blocking calls: the
// goroutine waits on a channel, not inside C, so a waiting call pins no OS
// thread. The library calls done on the Client's I/O thread with user set to
// a cgo.Handle number of the waiting call: C memory never holds a Go
// pointer.

/*
#include <stdint.h>
#include "lfauth_go.h"

extern void lfGoExchangeDone(uintptr_t user, lf_status status, lf_token *token, lf_error *err);
extern void lfGoResponseDone(uintptr_t user, lf_status status, lf_response *response, lf_error *err);

static inline void lf_go_exchange_done(void *user, lf_status status, lf_token *token, const lf_error *err) {
	lfGoExchangeDone((uintptr_t)user, status, token, (lf_error *)err);
}

static inline void lf_go_response_done(void *user, lf_status status, lf_response *response, const lf_error *err) {
	lfGoResponseDone((uintptr_t)user, status, response, (lf_error *)err);
}

static inline lf_status lf_go_exchange_async(const lf_auth *a, const char *code, const lf_call_options *opts,
                                             uintptr_t user) {
	return lf_exchange_code_async(a, code, opts, lf_go_exchange_done, (void *)user);
}

static inline lf_status lf_go_graphql_async(const lf_auth *a, const char *token, const char *query,
                                            const char *variables, const lf_call_options *opts, uintptr_t user) {
	return lf_graphql_async(a, token, query, variables, opts, lf_go_response_done, (void *)user);
}
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// outcome is what done handed over, already copied into Go memory.
type outcome struct {
	err   error    // nil on LF_OK
	sent  Delivery // Exchange: lf_call_options.code_sent
	token *Token   // Exchange, on LF_OK
	body  []byte   // GraphQL: whenever a complete response arrived
}

// await queues one non-blocking call and waits for its done. The handle's
// shared lock is held only while queue runs: Close may free the handle
// while the call waits, and the library then ends the call with
// LF_E_CANCELLED. The call's C memory is freed only after done has run, when
// the library reads it no more.
func (c *Client) await(ctx context.Context, queue func(h *C.lf_auth, opts *C.lf_call_options, user C.uintptr_t) C.lf_status) outcome {
	h, cl, err := c.startCall(ctx)
	if err != nil {
		return outcome{err: err}
	}
	defer cl.end()
	cl.result = make(chan outcome, 1)
	cl.self = cgo.NewHandle(cl)
	st := queue(h, cl.opts, C.uintptr_t(cl.self))
	c.release()
	if st != C.LF_OK {
		// Refused: nothing was queued or sent, and done will never run.
		return outcome{err: newError(st, nil), sent: CodeNotSent}
	}
	out := <-cl.result
	// A call still waiting keeps its Client from the finalizer (whose Close
	// would end the call).
	runtime.KeepAlive(c)
	out.err = cl.wrap(out.err)
	c.blameClose(cl, out.err)
	return out
}

// blameClose makes a call that Close ended match ErrClosed too (when its
// context did not end it first).
func (c *Client) blameClose(cl *call, err error) {
	var e *Error
	if errors.As(err, &e) && e.Status == ErrCancelled && e.cause == nil && c.closed.Load() {
		e.cause = ErrClosed
	}
}

// callOf is the waiting call behind a done's user.
func callOf(user C.uintptr_t) *call {
	return cgo.Handle(user).Value().(*call)
}

// lfGoExchangeDone runs on the library's I/O thread: it only copies the
// result and hands it over (the channel has room: done runs once).
//
//export lfGoExchangeDone
func lfGoExchangeDone(user C.uintptr_t, status C.lf_status, token *C.lf_token, detail *C.lf_error) {
	cl := callOf(user)
	out := outcome{sent: cl.codeSent()} // written just before done
	if status == C.LF_OK && token != nil {
		out.token = takeToken(token)
	} else {
		C.lf_token_free(token)
		if status == C.LF_OK {
			status = C.LF_E_INTERNAL // the contract gives a token with LF_OK
		}
		out.err = newError(status, detail)
	}
	cl.result <- out
}

// lfGoResponseDone is lfGoExchangeDone for GraphQL.
//
//export lfGoResponseDone
func lfGoResponseDone(user C.uintptr_t, status C.lf_status, response *C.lf_response, detail *C.lf_error) {
	cl := callOf(user)
	var out outcome
	if response != nil {
		out.body = goBytes(unsafe.Pointer(C.lf_response_body(response)), int(C.lf_response_body_length(response)))
		C.lf_response_free(response)
	}
	out.err = newError(status, detail)
	cl.result <- out
}

// exchangeAsync queues lf_exchange_code_async for await.
func exchangeAsync(code *C.char) func(*C.lf_auth, *C.lf_call_options, C.uintptr_t) C.lf_status {
	return func(h *C.lf_auth, opts *C.lf_call_options, user C.uintptr_t) C.lf_status {
		return C.lf_go_exchange_async(h, code, opts, user)
	}
}

// graphqlAsync queues lf_graphql_async for await.
func graphqlAsync(token, query, variables *C.char) func(*C.lf_auth, *C.lf_call_options, C.uintptr_t) C.lf_status {
	return func(h *C.lf_auth, opts *C.lf_call_options, user C.uintptr_t) C.lf_status {
		return C.lf_go_graphql_async(h, token, query, variables, opts, user)
	}
}
