package lfauth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const (
	testRedirect = "https://app.example.test/lightfunnels/callback?x=1&y=a%20b"
	testSecret   = "s3cr=t/with!odd+chars"
)

func newTestClient(t *testing.T, mutate ...func(*lfauth.Config)) *lfauth.Client {
	t.Helper()
	cfg := lfauth.Config{
		ClientID:     "client id/ü",
		ClientSecret: testSecret,
		RedirectURIs: []string{testRedirect, "http://127.0.0.1:8080/cb"},
		AuthorizeURL: "https://auth.example.test/admin/oauth",
		TokenURL:     "https://auth.example.test/oauth/access_token",
		APIURL:       "https://api.example.test/api/v2",
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := lfauth.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func statusOf(err error) lfauth.Status {
	var e *lfauth.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return lfauth.StatusOK
}

func TestVersion(t *testing.T) {
	if !regexp.MustCompile(`^1\.\d+\.\d+`).MatchString(lfauth.Version()) {
		t.Fatalf("Version() = %q, want 1.x.y", lfauth.Version())
	}
}

func TestConsentURLRoundTrip(t *testing.T) {
	c := newTestClient(t)
	state, err := lfauth.NewState()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.ConsentURL(testRedirect, []string{"products", " orders ", "products", "", "orders"}, state)
	if err != nil {
		t.Fatalf("ConsentURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	if u.Scheme != "https" || u.Host != "auth.example.test" || u.Path != "/admin/oauth" {
		t.Errorf("base of %q", raw)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": "client id/ü", "redirect_uri": testRedirect, "scope": "products,orders", "state": state,
	}
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("unexpected parameters in %q", raw)
	}
	if !strings.Contains(raw, "scope=products,orders") {
		t.Errorf("commas between scopes should stay literal: %q", raw)
	}

	// "" omits the state.
	raw, err = c.ConsentURL("http://127.0.0.1:8080/cb", []string{"orders"}, "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(raw)
	if _, ok := u.Query()["state"]; ok {
		t.Errorf("state present in %q", raw)
	}

	// A long state forces the binding to grow its buffer.
	long := strings.Repeat("x", 3000)
	raw, err = c.ConsentURL(testRedirect, []string{"orders"}, long)
	if err != nil {
		t.Fatal(err)
	}
	u, _ = url.Parse(raw)
	if u.Query().Get("state") != long {
		t.Error("long state did not round-trip")
	}
}

func TestConsentURLErrors(t *testing.T) {
	c := newTestClient(t)
	cases := []struct {
		name     string
		redirect string
		scopes   []string
		state    string
		want     lfauth.Status
	}{
		{"trailing slash", testRedirect + "/", []string{"orders"}, "", lfauth.ErrRedirectURINotAllowed},
		{"other case", strings.ToUpper(testRedirect), []string{"orders"}, "", lfauth.ErrRedirectURINotAllowed},
		{"bad scope", testRedirect, []string{"Orders"}, "", lfauth.ErrInvalidArgument},
		{"scope injection", testRedirect, []string{"orders&x=1"}, "", lfauth.ErrInvalidArgument},
		{"no scope", testRedirect, nil, "", lfauth.ErrInvalidArgument},
		{"NUL in state", testRedirect, []string{"orders"}, "a\x00b", lfauth.ErrInvalidArgument},
	}
	for _, tc := range cases {
		_, err := c.ConsentURL(tc.redirect, tc.scopes, tc.state)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNewState(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s, err := lfauth.NewState()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(s) {
			t.Fatalf("state %q is not 43 base64url characters", s)
		}
		if seen[s] {
			t.Fatalf("state %q repeated", s)
		}
		seen[s] = true
	}
}

func TestParseCallback(t *testing.T) {
	c := newTestClient(t)
	code, err := c.ParseCallback("https://app.example.test/cb?code=abc%2B1+2&state=st8#frag", "st8")
	if err != nil || code != "abc+1 2" {
		t.Fatalf("ParseCallback = %q, %v", code, err)
	}
	code, err = c.ParseCallback("?state=st8&code=xyz", "st8")
	if err != nil || code != "xyz" {
		t.Fatalf("query form = %q, %v", code, err)
	}
	longCode := strings.Repeat("c", 2000)
	code, err = c.ParseCallback("code="+longCode+"&state=st8", "st8")
	if err != nil || code != longCode {
		t.Fatalf("long code: %v", err)
	}
	code, err = c.ParseCallbackWithoutState("code=nostate")
	if err != nil || code != "nostate" {
		t.Fatalf("without state = %q, %v", code, err)
	}

	cases := []struct {
		name, raw, state string
		want             lfauth.Status
	}{
		{"wrong state", "code=a&state=other", "st8", lfauth.ErrStateMismatch},
		{"missing state", "code=a", "st8", lfauth.ErrStateMismatch},
		{"no expected state", "code=a&state=", "", lfauth.ErrStateMismatch},
		{"denied", "error=access_denied&error_description=The+merchant+said+no&state=st8", "st8", lfauth.ErrAccessDenied},
		{"denied with wrong state", "error=access_denied&state=zz", "st8", lfauth.ErrStateMismatch},
		{"no code", "state=st8", "st8", lfauth.ErrInvalidArgument},
		{"empty code", "code=&state=st8", "st8", lfauth.ErrInvalidArgument},
		{"repeated code", "code=a&code=b&state=st8", "st8", lfauth.ErrInvalidArgument},
		{"bad escape", "code=a%zz&state=st8", "st8", lfauth.ErrInvalidArgument},
		{"NUL escape", "code=a%00&state=st8", "st8", lfauth.ErrInvalidArgument},
		{"NUL byte", "code=a\x00&state=st8", "st8", lfauth.ErrInvalidArgument},
	}
	for _, tc := range cases {
		code, err := c.ParseCallback(tc.raw, tc.state)
		if !errors.Is(err, tc.want) || code != "" {
			t.Errorf("%s: (%q, %v), want %v", tc.name, code, err, tc.want)
		}
	}

	_, err = c.ParseCallback("error=access_denied&error_description=The+merchant+said+no&state=st8", "st8")
	var e *lfauth.Error
	if !errors.As(err, &e) || e.Key != "access_denied" || !strings.Contains(e.Message, "The merchant said no") {
		t.Errorf("access denied detail: %#v", err)
	}
}

func TestWebhookSignVerify(t *testing.T) {
	c := newTestClient(t)
	body := []byte(`{"node":{"id":"order_1","total":12.5}}` + "\n")
	sig, err := c.SignWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Fatalf("SignWebhook = %q, want %q", sig, want)
	}
	if err := c.VerifyWebhook(body, sig); err != nil {
		t.Fatalf("verify own signature: %v", err)
	}
	if err := c.VerifyWebhook(body, "  "+strings.TrimRight(sig, "=")+"\t"); err != nil {
		t.Errorf("unpadded, spaced signature: %v", err)
	}
	empty, err := c.SignWebhook(nil)
	if err != nil || c.VerifyWebhook(nil, empty) != nil || c.VerifyWebhook([]byte{}, empty) != nil {
		t.Errorf("empty body: %v", err)
	}
	tampered := append([]byte{}, body...)
	tampered[10] ^= 1
	for name, tc := range map[string]struct {
		body []byte
		sig  string
	}{
		"tampered body": {tampered, sig},
		"empty header":  {body, ""},
		"hex":           {body, fmt.Sprintf("%x", mac.Sum(nil))},
		"prefixed":      {body, "sha256=" + sig},
		"NUL":           {body, sig + "\x00"},
		"truncated":     {body, sig[:20]},
	} {
		if err := c.VerifyWebhook(tc.body, tc.sig); !errors.Is(err, lfauth.ErrSignatureMismatch) {
			t.Errorf("%s: %v, want ErrSignatureMismatch", name, err)
		}
	}

	// Rotation: the new client accepts signatures made with the previous secret.
	rotated := newTestClient(t, func(cfg *lfauth.Config) {
		cfg.ClientSecret = "the-new-secret"
		cfg.PreviousClientSecret = testSecret
	})
	if err := rotated.VerifyWebhook(body, sig); err != nil {
		t.Errorf("previous secret not accepted: %v", err)
	}
	newSig, _ := rotated.SignWebhook(body)
	if newSig == sig {
		t.Error("SignWebhook should use the current secret")
	}
	if err := c.VerifyWebhook(body, newSig); !errors.Is(err, lfauth.ErrSignatureMismatch) {
		t.Errorf("old client accepted the new secret: %v", err)
	}
}

func TestWebhookHandler(t *testing.T) {
	c := newTestClient(t)
	var got []byte
	calls := 0
	h := c.WebhookHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		calls++
		got = body
		w.WriteHeader(http.StatusNoContent)
	})
	body := []byte(`{"event":"order/confirmed"}`)
	sig, _ := c.SignWebhook(body)

	do := func(method string, body []byte, sigs ...string) int {
		r := httptest.NewRequest(method, "/webhooks", bytes.NewReader(body))
		for _, s := range sigs {
			r.Header.Add("lightfunnels-hmac", s)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := do(http.MethodPost, body, sig); code != http.StatusNoContent || !bytes.Equal(got, body) {
		t.Fatalf("valid webhook: %d, body %q", code, got)
	}
	if code := do(http.MethodPost, append(body, ' '), sig); code != http.StatusUnauthorized {
		t.Errorf("modified body: %d", code)
	}
	if code := do(http.MethodPost, body); code != http.StatusUnauthorized {
		t.Errorf("no signature: %d", code)
	}
	if code := do(http.MethodPost, body, sig, sig); code != http.StatusUnauthorized {
		t.Errorf("two signatures: %d", code)
	}
	if code := do(http.MethodGet, nil, sig); code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", code)
	}
	big := bytes.Repeat([]byte("a"), lfauth.MaxWebhookBytes+1)
	bigSig, _ := c.SignWebhook(big)
	if code := do(http.MethodPost, big, bigSig); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
	if calls != 1 {
		t.Errorf("next called %d times, want 1", calls)
	}
}

func TestStatusNamesMirrorTheHeader(t *testing.T) {
	names := []struct {
		s    lfauth.Status
		name string
	}{
		{lfauth.StatusOK, "LF_OK"},
		{lfauth.ErrInvalidArgument, "LF_E_INVALID_ARGUMENT"},
		{lfauth.ErrBufferTooSmall, "LF_E_BUFFER_TOO_SMALL"},
		{lfauth.ErrNoMemory, "LF_E_NO_MEMORY"},
		{lfauth.ErrRedirectURINotAllowed, "LF_E_REDIRECT_URI_NOT_ALLOWED"},
		{lfauth.ErrStateMismatch, "LF_E_STATE_MISMATCH"},
		{lfauth.ErrStateExpired, "LF_E_STATE_EXPIRED"},
		{lfauth.ErrAccessDenied, "LF_E_ACCESS_DENIED"},
		{lfauth.ErrNetwork, "LF_E_NETWORK"},
		{lfauth.ErrTimeout, "LF_E_TIMEOUT"},
		{lfauth.ErrTLS, "LF_E_TLS"},
		{lfauth.ErrInsecureTransport, "LF_E_INSECURE_TRANSPORT"},
		{lfauth.ErrHTTP, "LF_E_HTTP"},
		{lfauth.ErrInvalidCode, "LF_E_INVALID_CODE"},
		{lfauth.ErrInvalidClient, "LF_E_INVALID_CLIENT"},
		{lfauth.ErrUnauthorized, "LF_E_UNAUTHORIZED"},
		{lfauth.ErrAPI, "LF_E_API"},
		{lfauth.ErrProtocol, "LF_E_PROTOCOL"},
		{lfauth.ErrResponseTooLarge, "LF_E_RESPONSE_TOO_LARGE"},
		{lfauth.ErrSignatureMismatch, "LF_E_SIGNATURE_MISMATCH"},
		{lfauth.ErrCancelled, "LF_E_CANCELLED"},
		{lfauth.ErrRateLimited, "LF_E_RATE_LIMITED"},
		{lfauth.ErrInternal, "LF_E_INTERNAL"},
	}
	for _, n := range names {
		if got := n.s.String(); got != n.name {
			t.Errorf("Status(%d).String() = %q, want %q", uint32(n.s), got, n.name)
		}
		if n.s.Message() == "" || !strings.Contains(n.s.Error(), n.name) {
			t.Errorf("%s: empty message or Error() %q", n.name, n.s.Error())
		}
	}
	if got := lfauth.Status(4000000000).String(); got != "LF_E_UNKNOWN(4000000000)" {
		t.Errorf("unknown status prints %q", got)
	}
}

func TestErrorsIs(t *testing.T) {
	var err error = &lfauth.Error{Status: lfauth.ErrRateLimited, HTTPStatus: 429, RetryAfter: 3 * time.Second, Key: "rate_limit_reached", Message: "slow down"}
	wrapped := fmt.Errorf("install failed: %w", err)
	if !errors.Is(wrapped, lfauth.ErrRateLimited) || errors.Is(wrapped, lfauth.ErrTimeout) {
		t.Error("errors.Is does not match the status")
	}
	if errors.Is(wrapped, context.Canceled) {
		t.Error("unrelated error matches context.Canceled")
	}
	var e *lfauth.Error
	if !errors.As(wrapped, &e) || e.RetryAfter != 3*time.Second {
		t.Error("errors.As lost the detail")
	}
	msg := err.Error()
	for _, part := range []string{"LF_E_RATE_LIMITED", "429", "rate_limit_reached", "slow down"} {
		if !strings.Contains(msg, part) {
			t.Errorf("Error() = %q lacks %q", msg, part)
		}
	}
	if !errors.Is(lfauth.ErrTimeout, lfauth.ErrTimeout) {
		t.Error("a Status is not its own sentinel")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	base := func() lfauth.Config {
		return lfauth.Config{ClientID: "id", ClientSecret: "secret", RedirectURIs: []string{"https://app.example.test/cb"}}
	}
	cases := []struct {
		name   string
		mutate func(*lfauth.Config)
		want   lfauth.Status
	}{
		{"no id", func(c *lfauth.Config) { c.ClientID = "" }, lfauth.ErrInvalidArgument},
		{"no secret", func(c *lfauth.Config) { c.ClientSecret = "" }, lfauth.ErrInvalidArgument},
		{"NUL secret", func(c *lfauth.Config) { c.ClientSecret = "abc\x00def" }, lfauth.ErrInvalidArgument},
		{"empty redirect", func(c *lfauth.Config) { c.RedirectURIs = []string{""} }, lfauth.ErrInvalidArgument},
		{"relative redirect", func(c *lfauth.Config) { c.RedirectURIs = []string{"/cb"} }, lfauth.ErrInvalidArgument},
		{"http redirect", func(c *lfauth.Config) { c.RedirectURIs = []string{"http://app.example.test/cb"} }, lfauth.ErrInsecureTransport},
		{"http token URL", func(c *lfauth.Config) { c.TokenURL = "http://api.example.test/oauth/access_token" }, lfauth.ErrInsecureTransport},
		{"negative timeout", func(c *lfauth.Config) { c.Timeout = -time.Second }, lfauth.ErrInvalidArgument},
		{"negative limit", func(c *lfauth.Config) { c.MaxResponseBytes = -1 }, lfauth.ErrInvalidArgument},
		{"bad client auth", func(c *lfauth.Config) { c.ClientAuth = 7 }, lfauth.ErrInvalidArgument},
		{"colon in id with Basic", func(c *lfauth.Config) { c.ClientID = "a:b"; c.ClientAuth = lfauth.ClientAuthBasic }, lfauth.ErrInvalidArgument},
	}
	for _, tc := range cases {
		cfg := base()
		tc.mutate(&cfg)
		c, err := lfauth.New(cfg)
		if c != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: (%v, %v), want %v", tc.name, c, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret\x00") {
			t.Errorf("%s: error leaks the secret", tc.name)
		}
	}
	ok := base()
	ok.ClientAuth = lfauth.ClientAuthAuto
	ok.Timeout, ok.ConnectTimeout, ok.MaxResponseBytes = time.Second, time.Second, 4096
	ok.UserAgent, ok.PreviousClientSecret = "lfauth-go-test", "old"
	c, err := lfauth.New(ok)
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	c.Close()
	// No redirect URI (nil or empty) is valid since 1.1: a webhook-only
	// client (see TestWebhookOnlyClient).
	for _, uris := range [][]string{nil, {}} {
		cfg := base()
		cfg.RedirectURIs = uris
		c, err := lfauth.New(cfg)
		if err != nil {
			t.Fatalf("RedirectURIs %#v: %v", uris, err)
		}
		c.Close()
	}
}

// A client made without redirect URIs signs and verifies webhooks, but its
// consent and callback calls fail with ErrRedirectURINotAllowed.
func TestWebhookOnlyClient(t *testing.T) {
	c := newTestClient(t, func(cfg *lfauth.Config) { cfg.RedirectURIs = nil })
	body := []byte(`{"node":{"id":"order_1"}}`)
	sig, err := c.SignWebhook(body)
	if err != nil {
		t.Fatalf("SignWebhook: %v", err)
	}
	if err := c.VerifyWebhook(body, sig); err != nil {
		t.Errorf("VerifyWebhook: %v", err)
	}
	changed := []byte(`{"node":{"id":"order_2"}}`)
	if err := c.VerifyWebhook(changed, sig); !errors.Is(err, lfauth.ErrSignatureMismatch) {
		t.Errorf("changed body: %v, want ErrSignatureMismatch", err)
	}

	for _, redirect := range []string{testRedirect, "http://127.0.0.1:8080/cb"} {
		url, err := c.ConsentURL(redirect, []string{"orders"}, "st8")
		if !errors.Is(err, lfauth.ErrRedirectURINotAllowed) || url != "" {
			t.Errorf("ConsentURL(%q) = (%q, %v), want ErrRedirectURINotAllowed", redirect, url, err)
		}
	}
	state, err := c.SealState("session")
	if err != nil {
		t.Fatalf("SealState: %v", err)
	}
	for name, parse := range map[string]func() (string, error){
		"ParseCallback":             func() (string, error) { return c.ParseCallback("code=c0de&state=st8", "st8") },
		"ParseCallbackWithoutState": func() (string, error) { return c.ParseCallbackWithoutState("code=c0de") },
		"ParseCallbackSealed": func() (string, error) {
			return c.ParseCallbackSealed(testRedirect+"&code=c0de&state="+state, "session", time.Minute)
		},
	} {
		code, err := parse()
		if !errors.Is(err, lfauth.ErrRedirectURINotAllowed) || code != "" {
			t.Errorf("%s = (%q, %v), want ErrRedirectURINotAllowed", name, code, err)
		} else if !strings.Contains(err.Error(), "no redirect URIs") {
			t.Errorf("%s: %q does not say why", name, err)
		}
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	c := newTestClient(t)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConsentURL(testRedirect, []string{"orders"}, ""); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("ConsentURL after Close: %v", err)
	}
	if _, err := c.Exchange(context.Background(), "code"); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("Exchange after Close: %v", err)
	}
	if err := c.VerifyWebhook([]byte("x"), "sig"); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("VerifyWebhook after Close: %v", err)
	}
	if _, err := c.ParseCallback("code=a&state=b", "b"); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("ParseCallback after Close: %v", err)
	}
}

