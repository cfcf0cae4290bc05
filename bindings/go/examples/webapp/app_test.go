package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/internal/sandboxtest"
	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const (
	clientID  = "webapp-example"
	secret    = "webapp-secret"
	accountID = "acct_webapp"
)

// setup starts the app on an httptest server and lf-sandbox with the app's
// /callback whitelisted.
func setup(t *testing.T) (*App, *httptest.Server, *sandboxtest.Sandbox) {
	var handler http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	redirect := srv.URL + "/callback"
	sb := sandboxtest.Start(t, sandboxtest.Options{
		Clients:   []sandboxtest.Client{{ID: clientID, Secret: secret, RedirectURI: redirect}},
		AccountID: accountID,
	})
	client, err := lfauth.New(lfauth.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURIs: []string{redirect},
		AuthorizeURL: sb.Endpoint("/admin/oauth"), TokenURL: sb.Endpoint("/api/access_token"),
		APIURL: sb.Endpoint("/api/v2"), CAFile: sb.CAFile, Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	app := &App{Client: client, RedirectURI: redirect, Scopes: []string{"orders", "products"}}
	handler = app.Handler()
	return app, srv, sb
}

// browser returns a client with a cookie jar that trusts the sandbox and
// stops at every redirect, like a test-driven browser.
func browser(t *testing.T, sb *sandboxtest.Sandbox) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{
		Jar: jar, Transport: sb.HTTP.Transport, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(body)
}

func TestInstallFlow(t *testing.T) {
	app, srv, sb := setup(t)
	b := browser(t, sb)

	resp, _ := get(t, b, srv.URL+"/install")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/install: %d", resp.StatusCode)
	}
	consent := resp.Header.Get("Location")
	if !strings.HasPrefix(consent, sb.Endpoint("/admin/oauth?")) {
		t.Fatalf("/install redirects to %q", consent)
	}
	resp, _ = get(t, b, consent) // the sandbox auto-approves
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, srv.URL+"/callback?") {
		t.Fatalf("consent: %d → %q", resp.StatusCode, callback)
	}
	resp, body := get(t, b, callback)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, accountID) {
		t.Fatalf("/callback: %d %s", resp.StatusCode, body)
	}
	tok, ok := app.Token(accountID)
	if !ok || tok.Value() == "" {
		t.Fatal("no token stored for the account")
	}
	if strings.Contains(body, tok.Value()) {
		t.Fatal("the token was shown to the browser")
	}

	// Replaying the callback: the state cookie is gone (and the code spent).
	resp, _ = get(t, b, callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", resp.StatusCode)
	}
}

func TestCallbackFromAnotherBrowser(t *testing.T) {
	_, srv, sb := setup(t)
	victim, attacker := browser(t, sb), browser(t, sb)

	// The attacker starts an installation and sends the callback to the victim.
	resp, _ := get(t, attacker, srv.URL+"/install")
	resp, _ = get(t, attacker, resp.Header.Get("Location"))
	callback := resp.Header.Get("Location")
	resp, _ = get(t, victim, callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback without the state cookie: %d", resp.StatusCode)
	}
	// The victim has a state of their own: a foreign state still mismatches.
	resp, _ = get(t, victim, srv.URL+"/install")
	if resp.StatusCode != http.StatusFound {
		t.Fatal(resp.Status)
	}
	resp, _ = get(t, victim, callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback with another browser's state: %d", resp.StatusCode)
	}
}

func TestDeclinedAndForgedCallbacks(t *testing.T) {
	_, srv, sb := setup(t)
	b := browser(t, sb)
	resp, _ := get(t, b, srv.URL+"/install")
	consent, _ := url.Parse(resp.Header.Get("Location"))
	state := consent.Query().Get("state")
	resp, _ = get(t, b, srv.URL+"/callback?error=access_denied&error_description=no&state="+url.QueryEscape(state))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("declined: %d", resp.StatusCode)
	}
	resp, _ = get(t, b, srv.URL+"/install")
	consent, _ = url.Parse(resp.Header.Get("Location"))
	state = consent.Query().Get("state")
	resp, _ = get(t, b, srv.URL+"/callback?code=made-up&state="+url.QueryEscape(state))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("made-up code: %d", resp.StatusCode)
	}
}

func TestWebhooks(t *testing.T) {
	app, srv, sb := setup(t)
	if status := sb.DeliverWebhook(t, clientID, srv.URL+"/webhooks"); status != http.StatusOK {
		t.Fatalf("signed webhook: %d", status)
	}
	if ev := app.Events(); len(ev) != 1 || !strings.Contains(string(ev[0]), "order") {
		t.Fatalf("events: %q", ev)
	}
	resp, err := http.Post(srv.URL+"/webhooks", "application/json", strings.NewReader(`{"forged":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(app.Events()) != 1 {
		t.Fatalf("forged webhook: %d, %d events", resp.StatusCode, len(app.Events()))
	}
}
