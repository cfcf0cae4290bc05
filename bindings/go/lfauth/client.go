package lfauth

// #include "lfauth_go.h"
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ClientAuth selects how the client authenticates at the token endpoint. The
// zero value is ClientAuthBasic, the platform's documented method. The Go
// values are not the C enum's (lf_client_auth): the zero value had to be the
// default.
type ClientAuth int

const (
	// ClientAuthBasic (the default) sends Authorization: Basic
	// base64(id:secret) to /api/access_token with the code in a form body:
	// the only method the platform's docs give since 2025-02. A ClientID
	// with ':' cannot be carried: New returns ErrInvalidArgument.
	ClientAuthBasic ClientAuth = iota
	// ClientAuthJSONBody sends client_id and client_secret in a JSON body to
	// /oauth/access_token: the earlier method (the platform's 2024 sample
	// app; the default before 1.1), no longer in the platform's docs.
	ClientAuthJSONBody
	// ClientAuthAuto learns which style works on the first exchange with a
	// probe that carries a deliberately invalid code; the real code is sent
	// once, only after a style has been accepted.
	ClientAuthAuto
)

// cValue is the lf_client_auth for a; false for a value that names none.
func (a ClientAuth) cValue() (C.lf_client_auth, bool) {
	switch a {
	case ClientAuthBasic:
		return C.LF_CLIENT_AUTH_BASIC, true
	case ClientAuthJSONBody:
		return C.LF_CLIENT_AUTH_JSON_BODY, true
	case ClientAuthAuto:
		return C.LF_CLIENT_AUTH_AUTO, true
	}
	return 0, false
}

// Config configures a Client. Zero values take the library's defaults.
//
// The secrets are copied into C memory by New and wiped when the Client is
// closed; the C copies made while building the client are wiped at once. The
// Go strings in Config cannot be wiped (Go strings are immutable): keep the
// Config short-lived.
//
// RedirectURIs empty (nil) makes a client for webhooks and the API only
// (library 1.1): SignWebhook, VerifyWebhook, Exchange, AccountID and GraphQL
// work, but ConsentURL, ParseCallback, ParseCallbackWithoutState and
// ParseCallbackSealed fail with ErrRedirectURINotAllowed.
type Config struct {
	ClientID             string   // required
	ClientSecret         string   // required
	PreviousClientSecret string   // optional: during a rotation, webhooks signed with it still verify
	RedirectURIs         []string // optional: allow-list, exact strings (https, or http to a loopback host); empty: see above

	AuthorizeURL string // "": https://app.lightfunnels.com/admin/oauth
	TokenURL     string // "": the endpoint that matches ClientAuth
	APIURL       string // "": https://services.lightfunnels.com/api/v2

	ClientAuth ClientAuth // default (zero) ClientAuthBasic

	ConnectTimeout   time.Duration // 0: 10 s
	Timeout          time.Duration // 0: 30 s, whole request
	StallTimeout     time.Duration // 0: 10 s; once a request started, no byte either way for this long: ErrTimeout
	MaxResponseBytes int64         // 0: 1 MiB
	CAFile           string        // "": the system trust store
	UserAgent        string        // "": "lightfunnels-auth/<version>"

	// Trace, when set, is called with each trace line of every call on the
	// Client (library 1.1): connections and why a pooled one was not reused,
	// TLS, requests (method, URL without its query, body size), answers,
	// ClientAuthAuto's probes, the error chosen, requests not sent again.
	// The library has masked every secret in line already. Trace runs while
	// a call is in progress: for Exchange and GraphQL on the Client's
	// library I/O thread (while it runs, the Client's other Exchange and
	// GraphQL calls wait), for AccountID on the goroutine making the call;
	// possibly on several threads at once. Keep it quick, and do not call
	// the same Client from it. A panic in Trace is recovered and that line
	// dropped.
	Trace func(event TraceEvent, line string)
}

// Client is a configured Lightfunnels app. It is safe for concurrent use by
// any number of goroutines and keeps a pool of connections: create one per
// app and share it.
//
// Call Close when done. A finalizer frees a forgotten Client, but only at
// some later garbage collection.
type Client struct {
	mu     sync.RWMutex // held shared by every call (Exchange and GraphQL: until queued), exclusively by Close
	p      *C.lf_auth
	trace  cgo.Handle  // Config.Trace, called by p; 0 when none
	closed atomic.Bool // Close has begun: LF_E_CANCELLED now also means ErrClosed
}

