package lfauth_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/internal/sandboxtest"
	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

// osThreads is the process's OS thread count (Go's and the library's).
func osThreads(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatalf("thread count: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "Threads:") {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "Threads:")))
			if err != nil {
				t.Fatalf("thread count: %q: %v", sc.Text(), err)
			}
			return n
		}
	}
	t.Fatal("no Threads: line in /proc/self/status")
	return 0
}

// threadBound is how many OS threads a crowd of waiting calls may add. A
// waiting call must cost no thread: what may be added is one thread per P
// running Go code or briefly inside cgo (twice GOMAXPROCS, for the hand-off
// of a P from a cgo call), the runtime's own (sysmon, template thread, a few
// spare Ms) and the Client's library I/O thread: 32 covers those with room.
// A thread per waiting call shows up as hundreds.
func threadBound() int {
	return 32 + 2*runtime.GOMAXPROCS(0)
}

// mintCodes plays the merchant's browser n times (8 at a time, the sandbox
// serves from a small pool) and returns n distinct codes.
func mintCodes(t *testing.T, sb *sandboxtest.Sandbox, c *lfauth.Client, n int) []string {
	t.Helper()
	consent, err := c.ConsentURL(sbRedirect, []string{"orders"}, "")
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, n)
	errs := make(chan error, n)
	next := make(chan int, n)
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				code, err := mintCode(sb, consent)
				if err != nil {
					errs <- err
					return
				}
				codes[i] = code
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("minting codes: %v", err)
	}
	return codes
}

func mintCode(sb *sandboxtest.Sandbox, consent string) (string, error) {
	resp, err := sb.HTTP.Get(consent)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	code := u.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("consent: HTTP %d without a code", resp.StatusCode)
	}
	return code, nil
}

// crowd runs call(i) for i < n on n goroutines released together (a
// barrier) and samples the OS thread count while they wait. It returns the
// most threads seen and the most calls seen in flight at one sample.
func crowd(t *testing.T, n int, call func(i int) error) (peakThreads, peakInFlight int) {
	t.Helper()
	var inFlight int32
	release := make(chan struct{})
	ready := make(chan struct{}, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ready <- struct{}{}
			<-release
			atomic.AddInt32(&inFlight, 1)
			err := call(i)
			atomic.AddInt32(&inFlight, -1)
			if err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
			}
		}(i)
	}
	for i := 0; i < n; i++ {
		<-ready
	}
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	close(release)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	limit := time.NewTimer(40 * time.Second)
	defer limit.Stop()
sampling:
	for {
		if th := osThreads(t); th > peakThreads {
			peakThreads = th
		}
		if f := int(atomic.LoadInt32(&inFlight)); f > peakInFlight {
			peakInFlight = f
		}
		select {
		case <-allDone:
			break sampling
		case <-limit.C:
			t.Fatalf("%d of %d calls still waiting after 40 s", atomic.LoadInt32(&inFlight), n)
		case <-tick.C:
		}
	}
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 3 {
			t.Error(err)
		}
	}
	if failed > 3 {
		t.Errorf("... %d of %d calls failed in all", failed, n)
	}
	if live := lfauth.LiveCalls(); live != 0 {
		t.Errorf("%d calls' C memory or handles not freed after they returned", live)
	}
	return peakThreads, peakInFlight
}

// crowdSandbox is a sandbox and a Client whose timeouts leave room for a
// thousand TLS handshakes queueing at the sandbox's few workers.
func crowdSandbox(t *testing.T) (*sandboxtest.Sandbox, *lfauth.Client) {
	return startSandbox(t, func(cfg *lfauth.Config) {
		cfg.ConnectTimeout = 30 * time.Second
		cfg.Timeout = 30 * time.Second
	})
}

func TestThousandExchangesPinNoThreads(t *testing.T) {
	const n = 1000
	sb, c := crowdSandbox(t)
	codes := mintCodes(t, sb, c, n)
	ctx := ctxTimeout(t, 35*time.Second)
	tokens := make([]string, n)
	base := osThreads(t)
	peak, inFlight := crowd(t, n, func(i int) error {
		tok, err := c.Exchange(ctx, codes[i])
		if err != nil {
			return err
		}
		tokens[i] = tok.Value()
		tok.Close()
		return nil
	})
	t.Logf("%d exchanges: %d OS threads before, at most %d while up to %d calls waited", n, base, peak, inFlight)
	if inFlight < n/4 {
		t.Errorf("at most %d calls were seen waiting at once: too few for the thread count to prove anything", inFlight)
	}
	if peak-base > threadBound() {
		t.Errorf("%d waiting exchanges added %d OS threads (%d -> %d), want at most %d",
			n, peak-base, base, peak, threadBound())
	}
	distinct := map[string]bool{}
	for _, tok := range tokens {
		if tok != "" {
			distinct[tok] = true
		}
	}
	if len(distinct) != n {
		t.Errorf("%d distinct tokens for %d exchanges", len(distinct), n)
	}
}