func TestEndedContextReturnsAtOnce(t *testing.T) {
	// The listener is never contacted: the context has ended first.
	addr, accepted := stalledListener(t)
	c := stalledClient(t, addr)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	start := time.Now()
	_, err := c.Exchange(cancelled, "code")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, lfauth.ErrCancelled) {
		t.Errorf("cancelled Exchange: %v", err)
	}
	_, err = c.AccountID(expired, "tok")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, lfauth.ErrTimeout) {
		t.Errorf("expired AccountID: %v", err)
	}
	body, err := c.GraphQL(cancelled, "tok", "query { account { id } }", nil)
	if !errors.Is(err, context.Canceled) || body != nil {
		t.Errorf("cancelled GraphQL: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ended contexts took %v", d)
	}
	time.Sleep(50 * time.Millisecond)
	if n := atomic.LoadInt32(accepted); n != 0 {
		t.Errorf("%d connections made with an ended context", n)
	}
}

func TestGraphQLVariablesMustMarshal(t *testing.T) {
	c := newTestClient(t)
	_, err := c.GraphQL(context.Background(), "tok", "query { account { id } }", map[string]any{"f": func() {}})
	if err == nil || statusOf(err) != lfauth.StatusOK {
		t.Errorf("unmarshalable variables: %v", err)
	}
	// Variables that are not an object are rejected before anything is sent.
	_, err = c.GraphQL(context.Background(), "tok", "query { account { id } }", []int{1})
	if !errors.Is(err, lfauth.ErrInvalidArgument) {
		t.Errorf("array variables: %v", err)
	}
}