// New checks the whole configuration and creates a Client. It never touches
// the network.
func New(cfg Config) (*Client, error) {
	if cfg.ConnectTimeout < 0 || cfg.Timeout < 0 || cfg.StallTimeout < 0 {
		return nil, &Error{Status: ErrInvalidArgument, Message: "timeouts must not be negative"}
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, &Error{Status: ErrInvalidArgument, Message: "MaxResponseBytes must not be negative"}
	}

	var strs []*C.char
	defer func() {
		for _, p := range strs {
			freeSecret(p) // everything is wiped: cheaper than deciding what is secret
		}
	}()
	str := func(s, what string, optional bool) (*C.char, error) {
		var p *C.char
		var err error
		if optional {
			p, err = cOptString(s, what)
		} else {
			p, err = cString(s, what)
		}
		if p != nil {
			strs = append(strs, p)
		}
		return p, err
	}

	cfgSize := C.size_t(unsafe.Sizeof(C.lf_auth_config{}))
	c := (*C.lf_auth_config)(C.calloc(1, cfgSize))
	if c == nil {
		return nil, &Error{Status: ErrNoMemory, Message: "out of memory"}
	}
	defer C.free(unsafe.Pointer(c))
	C.lf_auth_config_init(c, cfgSize)

	var err error
	if c.client_id, err = str(cfg.ClientID, "ClientID", false); err != nil {
		return nil, err
	}
	if c.client_secret, err = str(cfg.ClientSecret, "ClientSecret", false); err != nil {
		return nil, err
	}
	if c.previous_client_secret, err = str(cfg.PreviousClientSecret, "PreviousClientSecret", true); err != nil {
		return nil, err
	}
	if n := len(cfg.RedirectURIs); n > 0 {
		arr := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		if arr == nil {
			return nil, &Error{Status: ErrNoMemory, Message: "out of memory"}
		}
		defer C.free(unsafe.Pointer(arr))
		elems := unsafe.Slice(arr, n)
		for i, u := range cfg.RedirectURIs {
			if elems[i], err = str(u, "redirect URI", false); err != nil {
				return nil, err
			}
		}
		c.redirect_uris = arr
		c.redirect_uri_count = C.size_t(n)
	}
	if c.authorize_url, err = str(cfg.AuthorizeURL, "AuthorizeURL", true); err != nil {
		return nil, err
	}
	if c.token_url, err = str(cfg.TokenURL, "TokenURL", true); err != nil {
		return nil, err
	}
	if c.api_url, err = str(cfg.APIURL, "APIURL", true); err != nil {
		return nil, err
	}
	if c.ca_file, err = str(cfg.CAFile, "CAFile", true); err != nil {
		return nil, err
	}
	if c.user_agent, err = str(cfg.UserAgent, "UserAgent", true); err != nil {
		return nil, err
	}
	clientAuth, known := cfg.ClientAuth.cValue()
	if !known {
		return nil, &Error{Status: ErrInvalidArgument, Message: "unknown ClientAuth"}
	}
	c.client_auth = clientAuth
	if cfg.ConnectTimeout > 0 {
		c.connect_timeout_ms = C.long(durationMillis(cfg.ConnectTimeout))
	}
	if cfg.Timeout > 0 {
		c.timeout_ms = C.long(durationMillis(cfg.Timeout))
	}
	if cfg.StallTimeout > 0 {
		c.stall_timeout_ms = C.long(durationMillis(cfg.StallTimeout))
	}
	if cfg.MaxResponseBytes > 0 {
		c.max_response_bytes = C.size_t(cfg.MaxResponseBytes)
	}

	var trace cgo.Handle
	if cfg.Trace != nil {
		trace = installTrace(c, cfg.Trace)
	}

	var h *C.lf_auth
	var detail C.lf_error
	st := C.lf_auth_new(c, &h, &detail)
	if st != C.LF_OK {
		if trace != 0 {
			trace.Delete()
		}
		return nil, newError(st, &detail)
	}
	client := &Client{p: h, trace: trace}
	runtime.SetFinalizer(client, (*Client).Close)
	return client, nil
}

// Close frees the client and wipes the secrets it holds. Exchange and
// GraphQL calls still waiting on other goroutines end at once with an error
// matching both ErrCancelled and ErrClosed (an Exchange's CodeSent says
// whether its code may be spent); AccountID calls in progress are waited
// for. Later calls return ErrClosed. Calling Close again does nothing. It
// always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != nil {
		c.closed.Store(true)
		// Every pending non-blocking call's done has run when this returns.
		C.lf_auth_free(c.p)
		c.p = nil
		if c.trace != 0 {
			c.trace.Delete() // nothing can call it now
			c.trace = 0
		}
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

