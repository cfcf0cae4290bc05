package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/internal/sandboxtest"
	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const (
	clientID    = "webapp-example"
	secret      = "webapp-secret"
	accountID   = "acct_webapp"
	adminOrigin = "https://admin.example.test"
)

// setup starts the app on an httptest server and lf-sandbox with the app's
// /callback whitelisted; configure may change the App before it serves.
func setup(t *testing.T, configure ...func(*App)) (*App, *httptest.Server, *sandboxtest.Sandbox) {
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
	app := &App{
		Client: client, RedirectURI: redirect, PublicURL: srv.URL, AdminOrigin: adminOrigin,
		Scopes: []string{"orders", "products"},
	}
	for _, c := range configure {
		c(app)
	}
	handler = app.Handler()
	return app, srv, sb
}

// browser is the merchant's browser inside the admin iframe: the app's
// cookies there are third-party, so it keeps none (no cookie jar), and it
// stops at every redirect to check each one.
func browser(sb *sandboxtest.Sandbox) *http.Client {
	return &http.Client{
		Transport: sb.HTTP.Transport, Timeout: 30 * time.Second,
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

// consent runs /install and the sandbox's auto-approval; it returns the
// callback URL the merchant's browser is sent to.
func consent(t *testing.T, b *http.Client, srv *httptest.Server, sb *sandboxtest.Sandbox) string {
	t.Helper()
	resp, _ := get(t, b, srv.URL+"/install")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("/install: %d", resp.StatusCode)
	}
	to := resp.Header.Get("Location")
	if !strings.HasPrefix(to, sb.Endpoint("/admin/oauth?")) {
		t.Fatalf("/install redirects to %q", to)
	}
	resp, _ = get(t, b, to)
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, srv.URL+"/callback?") {
		t.Fatalf("consent: %d → %q", resp.StatusCode, callback)
	}
	return callback
}

// install runs the whole install in a browser without cookies and returns
// the stored token.
func install(t *testing.T, app *App, srv *httptest.Server, sb *sandboxtest.Sandbox) string {
	t.Helper()
	resp, body := get(t, browser(sb), consent(t, browser(sb), srv, sb))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, accountID) {
		t.Fatalf("/callback: %d %s", resp.StatusCode, body)
	}
	tok, ok := app.Token(accountID)
	if !ok || tok.Value() == "" {
		t.Fatal("no token stored for the account")
	}
	return tok.Value()
}

// control POSTs a JSON body to one of the sandbox's /_sandbox/ controls.
func control(t *testing.T, sb *sandboxtest.Sandbox, path string, in any) []delivery {
	t.Helper()
	js, _ := json.Marshal(in)
	resp, err := sb.HTTP.Post(sb.Endpoint(path), "application/json", bytes.NewReader(js))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct{ Deliveries []delivery }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return out.Deliveries
}

type delivery struct {
	URL       string `json:"url"`
	Delivered bool   `json:"delivered"`
	Status    int    `json:"status"`
}

// webhooks lists the webhooks the sandbox holds for the token's install.
func webhooks(t *testing.T, app *App, token string) map[string]string {
	t.Helper()
	body, err := app.Client.GraphQL(context.Background(), token, `query { webhooks { type url } }`, nil)
	if err != nil {
		t.Fatalf("webhooks: %v", err)
	}
	var out struct {
		Data struct{ Webhooks []struct{ Type, URL string } }
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	byType := map[string]string{}
	for _, w := range out.Data.Webhooks {
		byType[w.Type] = w.URL
	}
	return byType
}

func TestEmbeddedInstallNeedsNoCookie(t *testing.T) {
	app, srv, sb := setup(t)
	b := browser(sb)

	resp, _ := get(t, b, srv.URL+"/install")
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Fatalf("/install sets cookies %q: third-party in the admin iframe", c)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+adminOrigin) {
		t.Fatalf("/install CSP %q, want frame-ancestors %s", csp, adminOrigin)
	}
	callback := consent(t, b, srv, sb)
	resp, body := get(t, b, callback)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, accountID) {
		t.Fatalf("/callback without cookies: %d %s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+adminOrigin) {
		t.Fatalf("/callback CSP %q", csp)
	}
	tok, ok := app.Token(accountID)
	if !ok || tok.Value() == "" {
		t.Fatal("no token stored for the account")
	}
	if strings.Contains(body, tok.Value()) {
		t.Fatal("the token was shown to the browser")
	}

	// createWebhook registered both types, each with its type in the URL
	// (the platform sends no topic header).
	hooks := webhooks(t, app, tok.Value())
	for _, typ := range []string{"order/created", "app/uninstalled"} {
		u, err := url.Parse(hooks[typ])
		if err != nil || !strings.HasPrefix(hooks[typ], srv.URL+"/webhooks?") || u.Query().Get("type") != typ {
			t.Fatalf("webhook for %s: %q (all: %v)", typ, hooks[typ], hooks)
		}
	}

	// The code is spent: a replayed callback is refused and changes nothing.
	resp, _ = get(t, b, callback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d", resp.StatusCode)
	}
	// A re-install keeps one webhook per type (createWebhook would refuse a
	// duplicate). The new token replaced the old one.
	if n := len(webhooks(t, app, install(t, app, srv, sb))); n != 2 {
		t.Fatalf("%d webhooks after a re-install, want 2", n)
	}
}

