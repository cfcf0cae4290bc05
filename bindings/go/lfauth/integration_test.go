package lfauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/internal/sandboxtest"
	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const (
	sbClientID  = "go-binding-app"
	sbSecret    = "go:secret=/with!odd+chars"
	sbRedirect  = "https://app.example.test/lightfunnels/callback"
	sbAccountID = "acct_go_binding"
)

// startSandbox runs lf-sandbox with one client and returns it with a Client
// configured against it (HTTP Basic at /api/access_token, the default,
// unless mutated).
func startSandbox(t *testing.T, mutate ...func(*lfauth.Config)) (*sandboxtest.Sandbox, *lfauth.Client) {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.Options{
		Clients:   []sandboxtest.Client{{ID: sbClientID, Secret: sbSecret, RedirectURI: sbRedirect}},
		AccountID: sbAccountID,
	})
	return sb, sandboxClient(t, sb, mutate...)
}

func sandboxClient(t *testing.T, sb *sandboxtest.Sandbox, mutate ...func(*lfauth.Config)) *lfauth.Client {
	t.Helper()
	cfg := lfauth.Config{
		ClientID:     sbClientID,
		ClientSecret: sbSecret,
		RedirectURIs: []string{sbRedirect},
		AuthorizeURL: sb.Endpoint("/admin/oauth"),
		TokenURL:     sb.Endpoint("/api/access_token"),
		APIURL:       sb.Endpoint("/api/v2"),
		CAFile:       sb.CAFile,
		Timeout:      30 * time.Second,
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

// consentCode drives the consent screen with a fresh state and returns the
// code, checked through ParseCallback.
func consentCode(t testing.TB, sb *sandboxtest.Sandbox, c *lfauth.Client) string {
	t.Helper()
	state, err := lfauth.NewState()
	if err != nil {
		t.Fatal(err)
	}
	consent, err := c.ConsentURL(sbRedirect, []string{"orders", "products"}, state)
	if err != nil {
		t.Fatal(err)
	}
	loc := sb.Authorize(t, consent)
	if !strings.HasPrefix(loc, sbRedirect+"?") {
		t.Fatalf("redirected to %q, want %s?...", loc, sbRedirect)
	}
	code, err := c.ParseCallback(loc, state)
	if err != nil {
		t.Fatalf("ParseCallback(%q): %v", loc, err)
	}
	return code
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSandboxFullFlow(t *testing.T) {
	sb, c := startSandbox(t)
	ctx := ctxTimeout(t, 60*time.Second)

	// A callback with another state is refused before anything is exchanged.
	state, _ := lfauth.NewState()
	consent, err := c.ConsentURL(sbRedirect, []string{"orders"}, state)
	if err != nil {
		t.Fatal(err)
	}
	loc := sb.Authorize(t, consent)
	if _, err := c.ParseCallback(loc, state+"x"); !errors.Is(err, lfauth.ErrStateMismatch) {
		t.Fatalf("forged state: %v", err)
	}

	code := consentCode(t, sb, c)
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	defer tok.Close()
	if tok.Value() == "" {
		t.Fatal("empty token")
	}
	if s := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok); strings.Contains(s, tok.Value()) {
		t.Fatalf("token printed: %s", s)
	}

	id, err := c.AccountID(ctx, tok.Value())
	if err != nil || id != sbAccountID {
		t.Fatalf("AccountID = %q, %v", id, err)
	}

	body, err := c.GraphQL(ctx, tok.Value(), "query { account { id } }", nil)
	if err != nil {
		t.Fatalf("GraphQL: %v", err)
	}
	var resp struct {
		Data struct {
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Data.Account.ID != sbAccountID {
		t.Fatalf("GraphQL body %s (%v)", body, err)
	}
	body, err = c.GraphQL(ctx, tok.Value(), "query Q($n: Int) { account { id } }", map[string]any{"n": 1})
	if err != nil && !errors.Is(err, lfauth.ErrAPI) {
		t.Fatalf("GraphQL with variables: %v", err)
	}

	// An unsupported query: LF_E_API with the body AND the error.
	body, err = c.GraphQL(ctx, tok.Value(), "query { orders { id } }", map[string]any{"first": 3})
	var e *lfauth.Error
	if !errors.Is(err, lfauth.ErrAPI) || !errors.As(err, &e) || e.Key != "unsupported_query" {
		t.Fatalf("unsupported query: %v", err)
	}
	if !strings.Contains(string(body), "unsupported_query") {
		t.Fatalf("unsupported query body: %s", body)
	}
	if strings.Contains(err.Error(), tok.Value()) {
		t.Fatal("error message contains the token")
	}

	// The code is single-use.
	_, err = c.Exchange(ctx, code)
	if !errors.Is(err, lfauth.ErrInvalidCode) || !errors.As(err, &e) || e.HTTPStatus != 400 || e.Key != "invalid_grant" {
		t.Fatalf("reused code: %v", err)
	}
	if strings.Contains(err.Error(), code) {
		t.Fatal("error message contains the code")
	}
	if _, err := c.Exchange(ctx, "never-issued"); !errors.Is(err, lfauth.ErrInvalidCode) {
		t.Fatalf("unknown code: %v", err)
	}

	// Uninstall: the token is revoked.
	sb.Revoke(t, tok.Value())
	_, err = c.AccountID(ctx, tok.Value())
	if !errors.Is(err, lfauth.ErrUnauthorized) || !errors.As(err, &e) || e.HTTPStatus != 401 {
		t.Fatalf("revoked token: %v", err)
	}
	body, err = c.GraphQL(ctx, tok.Value(), "query { account { id } }", nil)
	if !errors.Is(err, lfauth.ErrUnauthorized) || !strings.Contains(string(body), "unauthorized") {
		t.Fatalf("revoked token GraphQL: %v, body %s", err, body)
	}
	if _, err := c.AccountID(ctx, "not a b64token\r\nX: y"); !errors.Is(err, lfauth.ErrInvalidArgument) {
		t.Fatalf("malformed token: %v", err)
	}
}

func TestSandboxClientAuthStyles(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{
		Clients:   []sandboxtest.Client{{ID: sbClientID, Secret: sbSecret, RedirectURI: sbRedirect}},
		AccountID: sbAccountID,
	})
	ctx := ctxTimeout(t, 60*time.Second)
	styles := map[string]func(*lfauth.Config){
		"basic (the default)": func(cfg *lfauth.Config) {},
		"json body (the earlier method)": func(cfg *lfauth.Config) {
			cfg.ClientAuth = lfauth.ClientAuthJSONBody
			cfg.TokenURL = sb.Endpoint("/oauth/access_token")
		},
		"auto on the JSON endpoint": func(cfg *lfauth.Config) {
			cfg.ClientAuth = lfauth.ClientAuthAuto
			cfg.TokenURL = sb.Endpoint("/oauth/access_token")
		},
		"auto on the Basic endpoint": func(cfg *lfauth.Config) { cfg.ClientAuth = lfauth.ClientAuthAuto },
	}
	for name, mutate := range styles {
		c := sandboxClient(t, sb, mutate)
		for i := 0; i < 2; i++ { // the second exchange uses the cached style
			tok, err := c.Exchange(ctx, consentCode(t, sb, c))
			if err != nil {
				t.Fatalf("%s: exchange %d: %v", name, i, err)
			}
			if id, err := c.AccountID(ctx, tok.Value()); err != nil || id != sbAccountID {
				t.Fatalf("%s: AccountID = %q, %v", name, id, err)
			}
			tok.Close()
		}
	}
}

func TestSandboxWrongSecret(t *testing.T) {
	sb, good := startSandbox(t)
	ctx := ctxTimeout(t, 60*time.Second)
	for _, style := range []lfauth.ClientAuth{lfauth.ClientAuthJSONBody, lfauth.ClientAuthBasic, lfauth.ClientAuthAuto} {
		bad := sandboxClient(t, sb, func(cfg *lfauth.Config) {
			cfg.ClientSecret = "not-the-secret"
			cfg.ClientAuth = style
			if style == lfauth.ClientAuthJSONBody {
				cfg.TokenURL = sb.Endpoint("/oauth/access_token")
			}
		})
		code := consentCode(t, sb, good)
		_, err := bad.Exchange(ctx, code)
		if !errors.Is(err, lfauth.ErrInvalidClient) {
			t.Fatalf("style %d: wrong secret: %v", style, err)
		}
		if strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), code) {
			t.Fatalf("error leaks a secret: %v", err)
		}
		// With AUTO the real code was never sent; with the other styles it was
		// rejected along with the client and may be spent: either way the good
		// client still gets a token from a fresh code.
		if _, err := good.Exchange(ctx, consentCode(t, sb, good)); err != nil {
			t.Fatalf("good client after a bad one: %v", err)
		}
	}
}

func TestSandboxWebhookDelivery(t *testing.T) {
	sb, c := startSandbox(t)
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(c.WebhookHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()

	if status := sb.DeliverWebhook(t, sbClientID, srv.URL+"/webhooks"); status != http.StatusOK {
		t.Fatalf("signed webhook answered %d", status)
	}
	mu.Lock()
	if len(bodies) != 1 || !strings.Contains(string(bodies[0]), "order") {
		t.Fatalf("handler saw %q", bodies)
	}
	got := bodies[0]
	mu.Unlock()
	sig, err := c.SignWebhook(got)
	if err != nil || c.VerifyWebhook(got, sig) != nil {
		t.Fatalf("re-sign delivered body: %v", err)
	}

	// A client with another secret rejects the same delivery with 401.
	other := sandboxClient(t, sb, func(cfg *lfauth.Config) { cfg.ClientSecret = "another-secret" })
	srv2 := httptest.NewServer(other.WebhookHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		t.Error("forged webhook reached the application")
	}))
	defer srv2.Close()
	if status := sb.DeliverWebhook(t, sbClientID, srv2.URL+"/webhooks"); status != http.StatusUnauthorized {
		t.Fatalf("webhook for another secret answered %d, want 401", status)
	}
	// Rotation: the previous secret still verifies.
	rotated := sandboxClient(t, sb, func(cfg *lfauth.Config) {
		cfg.ClientSecret = "rotated-secret"
		cfg.PreviousClientSecret = sbSecret
	})
	srv3 := httptest.NewServer(rotated.WebhookHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv3.Close()
	if status := sb.DeliverWebhook(t, sbClientID, srv3.URL+"/webhooks"); status != http.StatusAccepted {
		t.Fatalf("webhook after rotation answered %d, want 202", status)
	}
}

// stalledListener accepts connections on 127.0.0.1 and never answers.
func stalledListener(t *testing.T) (addr string, accepted *int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			atomic.AddInt32(&n, 1)
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), &n
}

