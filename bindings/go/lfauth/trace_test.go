package lfauth_test

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lightfunnels-auth/lightfunnels-auth/bindings/go/lfauth"
)

type traceLine struct {
	event lfauth.TraceEvent
	line  string
}

type traceLog struct {
	mu    sync.Mutex
	lines []traceLine
}

func (l *traceLog) add(event lfauth.TraceEvent, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, traceLine{event, line})
}

func (l *traceLog) snapshot() []traceLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]traceLine(nil), l.lines...)
}

// index is the first line of event at or after from whose text holds
// needle; -1 if none.
func index(lines []traceLine, from int, event lfauth.TraceEvent, needle string) int {
	for i := from; i < len(lines); i++ {
		if lines[i].event == event && strings.Contains(lines[i].line, needle) {
			return i
		}
	}
	return -1
}

// expectNoSecret fails when a line holds any 8-byte run of a secret (as the
// C suite checks).
func expectNoSecret(t *testing.T, lines []traceLine, secrets ...string) {
	t.Helper()
	for _, l := range lines {
		for _, s := range secrets {
			for i := 0; i+8 <= len(s); i++ {
				if strings.Contains(l.line, s[i:i+8]) {
					t.Fatalf("8 bytes of a secret in the trace line %q", l.line)
				}
			}
		}
	}
}

func TestTraceShowsAnExchangeWithoutSecrets(t *testing.T) {
	var log traceLog
	sb, c := startSandbox(t, func(cfg *lfauth.Config) { cfg.Trace = log.add })
	ctx := ctxTimeout(t, 60*time.Second)
	code := consentCode(t, sb, c)
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	defer tok.Close()
	if id, err := c.AccountID(ctx, tok.Value()); err != nil || id != sbAccountID {
		t.Fatalf("AccountID = %q, %v", id, err)
	}

	lines := log.snapshot()
	at := index(lines, 0, lfauth.TraceConnect, "")
	if at >= 0 {
		at = index(lines, at, lfauth.TraceTLS, "TLS")
	}
	if at >= 0 {
		at = index(lines, at, lfauth.TraceRequest, "POST "+sb.Endpoint("/api/access_token")+",")
	}
	if at >= 0 {
		at = index(lines, at, lfauth.TraceResponse, "HTTP 200")
	}
	if at < 0 {
		t.Fatalf("no connect, TLS, request, response lines in order: %+v", lines)
	}

	// A failure: the error mapping, still without the code.
	if _, err := c.Exchange(ctx, code); err == nil {
		t.Fatal("a reused code was accepted")
	}
	lines = log.snapshot()
	if index(lines, 0, lfauth.TraceError, "LF_E_INVALID_CODE") < 0 {
		t.Fatalf("no error line for the reused code: %+v", lines)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(sbClientID + ":" + sbSecret))
	expectNoSecret(t, lines, sbSecret, code, tok.Value(), basic)
}

func TestTracePanicIsContained(t *testing.T) {
	var calls int
	var mu sync.Mutex
	sb, c := startSandbox(t, func(cfg *lfauth.Config) {
		cfg.Trace = func(lfauth.TraceEvent, string) {
			mu.Lock()
			calls++
			mu.Unlock()
			panic("a trace function that panics")
		}
	})
	ctx := ctxTimeout(t, 60*time.Second)
	tok, err := c.Exchange(ctx, consentCode(t, sb, c))
	if err != nil {
		t.Fatalf("Exchange despite the panics: %v", err)
	}
	defer tok.Close()
	mu.Lock()
	defer mu.Unlock()
	if calls < 3 {
		t.Fatalf("the trace function was called %d times; every line should reach it", calls)
	}
}

func TestTraceEventNames(t *testing.T) {
	for e, want := range map[lfauth.TraceEvent]string{
		lfauth.TraceConnect: "connect", lfauth.TraceNoRetry: "no-retry", lfauth.TraceEvent(99): "event(99)",
	} {
		if got := e.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(e), got, want)
		}
	}
}