func TestConcurrentGraphQLPinsNoThreads(t *testing.T) {
	const n = 300
	sb, c := crowdSandbox(t)
	ctx := ctxTimeout(t, 35*time.Second)
	tok, err := c.Exchange(ctx, consentCode(t, sb, c))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	defer tok.Close()
	want := `"id":"` + sbAccountID + `"`
	base := osThreads(t)
	peak, inFlight := crowd(t, n, func(i int) error {
		body, err := c.GraphQL(ctx, tok.Value(), "query { account { id } }", nil)
		if err != nil {
			return err
		}
		if !strings.Contains(string(body), want) {
			return fmt.Errorf("body %s, want %s", body, want)
		}
		return nil
	})
	t.Logf("%d GraphQL calls: %d OS threads before, at most %d while up to %d calls waited", n, base, peak, inFlight)
	if inFlight < n/4 {
		t.Errorf("at most %d calls were seen waiting at once: too few for the thread count to prove anything", inFlight)
	}
	if peak-base > threadBound() {
		t.Errorf("%d waiting GraphQL calls added %d OS threads (%d -> %d), want at most %d",
			n, peak-base, base, peak, threadBound())
	}
}

func TestCloseEndsPendingExchanges(t *testing.T) {
	// n exchanges and m GraphQL calls wait on a listener that never answers.
	const n, m = 50, 10
	addr, accepted := stalledListener(t)
	c := stalledClient(t, addr)
	// Only Close may end these calls in time; cancel is the way out should
	// Close wait for them instead.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	errs := make(chan error, n+m)
	for i := 0; i < n; i++ {
		go func(i int) {
			_, err := c.Exchange(ctx, "code-"+strconv.Itoa(i))
			errs <- err
		}(i)
	}
	for i := 0; i < m; i++ {
		go func() {
			_, err := c.GraphQL(ctx, "tok", "query { account { id } }", nil)
			errs <- err
		}()
	}
	// A Client's calls share at most 16 connections: the first calls reach
	// the listener, the others wait inside the library for a connection.
	const connections = 16
	for i := 0; i < 1000 && atomic.LoadInt32(accepted) < connections; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if got := atomic.LoadInt32(accepted); got < connections {
		cancel()
		t.Fatalf("only %d calls reached the listener, want %d", got, connections)
	}

	closed := make(chan struct{})
	start := time.Now()
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatalf("Close did not return within 5 s of %d pending calls", n+m)
	}
	deadline := time.After(5 * time.Second)
	for i := 0; i < n+m; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, lfauth.ErrCancelled) || !errors.Is(err, lfauth.ErrClosed) {
				t.Errorf("call pending at Close: %v, want ErrCancelled and ErrClosed", err)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("call pending at Close blames its context: %v", err)
			}
		case <-deadline:
			cancel()
			t.Fatalf("%d of %d calls still waiting 5 s after Close", n+m-i, n+m)
		}
	}
	t.Logf("Close and %d pending calls ended in %v", n+m, time.Since(start))
	if live := lfauth.LiveCalls(); live != 0 {
		t.Errorf("%d calls' C memory or handles not freed after they returned", live)
	}
	if _, err := c.Exchange(ctx, "code"); !errors.Is(err, lfauth.ErrClosed) {
		t.Errorf("Exchange after Close: %v", err)
	}
}

// A refused non-blocking call reports only its status; the errors still
// carry the library's reasons, as the blocking calls gave them.
func TestRefusedCallsKeepTheirReasons(t *testing.T) {
	c := newTestClient(t)
	ctx := ctxTimeout(t, 10*time.Second)
	expect := func(what string, err error, message string) {
		t.Helper()
		var e *lfauth.Error
		if !errors.As(err, &e) || e.Status != lfauth.ErrInvalidArgument || e.Message != message {
			t.Errorf("%s: %v, want ErrInvalidArgument: %s", what, err, message)
		} else if e.CodeSent != lfauth.CodeNotSent {
			t.Errorf("%s: CodeSent = %v, want not sent", what, e.CodeSent)
		}
	}
	_, err := c.Exchange(ctx, "")
	expect("empty code", err, "the authorization code is empty")
	_, err = c.Exchange(ctx, strings.Repeat("c", 4097))
	expect("long code", err, "the authorization code is too long")
	_, err = c.GraphQL(ctx, "not a token", "query { account { id } }", nil)
	expect("malformed token", err, "the access token is not a valid RFC 6750 token")
	_, err = c.GraphQL(ctx, "tok==", "", nil)
	expect("empty query", err, "the query is empty")
	_, err = c.GraphQL(ctx, "tok", "query { account { id } }", []int{1})
	expect("array variables", err, "variables_json is not a JSON object")
}