func TestForgedAndDeclinedCallbacks(t *testing.T) {
	app, srv, sb := setup(t)
	b := browser(sb)
	callback := consent(t, b, srv, sb)
	u, _ := url.Parse(callback)
	q := u.Query()
	state := q.Get("state")

	mid, swap := len(state)/2, "A"
	if state[mid] == 'A' {
		swap = "B"
	}
	forged := url.Values{"code": {q.Get("code")}, "state": {state[:mid] + swap + state[mid+1:]}}
	resp, _ := get(t, b, srv.URL+"/callback?"+forged.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("altered state: %d", resp.StatusCode)
	}
	fresh, err := lfauth.NewState() // not sealed by this app
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = get(t, b, srv.URL+"/callback?"+url.Values{"code": {q.Get("code")}, "state": {fresh}}.Encode())
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsealed state: %d", resp.StatusCode)
	}
	resp, _ = get(t, b, srv.URL+"/callback?"+url.Values{"error": {"access_denied"}, "state": {state}}.Encode())
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("declined: %d", resp.StatusCode)
	}
	if _, ok := app.Token(accountID); ok {
		t.Fatal("a refused callback stored a token")
	}
}

func TestExpiredState(t *testing.T) {
	app, srv, sb := setup(t, func(a *App) { a.StateMaxAge = time.Second })
	b := browser(sb)
	callback := consent(t, b, srv, sb)
	time.Sleep(2100 * time.Millisecond) // the library counts whole seconds
	resp, body := get(t, b, callback)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") {
		t.Fatalf("expired state: %d %s", resp.StatusCode, body)
	}
	if _, ok := app.Token(accountID); ok {
		t.Fatal("an expired state stored a token")
	}
}

func TestEventsAndUninstall(t *testing.T) {
	app, srv, sb := setup(t)
	token := install(t, app, srv, sb)

	// The sandbox sends a signed {"node": {...}} order to the registered URL.
	ds := control(t, sb, "/_sandbox/event", map[string]string{"account_id": accountID, "type": "order/created"})
	if len(ds) != 1 || !ds[0].Delivered || ds[0].Status != http.StatusOK {
		t.Fatalf("order/created deliveries: %+v", ds)
	}
	events := app.Events()
	if len(events) != 1 || events[0].Type != "order/created" || events[0].Account != accountID ||
		!bytes.HasPrefix(events[0].Body, []byte(`{"node":{`)) {
		t.Fatalf("events: %+v", events)
	}

	post := func(body []byte, sig string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ds[0].URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("lightfunnels-hmac", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	raw := events[0].Body
	sig, err := app.Client.SignWebhook(raw)
	if err != nil {
		t.Fatal(err)
	}
	// A redelivery (same bytes) is acknowledged and recorded once.
	if status := post(raw, sig); status != http.StatusOK || len(app.Events()) != 1 {
		t.Fatalf("redelivery: %d, %d events", status, len(app.Events()))
	}
	// One byte changed: refused, nothing recorded. So is a re-serialisation
	// (same JSON, other bytes) and a missing signature.
	tampered := bytes.Replace(raw, []byte(`"node":{`), []byte(`"node":{ `), 1)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	reserialised, _ := json.Marshal(v)
	for name, body := range map[string][]byte{"tampered": tampered, "re-serialised": reserialised} {
		if bytes.Equal(body, raw) {
			t.Fatalf("%s body equals the original", name)
		}
		if status := post(body, sig); status != http.StatusUnauthorized {
			t.Fatalf("%s body: %d", name, status)
		}
	}
	if status := post(raw, ""); status != http.StatusUnauthorized || len(app.Events()) != 1 {
		t.Fatalf("unsigned: %d, %d events", status, len(app.Events()))
	}

	// The uninstall signal is app/uninstalled, {"node":{"id":"<account>"}}.
	ds = control(t, sb, "/_sandbox/uninstall", map[string]string{"client_id": clientID})
	if len(ds) != 1 || !ds[0].Delivered || ds[0].Status != http.StatusOK {
		t.Fatalf("app/uninstalled deliveries: %+v", ds)
	}
	if _, ok := app.Token(accountID); ok {
		t.Fatal("app/uninstalled left the token stored")
	}
	if _, err := app.Client.AccountID(context.Background(), token); err == nil {
		t.Fatal("the sandbox still accepts the uninstalled token")
	}
	// Installed again: a fresh registry, so the webhooks are registered anew.
	token = install(t, app, srv, sb)
	if n := len(webhooks(t, app, token)); n != 2 {
		t.Fatalf("%d webhooks after installing again, want 2", n)
	}
}
