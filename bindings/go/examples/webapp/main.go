// Command webapp is a minimal Lightfunnels app built on package lfauth.
//
// Configuration comes from the environment (secrets never on the command
// line):
//
//	LF_CLIENT_ID, LF_CLIENT_SECRET   the app's credentials (required)
//	LF_REDIRECT_URI                  this app's /callback URL, whitelisted for the app (required)
//	LF_SCOPES                        comma-separated, default "orders,products"
//	LF_AUTHORIZE_URL, LF_TOKEN_URL, LF_API_URL, LF_CA_FILE
//	                                 overrides, e.g. to run against lf-sandbox
//	LISTEN                           default 127.0.0.1:8080
//
// Against the sandbox:
//
//	lf-sandbox --tls-self-signed /tmp/sb --client app:secret:http://127.0.0.1:8080/callback
//	LF_CLIENT_ID=app LF_CLIENT_SECRET=secret LF_REDIRECT_URI=http://127.0.0.1:8080/callback \
//	LF_AUTHORIZE_URL=$URL/admin/oauth LF_TOKEN_URL=$URL/api/access_token \
//	LF_API_URL=$URL/api/v2 LF_CA_FILE=/tmp/sb/ca.pem go run ./examples/webapp
//
// then open http://127.0.0.1:8080/install.
package main

import (
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

func main() {
	logger := log.New(os.Stderr, "webapp: ", log.LstdFlags)
	redirect := os.Getenv("LF_REDIRECT_URI")
	client, err := lfauth.New(lfauth.Config{
		ClientID:     os.Getenv("LF_CLIENT_ID"),
		ClientSecret: os.Getenv("LF_CLIENT_SECRET"),
		RedirectURIs: []string{redirect},
		AuthorizeURL: os.Getenv("LF_AUTHORIZE_URL"),
		TokenURL:     os.Getenv("LF_TOKEN_URL"),
		APIURL:       os.Getenv("LF_API_URL"),
		CAFile:       os.Getenv("LF_CA_FILE"),
	})
	if err != nil {
		logger.Fatalf("configuration: %v", err)
	}
	defer client.Close()
	os.Unsetenv("LF_CLIENT_SECRET")

	scopes := []string{"orders", "products"}
	if s := os.Getenv("LF_SCOPES"); s != "" {
		scopes = strings.Split(s, ",")
	}
	app := &App{
		Client: client, RedirectURI: redirect, Scopes: scopes,
		Secure: strings.HasPrefix(redirect, "https://"), Log: logger,
	}
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	srv := &http.Server{Addr: addr, Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	logger.Printf("listening on http://%s (open /install)", addr)
	logger.Fatal(srv.ListenAndServe())
}
