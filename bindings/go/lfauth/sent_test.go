package lfauth_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

// requestListener accepts connections on 127.0.0.1, reads one whole HTTP
// request from each (so the code has certainly arrived) and hands the
// connection to then. It counts the requests that carried code.
func requestListener(t *testing.T, code string, then func(*net.TCPConn)) (addr string, withCode *int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				body, err := readRequest(conn)
				if err != nil {
					return
				}
				if strings.Contains(body, code) {
					atomic.AddInt32(&n, 1)
				}
				then(conn.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String(), &n
}

// readRequest reads a request's header and its Content-Length body.
func readRequest(conn net.Conn) (string, error) {
	req, err := http.ReadRequest(bufio.NewReader(io.LimitReader(conn, 1<<20)))
	if err != nil {
		return "", err
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	return string(b), err
}

// resetAfterReading answers nothing and resets the connection (RST).
func resetAfterReading(c *net.TCPConn) {
	_ = c.SetLinger(0)
	c.Close()
}

// neverAnswer keeps the connection open, reading nothing more.
func neverAnswer(*net.TCPConn) {}

// closedPort returns a 127.0.0.1 port that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func tokenURLClient(t *testing.T, tokenURL string, mutate ...func(*lfauth.Config)) *lfauth.Client {
	t.Helper()
	cfg := lfauth.Config{
		ClientID:     "id",
		ClientSecret: "secret",
		RedirectURIs: []string{"http://127.0.0.1/cb"},
		TokenURL:     tokenURL,
		Timeout:      20 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := lfauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// exchangeError runs one exchange that must fail with want and returns its *Error.
func exchangeError(t *testing.T, c *lfauth.Client, code string, want lfauth.Status) *lfauth.Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := c.Exchange(ctx, code)
	if tok != nil {
		tok.Close()
	}
	var e *lfauth.Error
	if !errors.Is(err, want) || !errors.As(err, &e) {
		t.Fatalf("exchange: %v, want %v", err, want)
	}
	return e
}

func expectCodeSent(t *testing.T, what string, e *lfauth.Error, want lfauth.Delivery, spent bool) {
	t.Helper()
	if e.CodeSent != want {
		t.Errorf("%s: CodeSent = %v, want %v (%v)", what, e.CodeSent, want, e)
	}
	if got := lfauth.CodeSpent(e); got != spent {
		t.Errorf("%s: CodeSpent = %v, want %v", what, got, spent)
	}
}

func TestRefusedConnectionLeavesTheCodeUnsent(t *testing.T) {
	c := tokenURLClient(t, "http://127.0.0.1:"+strconv.Itoa(closedPort(t))+"/oauth/access_token")
	e := exchangeError(t, c, "code-1", lfauth.ErrNetwork)
	expectCodeSent(t, "refused", e, lfauth.CodeNotSent, false)
}

func TestHangUpAfterTheRequestMayHaveSpentTheCode(t *testing.T) {
	const code = "code-reset-after-reading"
	addr, withCode := requestListener(t, code, resetAfterReading)
	c := tokenURLClient(t, "http://"+addr+"/oauth/access_token")
	e := exchangeError(t, c, code, lfauth.ErrNetwork)
	expectCodeSent(t, "reset", e, lfauth.CodeMaybeSent, true)
	if atomic.LoadInt32(withCode) != 1 {
		t.Errorf("the listener saw the code %d times, want 1", atomic.LoadInt32(withCode))
	}
}

func TestAnsweredExchangeSentTheCode(t *testing.T) {
	sb, c := startSandbox(t)
	code := consentCode(t, sb, c)
	ctx := ctxTimeout(t, 60*time.Second)
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	tok.Close()
	if !lfauth.CodeSpent(err) {
		t.Error("CodeSpent(nil) = false after a successful exchange")
	}
	e := exchangeError(t, c, code, lfauth.ErrInvalidCode) // rejected: 400 invalid_grant
	if e.HTTPStatus != 400 || e.Key != "invalid_grant" {
		t.Fatalf("reused code: %v", e)
	}
	expectCodeSent(t, "rejected", e, lfauth.CodeSent, true)
}

func TestCodeSentBeforeAnyIO(t *testing.T) {
	c := tokenURLClient(t, "http://127.0.0.1:"+strconv.Itoa(closedPort(t))+"/oauth/access_token")
	e := exchangeError(t, c, "nul\x00code", lfauth.ErrInvalidArgument)
	expectCodeSent(t, "NUL in code", e, lfauth.CodeNotSent, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Exchange(ctx, "code")
	if !errors.As(err, &e) || !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: %v", err)
	}
	expectCodeSent(t, "ended context", e, lfauth.CodeNotSent, false)
	// Anything that is not an *lfauth.Error says nothing about the code.
	if !lfauth.CodeSpent(lfauth.ErrClosed) || !lfauth.CodeSpent(io.EOF) {
		t.Error("CodeSpent is false for an error that tells nothing")
	}
}

func TestDeliveryStrings(t *testing.T) {
	for d, want := range map[lfauth.Delivery]string{
		lfauth.CodeNotSent: "not sent", lfauth.CodeMaybeSent: "maybe sent", lfauth.CodeSent: "sent",
		lfauth.Delivery(9): "Delivery(9)",
	} {
		if got := d.String(); got != want {
			t.Errorf("Delivery(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestStallTimeoutEndsASilentExchange(t *testing.T) {
	const code = "code-stalled"
	addr, withCode := requestListener(t, code, neverAnswer)
	c := tokenURLClient(t, "http://"+addr+"/oauth/access_token", func(cfg *lfauth.Config) {
		cfg.Timeout = 60 * time.Second
		cfg.StallTimeout = time.Second
	})
	start := time.Now()
	e := exchangeError(t, c, code, lfauth.ErrTimeout)
	took := time.Since(start)
	if took >= 5*time.Second {
		t.Errorf("stalled exchange took %v; StallTimeout is 1 s", took)
	}
	if took < 900*time.Millisecond {
		t.Errorf("stalled exchange ended after %v, before the 1 s stall limit", took)
	}
	if errors.Is(e, context.DeadlineExceeded) {
		t.Errorf("the stall limit is not the context's deadline: %v", e)
	}
	expectCodeSent(t, "stalled", e, lfauth.CodeMaybeSent, true)
	if atomic.LoadInt32(withCode) != 1 {
		t.Errorf("the listener saw the code %d times, want 1", atomic.LoadInt32(withCode))
	}
}

func TestStallTimeoutMustNotBeNegative(t *testing.T) {
	c, err := lfauth.New(lfauth.Config{ClientID: "id", ClientSecret: "secret",
		RedirectURIs: []string{"https://app.example.test/cb"}, StallTimeout: -time.Second})
	if c != nil || !errors.Is(err, lfauth.ErrInvalidArgument) {
		t.Fatalf("negative StallTimeout: (%v, %v)", c, err)
	}
}