// acquire takes the shared lock and returns the handle, or ErrClosed (with
// the lock already released).
func (c *Client) acquire() (*C.lf_auth, error) {
	c.mu.RLock()
	if c.p == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return c.p, nil
}

func (c *Client) release() {
	c.mu.RUnlock()
	runtime.KeepAlive(c)
}

// startCall begins a call that goes over the network: ctx as call options
// (beginCall), then the shared lock on the handle (acquire). Undo both with
// finishCall.
func (c *Client) startCall(ctx context.Context) (*C.lf_auth, *call, error) {
	cl, err := beginCall(ctx)
	if err != nil {
		return nil, nil, err
	}
	h, err := c.acquire()
	if err != nil {
		cl.end()
		return nil, nil, err
	}
	return h, cl, nil
}

func (c *Client) finishCall(cl *call) {
	c.release()
	cl.end()
}

// ConsentURL builds the URL of the consent screen to send the merchant to.
// redirectURI must equal one of Config.RedirectURIs byte for byte. Each
// scope must match [a-z0-9_]+; blanks and duplicates are dropped. state is
// omitted from the URL when "" (not recommended: use NewState and check it
// with ParseCallback). A client made without RedirectURIs returns
// ErrRedirectURINotAllowed for every redirectURI.
func (c *Client) ConsentURL(redirectURI string, scopes []string, state string) (string, error) {
	cRedirect, err := cString(redirectURI, "redirect URI")
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(cRedirect))
	cScopes, err := cString(strings.Join(scopes, ","), "scopes")
	if err != nil {
		return "", err
	}
	defer C.free(unsafe.Pointer(cScopes))
	cState, err := cOptString(state, "state")
	if err != nil {
		return "", err
	}
	defer freeSecret(cState)

	h, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release()
	out, st := fillBuffer(1024, func(buf *C.char, size C.size_t, needed *C.size_t) C.lf_status {
		st := C.lf_consent_url(h, cRedirect, cScopes, cState, buf, size, needed)
		runtime.KeepAlive(c)
		return st
	})
	if st != C.LF_OK {
		return "", newError(st, nil)
	}
	return out, nil
}

// NewState returns a fresh state value for ConsentURL: 256 random bits from
// the OS CSPRNG, base64url without padding (43 characters). Bind it to the
// merchant's browser session (e.g. a cookie) and pass it to ParseCallback.
func NewState() (string, error) {
	var buf [C.LF_STATE_BUFFER_SIZE]C.char
	st := C.lf_state_generate(&buf[0], C.size_t(len(buf)))
	if st != C.LF_OK {
		return "", newError(st, nil)
	}
	return goStringN(&buf[0], len(buf)), nil
}

// ParseCallback checks the redirect the merchant came back with and returns
// the authorization code. rawURL is the full callback URL or its query (with
// or without '?'), e.g. r.URL.RawQuery in a handler. expectedState is the
// state issued for this browser; it is required: an empty expectedState
// returns ErrStateMismatch, so a lost session can never silently disable the
// CSRF check (use ParseCallbackWithoutState for flows without state).
//
// Errors: ErrStateMismatch; ErrAccessDenied when the merchant declined (the
// *Error's Key is the OAuth error, e.g. "access_denied", and Message its
// description); ErrInvalidArgument for a malformed callback or no code;
// ErrRedirectURINotAllowed on a client made without RedirectURIs.
func (c *Client) ParseCallback(rawURL, expectedState string) (code string, err error) {
	if expectedState == "" {
		return "", &Error{Status: ErrStateMismatch, Message: "no expected state given (was the session lost?)"}
	}
	return c.parseCallback(rawURL, expectedState, true)
}

// ParseCallbackWithoutState is ParseCallback for flows that did not send a
// state. Prefer ParseCallback: state protects the callback against CSRF.
func (c *Client) ParseCallbackWithoutState(rawURL string) (code string, err error) {
	return c.parseCallback(rawURL, "", false)
}

func (c *Client) parseCallback(rawURL, expectedState string, checkState bool) (string, error) {
	cURL, err := cString(rawURL, "callback URL")
	if err != nil {
		return "", err
	}
	defer freeSecret(cURL) // it carries the code
	var cState *C.char
	if checkState {
		if cState, err = cString(expectedState, "state"); err != nil {
			return "", err
		}
		defer freeSecret(cState)
	}
	h, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release()
	var detail C.lf_error
	code, st := fillBuffer(256, func(buf *C.char, size C.size_t, needed *C.size_t) C.lf_status {
		st := C.lf_parse_callback(h, cURL, cState, buf, size, needed, &detail)
		runtime.KeepAlive(c)
		return st
	})
	if st != C.LF_OK {
		return "", newError(st, &detail)
	}
	return code, nil
}

