package lfauth

// #include "lfauth_go.h"
import "C"

import (
	"context"
	"errors"
	"math"
	"runtime/cgo"
	"sync/atomic"
	"time"
	"unsafe"
)

// call carries a context into one C call as lf_call_options: the deadline
// becomes timeout_ms and cancellation a C-allocated flag that a goroutine
// sets when ctx is done. The library keeps reading the flag while the call
// runs (for a non-blocking call: until its done runs), so it must live in C
// memory, never in Go memory; the same holds for code_sent, which the
// options (C memory) point to.
type call struct {
	ctx      context.Context
	opts     *C.lf_call_options // C memory
	sent     *C.lf_code_sent    // C memory; written by lf_exchange_code_ex
	flag     *C.int             // C memory; nil when ctx can never be cancelled
	deadline time.Time
	hasDL    bool
	stop     chan struct{}
	done     chan struct{}

	// A non-blocking call's: self is what its done receives as user (0
	// until queued), result where done hands the outcome over.
	self   cgo.Handle
	result chan outcome
}

// liveCalls counts the calls whose C memory (and handle) is not freed yet.
var liveCalls atomic.Int64

// beginCall prepares the options for one call. A context that has already
// ended returns an error at once, without calling C.
func beginCall(ctx context.Context) (*call, error) {
	if ctx == nil {
		return nil, &Error{Status: ErrInvalidArgument, Message: "nil context"}
	}
	if err := ctx.Err(); err != nil {
		return nil, contextError(err)
	}
	cl := &call{ctx: ctx}
	cl.deadline, cl.hasDL = ctx.Deadline()
	var timeoutMS int64
	if cl.hasDL {
		rem := time.Until(cl.deadline)
		if rem <= 0 {
			return nil, contextError(context.DeadlineExceeded)
		}
		timeoutMS = durationMillis(rem)
	}
	cl.opts = (*C.lf_call_options)(C.calloc(1, C.size_t(unsafe.Sizeof(C.lf_call_options{}))))
	if cl.opts == nil {
		return nil, &Error{Status: ErrNoMemory, Message: "out of memory"}
	}
	C.lf_call_options_init(cl.opts, C.size_t(unsafe.Sizeof(C.lf_call_options{})))
	cl.opts.timeout_ms = C.long(timeoutMS)
	cl.sent = (*C.lf_code_sent)(C.calloc(1, C.size_t(unsafe.Sizeof(C.lf_code_sent(0)))))
	if cl.sent == nil {
		C.free(unsafe.Pointer(cl.opts))
		return nil, &Error{Status: ErrNoMemory, Message: "out of memory"}
	}
	// Should a library ever leave it unwritten, "maybe" is the safe reading.
	*cl.sent = C.LF_CODE_MAYBE_SENT
	cl.opts.code_sent = cl.sent
	if ctx.Done() != nil {
		cl.flag = (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
		if cl.flag == nil {
			C.free(unsafe.Pointer(cl.sent))
			C.free(unsafe.Pointer(cl.opts))
			return nil, &Error{Status: ErrNoMemory, Message: "out of memory"}
		}
		cl.opts.cancel = cl.flag
		cl.stop = make(chan struct{})
		cl.done = make(chan struct{})
		go cl.watch()
	}
	liveCalls.Add(1)
	return cl, nil
}

func (cl *call) watch() {
	defer close(cl.done)
	select {
	case <-cl.ctx.Done():
		C.lf_go_cancel(cl.flag)
	case <-cl.stop:
	}
}

// end stops the watcher and frees the C memory. The watcher has exited
// before the flag is freed, so it can never write to freed memory. A
// non-blocking call ends only after its done has run (or once it was
// refused), when the library no longer reads the options.
func (cl *call) end() {
	if cl.self != 0 {
		cl.self.Delete()
		cl.self = 0
	}
	if cl.flag != nil {
		close(cl.stop)
		<-cl.done
		C.free(unsafe.Pointer(cl.flag))
		cl.flag = nil
	}
	if cl.opts != nil {
		C.free(unsafe.Pointer(cl.opts))
		cl.opts = nil
	}
	if cl.sent != nil {
		C.free(unsafe.Pointer(cl.sent))
		cl.sent = nil
	}
	liveCalls.Add(-1)
}

// codeSent is what lf_exchange_code_ex reported through the options.
func (cl *call) codeSent() Delivery {
	return Delivery(*cl.sent)
}

// wrap attaches the context's error to a cancellation or a timeout that the
// context caused, so errors.Is(err, context.Canceled/DeadlineExceeded) holds.
func (cl *call) wrap(err error) error {
	var e *Error
	if err == nil || !errors.As(err, &e) {
		return err
	}
	switch e.Status {
	case ErrCancelled:
		if cerr := cl.ctx.Err(); cerr != nil {
			e.cause = cerr
		}
	case ErrTimeout:
		if cerr := cl.ctx.Err(); cerr != nil {
			e.cause = cerr
		} else if cl.hasDL && time.Until(cl.deadline) < 25*time.Millisecond {
			// timeout_ms was the context's remaining time and it ran out
			// (a hair before Go's own timer fired).
			e.cause = context.DeadlineExceeded
		}
	}
	return err
}

// durationMillis rounds d up to whole milliseconds, at least 1, at most
// MaxInt32 (a C long is 32 bits on some platforms).
func durationMillis(d time.Duration) int64 {
	ms := int64((d + time.Millisecond - 1) / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	if ms > math.MaxInt32 {
		ms = math.MaxInt32
	}
	return ms
}
