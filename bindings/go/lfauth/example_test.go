package lfauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

const exampleRedirect = "https://myapp.example.com/lightfunnels/callback"

// exampleClient is the client every example uses. A real app reads the
// secret from its environment or a secret store, never from its code or
// command line.
func exampleClient() *lfauth.Client {
	client, err := lfauth.New(lfauth.Config{
		ClientID:     "my-client-id",
		ClientSecret: "example-secret-not-a-real-one",
		RedirectURIs: []string{exampleRedirect},
	})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// The URL to send the merchant to, with a fresh state to keep in their
// session (a fixed one here, so that the output is stable).
func ExampleClient_ConsentURL() {
	client := exampleClient()
	defer client.Close()

	consent, err := client.ConsentURL(exampleRedirect, []string{"orders", "products"}, "state-from-NewState")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(consent)
	// Output:
	// https://app.lightfunnels.com/admin/oauth?client_id=my-client-id&redirect_uri=https%3A%2F%2Fmyapp.example.com%2Flightfunnels%2Fcallback&scope=orders,products&state=state-from-NewState
}

// A state is 256 random bits, base64url: different every time.
func ExampleNewState() {
	state, err := lfauth.NewState()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(state))
	// Output: 43
}

// The callback checks the state the merchant's session kept, then gives the
// single-use code.
func ExampleClient_ParseCallback() {
	client := exampleClient()
	defer client.Close()

	callback := exampleRedirect + "?code=the-code&state=state-from-NewState"
	code, err := client.ParseCallback(callback, "state-from-NewState")
	fmt.Println(code, err)
	_, err = client.ParseCallback(callback, "another-state")
	fmt.Println(errors.Is(err, lfauth.ErrStateMismatch))
	_, err = client.ParseCallback(exampleRedirect+"?error=access_denied&state=state-from-NewState", "state-from-NewState")
	fmt.Println(errors.Is(err, lfauth.ErrAccessDenied))
	// Output:
	// the-code <nil>
	// true
	// true
}

// A sealed state needs no session store between consent and callback: it
// carries its own time and MAC, bound to the browser session's id.
func ExampleClient_SealState() {
	client := exampleClient()
	defer client.Close()

	state, err := client.SealState("session-1234")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(state))
	fmt.Println(client.OpenState(state, "session-1234", 10*time.Minute))
	err = client.OpenState(state, "another-session", 10*time.Minute)
	fmt.Println(errors.Is(err, lfauth.ErrStateMismatch))

	// On the callback, ParseCallbackSealed opens the state and returns the code.
	code, err := client.ParseCallbackSealed(exampleRedirect+"?code=the-code&state="+state, "session-1234", 10*time.Minute)
	fmt.Println(code, err)
	// Output:
	// 76
	// <nil>
	// true
	// the-code <nil>
}

// Exchange trades the code for the permanent token; the network call is
// bounded by the context. When the code never left the process, the same
// code can be tried again.
func ExampleClient_Exchange() {
	client := exampleClient()
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := "the code ParseCallback returned"
	token, err := client.Exchange(ctx, code)
	if err != nil && !lfauth.CodeSpent(err) {
		token, err = client.Exchange(ctx, code)
	}
	if errors.Is(err, lfauth.ErrInvalidCode) {
		log.Print("the code was used or has expired: send the merchant through consent again")
		return
	} else if err != nil {
		log.Printf("exchange: %v", err) // never holds the secret, the code or a token
		return
	}
	defer token.Close()
	account, err := client.AccountID(ctx, token.Value())
	if err != nil {
		log.Printf("account id: %v", err)
		return
	}
	log.Printf("installed on %s with %v", account, token) // prints lfauth.Token(REDACTED)
}

// VerifyWebhook checks the lightfunnels-hmac header against the raw body.
func ExampleClient_VerifyWebhook() {
	client := exampleClient()
	defer client.Close()

	body := []byte(`{"node":{"id":"acct_1"}}`)
	header, err := client.SignWebhook(body) // what Lightfunnels sends
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(header) // base64(HMAC-SHA256(client secret, body))
	fmt.Println(client.VerifyWebhook(body, header))
	err = client.VerifyWebhook([]byte(`{"node":{"id":"acct_2"}}`), header)
	fmt.Println(errors.Is(err, lfauth.ErrSignatureMismatch))
	// Output:
	// XYl1ZAqVEF/IldCtlegZccObPlI7EBoS5sK7/u0Ebpg=
	// <nil>
	// true
}

// WebhookHandler verifies each delivery before the handler sees its body.
func ExampleClient_WebhookHandler() {
	client := exampleClient()
	defer client.Close()

	handler := client.WebhookHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		fmt.Printf("verified: %s\n", body)
		w.WriteHeader(http.StatusNoContent)
	})
	body := []byte(`{"node":{"id":"acct_1"}}`)
	signature, err := client.SignWebhook(body)
	if err != nil {
		log.Fatal(err)
	}
	for _, header := range []string{signature, "forged"} {
		r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		r.Header.Set(lfauth.WebhookHeader, header)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// verified: {"node":{"id":"acct_1"}}
	// 204
	// 401
}

// Trace shows what each call did, already masked: a log of it is safe to
// keep.
func ExampleConfig_trace() {
	client, err := lfauth.New(lfauth.Config{
		ClientID:     "my-client-id",
		ClientSecret: os.Getenv("LF_CLIENT_SECRET"),
		RedirectURIs: []string{exampleRedirect},
		Trace: func(event lfauth.TraceEvent, line string) {
			log.Printf("lightfunnels %s: %s", event, line) // e.g. "request: POST https://..., 51 bytes of body"
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}