// SealState returns a signed, expiring state for ConsentURL (since 1.1): it
// carries its issue time, 128 random bits and a MAC keyed from the client
// secret, so OpenState and ParseCallbackSealed can check it on any server of
// the same client with nothing stored in between (no cookie between consent
// and callback: what an app embedded in the Lightfunnels admin iframe needs).
// binding ties it to the browser session (e.g. the app's session id); ""
// means unbound, which only proves the state is this client's and recent:
// bind it whenever there is a session.
func (c *Client) SealState(binding string) (string, error) {
	cBinding, err := cOptString(binding, "binding")
	if err != nil {
		return "", err
	}
	defer freeSecret(cBinding)
	h, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release()
	var buf [C.LF_SEALED_STATE_BUFFER_SIZE]C.char
	st := C.lf_state_seal(h, cBinding, &buf[0], C.size_t(len(buf)), nil)
	runtime.KeepAlive(c)
	if st != C.LF_OK {
		return "", newError(st, nil)
	}
	return goStringN(&buf[0], len(buf)), nil
}

// OpenState checks a state made by SealState for the same binding: nil, or
// ErrStateMismatch (forged, altered, malformed, another binding or client)
// or ErrStateExpired (older than maxAge, or issued more than 60 s in the
// future). maxAge counts whole seconds (rounded down); under 1 s is
// ErrInvalidArgument. A state sealed under Config.PreviousClientSecret still
// opens. The state may be opened more than once: keep accepted states until
// they expire if each must be used once.
func (c *Client) OpenState(state, binding string, maxAge time.Duration) error {
	cState, err := cString(state, "state")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cState))
	cBinding, err := cOptString(binding, "binding")
	if err != nil {
		return err
	}
	defer freeSecret(cBinding)
	h, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	var detail C.lf_error
	st := C.lf_state_open(h, cState, cBinding, maxAgeSeconds(maxAge), &detail)
	runtime.KeepAlive(c)
	return newError(st, &detail)
}

// ParseCallbackSealed is ParseCallback for a state made by SealState: the
// callback's state is opened with OpenState(state, binding, maxAge) instead
// of compared, before anything else is looked at. Errors: those of
// ParseCallback, plus ErrStateExpired.
func (c *Client) ParseCallbackSealed(rawURL, binding string, maxAge time.Duration) (code string, err error) {
	cURL, err := cString(rawURL, "callback URL")
	if err != nil {
		return "", err
	}
	defer freeSecret(cURL) // it carries the code
	cBinding, err := cOptString(binding, "binding")
	if err != nil {
		return "", err
	}
	defer freeSecret(cBinding)
	h, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.release()
	var detail C.lf_error
	code, st := fillBuffer(256, func(buf *C.char, size C.size_t, needed *C.size_t) C.lf_status {
		st := C.lf_parse_callback_sealed(h, cURL, cBinding, maxAgeSeconds(maxAge), buf, size, needed, &detail)
		runtime.KeepAlive(c)
		return st
	})
	if st != C.LF_OK {
		return "", newError(st, &detail)
	}
	return code, nil
}

// maxAgeSeconds is d in whole seconds for the library's long, clamped so a
// huge duration stays huge (never wraps to a negative).
func maxAgeSeconds(d time.Duration) C.long {
	s := int64(d / time.Second)
	if s > math.MaxInt32 {
		s = math.MaxInt32
	}
	return C.long(s)
}

// Exchange trades a single-use authorization code for the permanent access
// token. ctx bounds the call: its deadline shortens the request's timeout and
// cancelling it aborts the request within about 100 ms. While it waits for
// the network the goroutine is parked: it holds no OS thread.
//
// The *Error's CodeSent tells whether the code can have reached the server.
// When CodeSpent(err) is false (CodeNotSent: e.g. the connection was refused)
// the same code can be exchanged again at once; otherwise the code may be
// spent: start the flow again. The library itself never retries.
// ErrInvalidCode: the code was used, expired or unknown. ErrInvalidClient:
// the client id or secret was rejected.
func (c *Client) Exchange(ctx context.Context, code string) (*Token, error) {
	cCode, err := cString(code, "code")
	if err != nil {
		return nil, err
	}
	defer freeSecret(cCode) // copied by the library before the call is queued
	out := c.await(ctx, exchangeAsync(cCode))
	var e *Error
	if errors.As(out.err, &e) {
		e.CodeSent = out.sent
		if e.Status == ErrInvalidArgument && e.Message == ErrInvalidArgument.Message() {
			e.Message = codeRefusal(code, e.Message)
		}
	}
	if out.err != nil {
		return nil, out.err
	}
	return out.token, nil
}

