package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const stateCookie = "lf_oauth_state"

// App is a minimal Lightfunnels app: /install sends the merchant to the
// consent screen, /callback exchanges the code and stores the token (in
// memory, keyed by account id), /webhooks accepts verified webhooks.
type App struct {
	Client      *lfauth.Client
	RedirectURI string   // one of the client's RedirectURIs: this app's /callback
	Scopes      []string // e.g. {"orders", "products"}
	Secure      bool     // mark the state cookie Secure (true when served over HTTPS)
	Log         *log.Logger

	mu     sync.Mutex
	tokens map[string]*lfauth.Token // account id → token (use a database in a real app)
	events [][]byte
}

// Handler returns the app's routes.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/install", a.install)
	mux.HandleFunc("/callback", a.callback)
	mux.Handle("/webhooks", a.Client.WebhookHandler(a.webhook))
	return mux
}

// Token returns the stored token of an account.
func (a *App) Token(accountID string) (*lfauth.Token, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[accountID]
	return t, ok
}

// Events returns the bodies of the verified webhooks received so far.
func (a *App) Events() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.events...)
}

func (a *App) install(w http.ResponseWriter, r *http.Request) {
	state, err := lfauth.NewState()
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "cannot start the installation", err)
		return
	}
	consent, err := a.Client.ConsentURL(a.RedirectURI, a.Scopes, state)
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "cannot start the installation", err)
		return
	}
	// The state is bound to this browser: a callback from another browser
	// (a CSRF or a code-injection attempt) will not carry the cookie.
	http.SetCookie(w, &http.Cookie{
		Name: stateCookie, Value: state, Path: "/callback",
		MaxAge: 600, HttpOnly: true, Secure: a.Secure, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, consent, http.StatusFound)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	// The state cookie is single-use: clear it whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/callback", MaxAge: -1,
		HttpOnly: true, Secure: a.Secure, SameSite: http.SameSiteLaxMode})
	var expected string
	if c, err := r.Cookie(stateCookie); err == nil {
		expected = c.Value
	}
	code, err := a.Client.ParseCallback(r.URL.RawQuery, expected) // "" expected → ErrStateMismatch
	switch {
	case errors.Is(err, lfauth.ErrAccessDenied):
		a.fail(w, http.StatusForbidden, "The installation was declined.", err)
		return
	case errors.Is(err, lfauth.ErrStateMismatch):
		a.fail(w, http.StatusBadRequest, "This link has expired or was not started here: please install again.", err)
		return
	case err != nil:
		a.fail(w, http.StatusBadRequest, "Invalid callback.", err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	tok, err := a.Client.Exchange(ctx, code)
	if err != nil {
		if errors.Is(err, lfauth.ErrInvalidCode) {
			a.fail(w, http.StatusBadRequest, "This link was already used or has expired: please install again.", err)
		} else {
			a.fail(w, http.StatusBadGateway, "Lightfunnels could not be reached: please install again.", err)
		}
		return
	}
	account, err := a.Client.AccountID(ctx, tok.Value())
	if err != nil {
		tok.Close()
		a.fail(w, http.StatusBadGateway, "Lightfunnels could not be reached: please install again.", err)
		return
	}
	a.mu.Lock()
	if a.tokens == nil {
		a.tokens = map[string]*lfauth.Token{}
	}
	if old := a.tokens[account]; old != nil && old != tok {
		old.Close()
	}
	a.tokens[account] = tok
	a.mu.Unlock()
	a.logf("installed for account %s", account) // never log the token
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<p>Installed for account %s.</p>\n", html.EscapeString(account))
}

func (a *App) webhook(w http.ResponseWriter, r *http.Request, body []byte) {
	// Verified. There is no timestamp in the signature: deduplicate events
	// (e.g. by their id) before acting on them.
	a.mu.Lock()
	a.events = append(a.events, body)
	a.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (a *App) fail(w http.ResponseWriter, status int, msg string, err error) {
	// An *lfauth.Error never contains the secret, a code or a token.
	a.logf("%d %s: %v", status, http.StatusText(status), err)
	http.Error(w, msg, status)
}

func (a *App) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log.Printf(format, args...)
	}
}
