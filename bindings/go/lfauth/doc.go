// Package lfauth runs the Lightfunnels app-authorization (OAuth2) flow. It
// binds the lightfunnels-auth C library (found with pkg-config) with cgo.
//
// The flow:
//
//  1. NewState, bound to the merchant's browser (e.g. a cookie);
//  2. Client.ConsentURL: redirect the merchant to the consent screen;
//  3. Client.ParseCallback on the redirect back: checks the state, returns
//     the single-use code;
//  4. Client.Exchange: code → permanent access Token;
//  5. Client.AccountID / Client.GraphQL: use the token;
//  6. Client.WebhookHandler / Client.VerifyWebhook: accept signed webhooks.
//
// Errors are *Error values whose Status works with errors.Is:
// errors.Is(err, lfauth.ErrInvalidCode). Calls taking a context.Context
// honour its deadline and cancellation; an error caused by the context also
// matches context.Canceled or context.DeadlineExceeded. After a failed
// Exchange, CodeSpent(err) tells whether the code may have been used up; when
// it is false (the code never left the process) the same code can be tried
// again.
//
// A Client is safe for concurrent use; create one per app and Close it when
// done. A Token never prints its value through fmt. Config.Trace receives a
// line for each connection, request, answer and error, with every secret
// already masked by the library.
package lfauth