// sealedState builds a state in the format of docs/SECURITY.md ("Sealed
// state") with an issue time of our choosing: HKDF-SHA256 written out from
// RFC 5869 (one block), then the MAC over the length-prefixed fields.
func sealedState(clientID, secret, binding string, issued int64) string {
	prk := hmac.New(sha256.New, make([]byte, sha256.Size)) // no salt: HashLen zeros
	prk.Write([]byte(secret))
	okm := hmac.New(sha256.New, prk.Sum(nil))
	okm.Write([]byte("lightfunnels-auth sealed state v1\x01"))
	key := okm.Sum(nil)

	body := make([]byte, 25)
	body[0] = 1
	binary.BigEndian.PutUint64(body[1:9], uint64(issued))
	copy(body[9:], "sixteen-rnd-byte")
	m := hmac.New(sha256.New, key)
	m.Write(body)
	for _, f := range []string{clientID, binding} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(body))
}

func TestSealedState(t *testing.T) {
	c := newTestClient(t)
	const session = "session-5b0e1c7d"
	state, err := c.SealState(session)
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9_-]{76}$`).MatchString(state) {
		t.Fatalf("SealState = %q, %v", state, err)
	}
	if err := c.OpenState(state, session, 10*time.Minute); err != nil {
		t.Fatalf("OpenState: %v", err)
	}
	altered := []byte(state)
	altered[40] ^= 1
	unbound, err := c.SealState("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	cases := []struct {
		name, state, binding string
		maxAge               time.Duration
		want                 lfauth.Status
	}{
		{"unbound opens unbound", unbound, "", time.Minute, lfauth.StatusOK},
		{"documented format", sealedState("client id/ü", testSecret, session, now), session, time.Minute, lfauth.StatusOK},
		{"other binding", state, "session-other", time.Minute, lfauth.ErrStateMismatch},
		{"unbound state, bound check", unbound, session, time.Minute, lfauth.ErrStateMismatch},
		{"altered", string(altered), session, time.Minute, lfauth.ErrStateMismatch},
		{"not a sealed state", "st8", session, time.Minute, lfauth.ErrStateMismatch},
		{"other client", sealedState("other", testSecret, session, now), session, time.Minute, lfauth.ErrStateMismatch},
		{"expired", sealedState("client id/ü", testSecret, session, now-3600), session, time.Minute, lfauth.ErrStateExpired},
		{"from the future", sealedState("client id/ü", testSecret, session, now+3600), session, time.Minute, lfauth.ErrStateExpired},
		{"forged and old", sealedState("client id/ü", "other secret", session, now-3600), session, time.Minute, lfauth.ErrStateMismatch},
		{"max age under 1 s", state, session, 500 * time.Millisecond, lfauth.ErrInvalidArgument},
	}
	for _, tc := range cases {
		err := c.OpenState(tc.state, tc.binding, tc.maxAge)
		if statusOf(err) != tc.want || (tc.want != lfauth.StatusOK && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	// A rotated client still opens states sealed under its previous secret.
	rotated := newTestClient(t, func(cfg *lfauth.Config) {
		cfg.ClientSecret = "the new secret"
		cfg.PreviousClientSecret = testSecret
	})
	if err := rotated.OpenState(state, session, time.Minute); err != nil {
		t.Errorf("rotation: %v", err)
	}

	code, err := c.ParseCallbackSealed(testRedirect+"&code=c0de&state="+state, session, time.Minute)
	if err != nil || code != "c0de" {
		t.Fatalf("ParseCallbackSealed = %q, %v", code, err)
	}
	old := sealedState("client id/ü", testSecret, session, now-3600)
	for _, tc := range []struct {
		name, raw string
		want      lfauth.Status
	}{
		{"no state", "code=a", lfauth.ErrStateMismatch},
		{"other binding's state", "code=a&state=" + unbound, lfauth.ErrStateMismatch},
		{"expired", "code=a&state=" + old, lfauth.ErrStateExpired},
		{"expired, denied", "error=access_denied&state=" + old, lfauth.ErrStateExpired},
		{"denied", "error=access_denied&state=" + state, lfauth.ErrAccessDenied},
		{"no code", "state=" + state, lfauth.ErrInvalidArgument},
	} {
		code, err := c.ParseCallbackSealed(tc.raw, session, time.Minute)
		if !errors.Is(err, tc.want) || code != "" {
			t.Errorf("%s: (%q, %v), want %v", tc.name, code, err, tc.want)
		}
	}

	c.Close()
	if _, err := c.SealState(session); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("SealState after Close: %v", err)
	}
}
