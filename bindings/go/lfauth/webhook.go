package lfauth

// #include "lfauth_go.h"
import "C"

import (
	"errors"
	"io"
	"net/http"
	"runtime"
	"unsafe"
)

// WebhookHeader is the header that carries a webhook's signature.
const WebhookHeader = "Lightfunnels-Hmac"

// MaxWebhookBytes bounds the body WebhookHandler reads.
const MaxWebhookBytes = 1 << 20

// VerifyWebhook checks the lightfunnels-hmac header of a webhook against the
// raw request body (exactly the bytes received, never a re-serialisation).
// A signature made with Config.PreviousClientSecret is accepted too. It
// returns nil or an *Error with ErrSignatureMismatch (also for a missing or
// malformed header).
//
// There is no timestamp in the scheme: a replayed webhook still verifies, so
// deduplicate events.
func (c *Client) VerifyWebhook(body []byte, header string) error {
	cHeader, err := cString(header, "signature")
	if err != nil {
		return &Error{Status: ErrSignatureMismatch, Message: "malformed signature header"}
	}
	defer C.free(unsafe.Pointer(cHeader))
	h, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	var p unsafe.Pointer
	if len(body) > 0 {
		p = unsafe.Pointer(&body[0])
	}
	st := C.lf_webhook_verify(h, p, C.size_t(len(body)), cHeader)
	runtime.KeepAlive(c)
	runtime.KeepAlive(body)
	return newError(st, nil)
}

// SignWebhook returns the lightfunnels-hmac value for body, made with the
// current client secret. For tests and tools that send webhooks.
func (c *Client) SignWebhook(body []byte) (string, error) {
	h, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release()
	var p unsafe.Pointer
	if len(body) > 0 {
		p = unsafe.Pointer(&body[0])
	}
	var buf [C.LF_SIGNATURE_BUFFER_SIZE]C.char
	st := C.lf_webhook_sign(h, p, C.size_t(len(body)), &buf[0], C.size_t(len(buf)), nil)
	runtime.KeepAlive(c)
	runtime.KeepAlive(body)
	if st != C.LF_OK {
		return "", newError(st, nil)
	}
	return goStringN(&buf[0], len(buf)), nil
}

// WebhookHandler returns an http.Handler that accepts only verified
// webhooks. It reads the raw body (at most MaxWebhookBytes), checks the
// lightfunnels-hmac header and calls next with the body; r.Body is already
// consumed. Answers: 405 for a method other than POST, 413 for a body over
// the limit, 400 when the body cannot be read, 401 for a missing, repeated or
// wrong signature, 500 when the check itself failed (e.g. after Close).
func (c *Client) WebhookHandler(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "webhook body too large", http.StatusRequestEntityTooLarge)
			} else {
				http.Error(w, "cannot read webhook body", http.StatusBadRequest)
			}
			return
		}
		sigs := r.Header.Values(WebhookHeader)
		if len(sigs) != 1 {
			http.Error(w, "invalid webhook signature", http.StatusUnauthorized)
			return
		}
		if err := c.VerifyWebhook(body, sigs[0]); err != nil {
			if errors.Is(err, ErrSignatureMismatch) {
				http.Error(w, "invalid webhook signature", http.StatusUnauthorized)
			} else {
				http.Error(w, "cannot verify webhook", http.StatusInternalServerError)
			}
			return
		}
		next(w, r, body)
	})
}
