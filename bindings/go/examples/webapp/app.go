package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

// DefaultAdminOrigin is the Lightfunnels admin, the only page that may frame the app.
const DefaultAdminOrigin = "https://app.lightfunnels.com"

// DefaultStateMaxAge bounds the time between /install and /callback.
const DefaultStateMaxAge = 10 * time.Minute

// WebhookTypes are the events the app registers with createWebhook after an
// install. app/uninstalled is the platform's uninstall signal.
var WebhookTypes = []string{"order/created", "app/uninstalled"}

// The documented mutation; the node travels in variables, never spliced into
// the query text.
const createWebhook = `mutation CreateWebhookMutation($node: WebhookInput!) {
  createWebhook(node: $node) { id type url settings }
}`

// App is a minimal Lightfunnels app, built to run inside the admin's iframe:
// /install sends the merchant to the consent screen with a sealed state,
// /callback exchanges the code, stores the token (in memory, keyed by account
// id) and registers the webhooks, /webhooks accepts verified events.
type App struct {
	Client      *lfauth.Client
	RedirectURI string        // one of the client's RedirectURIs: this app's /callback
	PublicURL   string        // where the platform reaches the app ("" = RedirectURI's origin)
	AdminOrigin string        // the origin allowed to frame the app ("" = DefaultAdminOrigin)
	Scopes      []string      // e.g. {"orders", "products"}
	StateMaxAge time.Duration // 0 = DefaultStateMaxAge
	Log         *log.Logger

	installing sync.Mutex // one install at a time: webhooks are registered once per type
	mu         sync.Mutex
	installs   map[string]*installation // account id → install (use a database in a real app)
	seen       map[[sha256.Size]byte]bool
	events     []Event
}

type installation struct {
	token    *lfauth.Token
	webhooks map[string]string // type → webhook id
}

// Event is a verified webhook the app recorded.
type Event struct {
	Type    string // from the URL the app registered: the platform sends no topic header
	Account string
	Body    []byte // the raw bytes that were verified
}

// Handler returns the app's routes. Every answer may be framed by the admin
// only, and is never cached or leaked through Referer (a callback URL holds a
// code).
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", a.home)
	mux.HandleFunc("/install", a.install)
	mux.HandleFunc("/callback", a.callback)
	mux.Handle("/webhooks", a.Client.WebhookHandler(a.webhook))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "frame-ancestors "+a.adminOrigin())
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		mux.ServeHTTP(w, r)
	})
}

// Token returns the stored token of an account.
func (a *App) Token(accountID string) (*lfauth.Token, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	in := a.installs[accountID]
	if in == nil {
		return nil, false
	}
	return in.token, true
}

// Events returns the events recorded so far.
func (a *App) Events() []Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Event(nil), a.events...)
}

// home is the page the admin frames, with ?account_id=..&iframe=true. That
// account id is unsigned: it never selects anyone's data.
func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<p><a href=\"/install\">Install on your Lightfunnels account</a></p>\n")
}