// codeRefusal is the library's reason for refusing code: a refused
// non-blocking call reports only its status.
func codeRefusal(code, fallback string) string {
	switch {
	case code == "":
		return "the authorization code is empty"
	case len(code) > maxCodeLength:
		return "the authorization code is too long"
	}
	return fallback
}

// The longest code and token the library takes.
const (
	maxCodeLength  = 4096
	maxTokenLength = 4096
)

// AccountID asks the API which account token belongs to. Apps key their
// stored tokens by it. ErrUnauthorized means the token does not work now (the
// merchant must install again); the uninstall signal is the app/uninstalled
// webhook.
func (c *Client) AccountID(ctx context.Context, token string) (string, error) {
	cTok, err := cString(token, "token")
	if err != nil {
		return "", err
	}
	defer freeSecret(cTok)
	h, cl, err := c.startCall(ctx)
	if err != nil {
		return "", err
	}
	defer c.finishCall(cl)

	var detail C.lf_error
	// A short buffer would cost a second request: start large.
	id, st := fillBuffer(512, func(buf *C.char, size C.size_t, needed *C.size_t) C.lf_status {
		st := C.lf_account_id_ex(h, cTok, cl.opts, buf, size, needed, &detail)
		runtime.KeepAlive(c)
		return st
	})
	if st != C.LF_OK {
		return "", cl.wrap(newError(st, &detail))
	}
	return id, nil
}

// GraphQL POSTs {"query": query, "variables": variables} to the API with the
// token. variables is marshalled with encoding/json and must encode as a JSON
// object (a map or a struct; json.RawMessage for pre-encoded text); nil sends
// {}. It returns the raw response body.
//
// The body is returned whenever a complete HTTP response was received, also
// together with an error: with ErrAPI (the answer carried GraphQL "errors";
// the first one's key and message are in the *Error), ErrUnauthorized,
// ErrRateLimited or ErrHTTP, so the caller can read it.
//
// As with Exchange, a waiting GraphQL call holds no OS thread.
func (c *Client) GraphQL(ctx context.Context, token, query string, variables any) ([]byte, error) {
	var cVars *C.char
	if variables != nil {
		js, err := json.Marshal(variables)
		if err != nil {
			return nil, err
		}
		if string(js) != "null" {
			if cVars, err = cString(string(js), "variables"); err != nil {
				return nil, err
			}
			defer freeSecret(cVars) // may carry customer data
		}
	}
	cTok, err := cString(token, "token")
	if err != nil {
		return nil, err
	}
	defer freeSecret(cTok)
	cQuery, err := cString(query, "query")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cQuery))
	out := c.await(ctx, graphqlAsync(cTok, cQuery, cVars))
	var e *Error
	if errors.As(out.err, &e) && e.Status == ErrInvalidArgument && e.Message == ErrInvalidArgument.Message() {
		e.Message = graphqlRefusal(token, query, cVars != nil, e.Message)
	}
	return out.body, out.err
}

// graphqlRefusal is the library's reason for refusing a GraphQL call, in the
// order it checks: a refused non-blocking call reports only its status.
func graphqlRefusal(token, query string, hasVariables bool, fallback string) string {
	switch {
	case !isB64Token(token):
		return "the access token is not a valid RFC 6750 token"
	case query == "":
		return "the query is empty"
	case hasVariables:
		return "variables_json is not a JSON object"
	}
	return fallback
}

// isB64Token is RFC 6750's b64token, as long as the library takes:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	if len(s) > maxTokenLength {
		return false
	}
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' ||
		strings.IndexByte("-._~+/", s[i]) >= 0) {
		i++
	}
	if i == 0 {
		return false
	}
	return strings.Trim(s[i:], "=") == ""
}

// fillBuffer runs fn with a Go buffer of initial bytes and, when the library
// answers LF_E_BUFFER_TOO_SMALL, again with the size it asked for. It returns
// the NUL-terminated result.
func fillBuffer(initial int, fn func(buf *C.char, size C.size_t, needed *C.size_t) C.lf_status) (string, C.lf_status) {
	size := initial
	for attempt := 0; attempt < 3; attempt++ {
		buf := make([]byte, size)
		var needed C.size_t
		st := fn((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &needed)
		if st == C.LF_E_BUFFER_TOO_SMALL && int(needed) > size {
			size = int(needed)
			continue
		}
		if st != C.LF_OK {
			return "", st
		}
		return goStringN((*C.char)(unsafe.Pointer(&buf[0])), len(buf)), st
	}
	return "", C.LF_E_INTERNAL
}
