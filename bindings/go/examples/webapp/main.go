// Command webapp is a minimal Lightfunnels app built on package lfauth.
//
// Configuration comes from the environment (secrets never on the command
// line):
//
//	LF_CLIENT_ID, LF_CLIENT_SECRET   the app's credentials (required)
//	LF_REDIRECT_URI                  this app's /callback URL, whitelisted for the app (required)
//	LF_PUBLIC_URL                    where the platform reaches the app (webhook URLs),
//	                                 default the origin of LF_REDIRECT_URI
//	LF_ADMIN_ORIGIN                  the only origin allowed to frame the app
//	                                 (Content-Security-Policy: frame-ancestors),
//	                                 default https://app.lightfunnels.com
//	LF_SCOPES                        comma-separated, default "orders,products"
//	LF_AUTHORIZE_URL, LF_TOKEN_URL, LF_API_URL, LF_CA_FILE
//	                                 overrides, e.g. to run against lf-sandbox
//	LISTEN                           default 127.0.0.1:8080
//
// Against the sandbox, inside its admin iframe (another origin than the app,
// as on the platform):
//
//	lf-sandbox --tls-self-signed /tmp/sb --client app:secret:http://127.0.0.1:8080/callback \
//	    --app-url app:http://127.0.0.1:8080/
//	LF_CLIENT_ID=app LF_CLIENT_SECRET=secret LF_REDIRECT_URI=http://127.0.0.1:8080/callback \
//	LF_ADMIN_ORIGIN=$URL LF_AUTHORIZE_URL=$URL/admin/oauth LF_TOKEN_URL=$URL/api/access_token \
//	LF_API_URL=$URL/api/v2 LF_CA_FILE=/tmp/sb/ca.pem go run ./examples/webapp
//
// then open $URL/admin/apps/app and click Install. The secret is in the
// sandbox's argv only because it is a throwaway test server.
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
		Client: client, RedirectURI: redirect, Scopes: scopes, Log: logger,
		PublicURL: os.Getenv("LF_PUBLIC_URL"), AdminOrigin: os.Getenv("LF_ADMIN_ORIGIN"),
	}
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	srv := &http.Server{Addr: addr, Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	logger.Printf("listening on http://%s (the admin frames /)", addr)
	logger.Fatal(srv.ListenAndServe())
}