func stalledClient(t *testing.T, addr string) *lfauth.Client {
	t.Helper()
	c, err := lfauth.New(lfauth.Config{
		ClientID:     "id",
		ClientSecret: "secret",
		RedirectURIs: []string{"http://127.0.0.1/cb"},
		TokenURL:     "http://" + addr + "/oauth/access_token",
		APIURL:       "http://" + addr + "/api/v2",
		Timeout:      60 * time.Second, // only the context can end these calls in time
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDeadlineBoundsAStalledCall(t *testing.T) {
	addr, accepted := stalledListener(t)
	c := stalledClient(t, addr)
	for name, call := range map[string]func(ctx context.Context) error{
		"Exchange":  func(ctx context.Context) error { _, err := c.Exchange(ctx, "code"); return err },
		"AccountID": func(ctx context.Context) error { _, err := c.AccountID(ctx, "tok"); return err },
		"GraphQL": func(ctx context.Context) error {
			_, err := c.GraphQL(ctx, "tok", "query { account { id } }", nil)
			return err
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		elapsed := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: %v, want an error matching context.DeadlineExceeded", name, err)
		}
		if !errors.Is(err, lfauth.ErrTimeout) && !errors.Is(err, lfauth.ErrCancelled) {
			t.Errorf("%s: %v, want ErrTimeout or ErrCancelled", name, err)
		}
		if elapsed > 5*time.Second {
			t.Errorf("%s: returned after %v, want well within 5 s", name, elapsed)
		}
	}
	if atomic.LoadInt32(accepted) == 0 {
		t.Error("the stalled listener was never contacted: the test proves nothing")
	}
}

func TestCancelAbortsAStalledCall(t *testing.T) {
	addr, accepted := stalledListener(t)
	c := stalledClient(t, addr)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for atomic.LoadInt32(accepted) == 0 { // cancel once the request is in flight
			time.Sleep(5 * time.Millisecond)
			if ctx.Err() != nil {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	guard := time.AfterFunc(20*time.Second, cancel) // bounded even if the listener is never reached
	defer guard.Stop()
	start := time.Now()
	_, err := c.Exchange(ctx, "code")
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, lfauth.ErrCancelled) {
		t.Fatalf("cancelled exchange: %v", err)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("cancelled exchange returned after %v", elapsed)
	}
}

// AccountID is a blocking call: Close waits for it (Exchange and GraphQL
// calls are ended instead: TestCloseEndsPendingExchanges).
func TestCloseWaitsForAccountIDInFlight(t *testing.T) {
	addr, accepted := stalledListener(t)
	c := stalledClient(t, addr)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { _, err := c.AccountID(ctx, "tok"); errc <- err }()
	for i := 0; i < 400 && atomic.LoadInt32(accepted) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if atomic.LoadInt32(accepted) == 0 {
		t.Fatal("the AccountID call never reached the listener")
	}
	if err := c.Close(); err != nil { // blocks until the AccountID call has returned
		t.Fatal(err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Fatalf("Close returned after %v, before the in-flight call's 2 s deadline", d)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("in-flight AccountID: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the AccountID call did not return")
	}
}

func TestSandboxConcurrentExchanges(t *testing.T) {
	// lf-sandbox serves from a small thread pool: 50 simultaneous TLS
	// handshakes queue there. Generous timeouts keep that queueing (on a
	// loaded machine) from failing a test about the binding's thread safety.
	sb, c := startSandbox(t, func(cfg *lfauth.Config) {
		cfg.ConnectTimeout = 90 * time.Second
		cfg.Timeout = 120 * time.Second
	})
	const goroutines, perGoroutine = 50, 3
	ctx := ctxTimeout(t, 240*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := map[string]bool{}
	errs := make(chan error, goroutines*perGoroutine)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perGoroutine; i++ {
				state, err := lfauth.NewState()
				if err != nil {
					errs <- err
					return
				}
				consent, err := c.ConsentURL(sbRedirect, []string{"orders"}, state)
				if err != nil {
					errs <- err
					return
				}
				resp, err := sb.HTTP.Get(consent)
				if err != nil {
					errs <- err
					return
				}
				loc := resp.Header.Get("Location")
				resp.Body.Close()
				code, err := c.ParseCallback(loc, state)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: callback: %w", g, err)
					return
				}
				tok, err := c.Exchange(ctx, code)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: exchange %d: %w", g, i, err)
					return
				}
				if i == 0 {
					if id, err := c.AccountID(ctx, tok.Value()); err != nil || id != sbAccountID {
						errs <- fmt.Errorf("goroutine %d: AccountID = %q, %v", g, id, err)
						return
					}
				}
				mu.Lock()
				tokens[tok.Value()] = true
				mu.Unlock()
				tok.Close()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(tokens) != goroutines*perGoroutine {
		t.Errorf("got %d distinct tokens, want %d", len(tokens), goroutines*perGoroutine)
	}
}
