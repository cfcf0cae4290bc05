package lfauth_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

// The zero Config exchanges the way the platform documents since 2025-02:
// HTTP Basic, the code in a form body, to /api/access_token.
func TestDefaultClientAuthIsBasic(t *testing.T) {
	if got := (lfauth.Config{}).ClientAuth; got != lfauth.ClientAuthBasic {
		t.Errorf("zero Config.ClientAuth = %d, want ClientAuthBasic (%d)", got, lfauth.ClientAuthBasic)
	}
	const id, secret, code = "go-default-app", "s3cr=t/with!odd:chars", "code-default-1"
	var mu sync.Mutex
	var path, auth, ctype string
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		path, auth, ctype = r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		form, _ = url.ParseQuery(string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"tok-default"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := lfauth.New(lfauth.Config{ClientID: id, ClientSecret: secret,
		RedirectURIs: []string{"https://app.example.test/cb"}, TokenURL: srv.URL + "/api/access_token"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	tok, err := c.Exchange(ctxTimeout(t, 30*time.Second), code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	defer tok.Close()
	mu.Lock()
	defer mu.Unlock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	if path != "/api/access_token" || auth != want || ctype != "application/x-www-form-urlencoded" {
		t.Errorf("default exchange sent %s with Authorization %q, Content-Type %q; want Basic %q, a form body",
			path, auth, ctype, want)
	}
	if form.Get("code") != code || form.Has("client_secret") {
		t.Errorf("form body %v: want only code=%s", form, code)
	}
}