// install answers with the consent screen. The state is sealed and unbound:
// before the install the app has no browser session to bind it to (a cookie
// would be third-party inside the admin iframe), and the install is keyed by
// the account the token belongs to, never by the browser. An app with a
// login of its own should pass its session id as the binding.
func (a *App) install(w http.ResponseWriter, r *http.Request) {
	state, err := a.Client.SealState("")
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "cannot start the installation", err)
		return
	}
	consent, err := a.Client.ConsentURL(a.RedirectURI, a.Scopes, state)
	if err != nil {
		a.fail(w, http.StatusInternalServerError, "cannot start the installation", err)
		return
	}
	http.Redirect(w, r, consent, http.StatusFound)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	code, err := a.Client.ParseCallbackSealed(r.URL.RawQuery, "", a.stateMaxAge())
	switch {
	case errors.Is(err, lfauth.ErrAccessDenied):
		a.fail(w, http.StatusForbidden, "The installation was declined.", err)
		return
	case errors.Is(err, lfauth.ErrStateExpired):
		a.fail(w, http.StatusBadRequest, "This installation took too long: please install again.", err)
		return
	case errors.Is(err, lfauth.ErrStateMismatch):
		a.fail(w, http.StatusBadRequest, "This installation was not started here: please install again.", err)
		return
	case err != nil:
		a.fail(w, http.StatusBadRequest, "Invalid callback.", err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	tok, err := a.exchange(ctx, code)
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
	if err := a.keep(ctx, account, tok); err != nil {
		a.fail(w, http.StatusBadGateway, "The webhooks could not be registered: please install again.", err)
		return
	}
	a.logf("installed for account %s", account) // never log the token
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<p>Installed for account %s.</p>\n", html.EscapeString(account))
}

// exchange tries a code again only when the library proves it never left
// this process: a code is single-use.
func (a *App) exchange(ctx context.Context, code string) (*lfauth.Token, error) {
	tok, err := a.Client.Exchange(ctx, code)
	if err != nil && !lfauth.CodeSpent(err) {
		tok, err = a.Client.Exchange(ctx, code)
	}
	return tok, err
}

// keep stores the token under its account, then registers the webhooks the
// install does not have yet: a re-install keeps the ones it has, or every
// event would arrive twice.
func (a *App) keep(ctx context.Context, account string, tok *lfauth.Token) error {
	a.installing.Lock()
	defer a.installing.Unlock()
	a.mu.Lock()
	if a.installs == nil {
		a.installs = map[string]*installation{}
	}
	in := a.installs[account]
	if in == nil {
		in = &installation{webhooks: map[string]string{}}
		a.installs[account] = in
	}
	if in.token != nil {
		in.token.Close()
	}
	in.token = tok
	missing := []string{}
	for _, typ := range WebhookTypes {
		if in.webhooks[typ] == "" {
			missing = append(missing, typ)
		}
	}
	a.mu.Unlock()

	for _, typ := range missing {
		id, err := a.registerWebhook(ctx, tok.Value(), account, typ)
		if err != nil {
			return fmt.Errorf("createWebhook %s: %w", typ, err)
		}
		a.mu.Lock()
		if a.installs[account] == in {
			in.webhooks[typ] = id
		}
		a.mu.Unlock()
	}
	return nil
}

// registerWebhook puts the event type (and the account) in the URL: the
// platform sends no topic header, so the URL is how the app knows the type.
func (a *App) registerWebhook(ctx context.Context, token, account, typ string) (string, error) {
	target := a.publicURL() + "/webhooks?" + url.Values{"type": {typ}, "account": {account}}.Encode()
	vars := map[string]any{"node": map[string]any{"type": typ, "url": target, "settings": map[string]any{}}}
	body, err := a.Client.GraphQL(ctx, token, createWebhook, vars)
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			CreateWebhook struct {
				ID string `json:"id"`
			} `json:"createWebhook"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Data.CreateWebhook.ID == "" {
		return "", errors.New("the answer has no data.createWebhook.id")
	}
	return out.Data.CreateWebhook.ID, nil
}

// webhook gets the raw body already verified by WebhookHandler. Events are
// {"node": {...}}; the type is the one in the URL the app registered.
// It answers at once: a real app hands slow work to a queue.
func (a *App) webhook(w http.ResponseWriter, r *http.Request, body []byte) {
	typ := r.URL.Query().Get("type")
	var ev struct {
		Node map[string]any `json:"node"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Node == nil {
		http.Error(w, "not a {\"node\": {...}} event", http.StatusBadRequest)
		return
	}
	switch {
	case typ == "app/uninstalled":
		// The account named in the signed body, not the one in the URL.
		account, _ := ev.Node["id"].(string)
		if account == "" {
			http.Error(w, "app/uninstalled without node.id", http.StatusBadRequest)
			return
		}
		a.uninstall(account)
	case subscribed(typ):
		account, _ := ev.Node["account_id"].(string)
		if account == "" {
			account = r.URL.Query().Get("account")
		}
		a.record(typ, account, body)
	}
	w.WriteHeader(http.StatusOK)
}

func subscribed(typ string) bool {
	for _, t := range WebhookTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// uninstall deletes the account's token and everything recorded for it.
func (a *App) uninstall(account string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if in := a.installs[account]; in != nil {
		in.token.Close()
		delete(a.installs, account)
	}
	kept := a.events[:0]
	for _, e := range a.events {
		if e.Account != account {
			kept = append(kept, e)
		}
	}
	a.events = kept
	a.logf("app/uninstalled: account %s removed", account)
}

// record keeps an event once. The payloads carry no event id, so an event is
// known by the SHA-256 of its type and raw body: a redelivery has the same
// bytes. Events for an account that is not installed are dropped.
func (a *App) record(typ, account string, body []byte) {
	key := sha256.Sum256([]byte(typ + "\n" + string(body)))
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.installs[account] == nil || a.seen[key] {
		return
	}
	if a.seen == nil {
		a.seen = map[[sha256.Size]byte]bool{} // a database table in a real app
	}
	a.seen[key] = true
	a.events = append(a.events, Event{Type: typ, Account: account, Body: append([]byte(nil), body...)})
}

func (a *App) adminOrigin() string {
	if a.AdminOrigin != "" {
		return a.AdminOrigin
	}
	return DefaultAdminOrigin
}

func (a *App) stateMaxAge() time.Duration {
	if a.StateMaxAge > 0 {
		return a.StateMaxAge
	}
	return DefaultStateMaxAge
}

func (a *App) publicURL() string {
	if a.PublicURL != "" {
		return strings.TrimSuffix(a.PublicURL, "/")
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
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
