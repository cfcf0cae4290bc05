// Package sandboxtest starts lf-sandbox (the local stand-in for the
// Lightfunnels OAuth and API endpoints, see docs/SANDBOX.md) for tests.
//
// The binary is $LF_SANDBOX (ctest always sets it), else lf-sandbox on PATH.
// When neither exists the test is skipped with a message saying so.
package sandboxtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ReadyTimeout bounds the wait for the sandbox's ready line (generous: the
// CI machine is small and shared).
const ReadyTimeout = 30 * time.Second

// Client is a client registered with the sandbox.
type Client struct {
	ID          string
	Secret      string
	RedirectURI string
}

// Options configures a sandbox.
type Options struct {
	Clients   []Client
	AccountID string // "" : the sandbox default "acct_sandbox"
	CodeTTL   time.Duration
}

// Sandbox is a running lf-sandbox serving HTTPS on 127.0.0.1.
type Sandbox struct {
	URL    string       // e.g. https://127.0.0.1:41234
	CAFile string       // the CA the library must trust
	HTTP   *http.Client // trusts CAFile, never follows redirects, no keep-alive

	cmd    *exec.Cmd
	exited chan struct{}
	stderr *syncBuffer
}

// Path returns the lf-sandbox binary to use, or skips the test.
func Path(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LF_SANDBOX"); p != "" {
		return p
	}
	p, err := exec.LookPath("lf-sandbox")
	if err != nil {
		t.Skip("integration test skipped: LF_SANDBOX is unset and lf-sandbox is not on PATH " +
			"(ctest sets LF_SANDBOX; or run: LF_SANDBOX=/path/to/build/tools/lf-sandbox/lf-sandbox go test ./...)")
	}
	return p
}

// Start runs lf-sandbox with --auto-approve over HTTPS (a throwaway CA in a
// temporary directory) and stops it when the test ends.
func Start(t testing.TB, o Options) *Sandbox {
	t.Helper()
	bin := Path(t)
	dir := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--tls-self-signed", dir, "--auto-approve"}
	for _, c := range o.Clients {
		args = append(args, "--client", c.ID+":"+c.Secret+":"+c.RedirectURI)
	}
	if o.AccountID != "" {
		args = append(args, "--account-id", o.AccountID)
	}
	if o.CodeTTL > 0 {
		args = append(args, "--code-ttl", fmt.Sprint(int(o.CodeTTL/time.Second)))
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{exited: make(chan struct{}), stderr: &syncBuffer{}}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout = pw
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	pw.Close()
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })

	ready := make(chan string, 1)
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "LF_SANDBOX_URL=") {
				ready <- strings.TrimPrefix(line, "LF_SANDBOX_URL=")
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	timer := time.NewTimer(ReadyTimeout)
	defer timer.Stop()
	select {
	case s.URL = <-ready:
	case <-s.exited:
		t.Fatalf("lf-sandbox exited before it was ready (%v); stderr:\n%s", s.cmd.ProcessState, s.stderr)
	case <-timer.C:
		t.Fatalf("lf-sandbox printed no LF_SANDBOX_URL line within %v; stderr:\n%s", ReadyTimeout, s.stderr)
	}
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") {
		t.Fatalf("unexpected sandbox URL %q", s.URL)
	}

	s.CAFile = filepath.Join(dir, "ca.pem")
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatalf("read sandbox CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", s.CAFile)
	}
	s.HTTP = &http.Client{
		// No keep-alive: an idle connection would hold one of the sandbox's
		// few worker threads and starve the library's connections.
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: 30 * time.Second,
	}
	return s
}

func (s *Sandbox) stop(t testing.TB) {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("lf-sandbox did not stop within 10 s of SIGTERM")
		}
	}
	if s.HTTP != nil {
		s.HTTP.CloseIdleConnections()
	}
	if t.Failed() {
		t.Logf("lf-sandbox stderr:\n%s", s.stderr)
	}
}

// Endpoint returns the sandbox URL with path appended.
func (s *Sandbox) Endpoint(path string) string { return s.URL + path }

// Authorize plays the merchant's browser: it GETs the consent URL (the
// sandbox auto-approves) and returns the redirect's Location.
func (s *Sandbox) Authorize(t testing.TB, consentURL string) string {
	t.Helper()
	resp, err := s.HTTP.Get(consentURL)
	if err != nil {
		t.Fatalf("GET consent URL: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("consent: HTTP %d, want 302; body: %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		t.Fatal("consent: 302 without Location")
	}
	return loc
}

// Code runs Authorize and returns the code from the redirect (state unchecked).
func (s *Sandbox) Code(t testing.TB, consentURL string) string {
	t.Helper()
	u, err := url.Parse(s.Authorize(t, consentURL))
	if err != nil {
		t.Fatal(err)
	}
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect without code: %s", u.Redacted())
	}
	return code
}

// Revoke revokes a token (the sandbox's own control: API calls with it get
// 401). An uninstall, with its app/uninstalled webhook, is /_sandbox/uninstall.
func (s *Sandbox) Revoke(t testing.TB, token string) {
	t.Helper()
	var out struct {
		Revoked bool `json:"revoked"`
	}
	status := s.postJSON(t, "/_sandbox/revoke", map[string]string{"access_token": token}, &out)
	if status != http.StatusOK || !out.Revoked {
		t.Fatalf("revoke: HTTP %d, revoked=%v", status, out.Revoked)
	}
}

// DeliverWebhook asks the sandbox to POST a signed sample webhook for
// clientID to target and returns the target's HTTP status.
func (s *Sandbox) DeliverWebhook(t testing.TB, clientID, target string) int {
	t.Helper()
	var out struct {
		Delivered bool `json:"delivered"`
		Status    int  `json:"status"`
	}
	status := s.postJSON(t, "/_sandbox/webhook", map[string]string{"client_id": clientID, "url": target}, &out)
	if status != http.StatusOK || !out.Delivered {
		t.Fatalf("webhook delivery: HTTP %d, delivered=%v", status, out.Delivered)
	}
	return out.Status
}

func (s *Sandbox) postJSON(t testing.TB, path string, in, out any) int {
	t.Helper()
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.HTTP.Post(s.URL+path, "application/json", bytes.NewReader(js))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("POST %s: bad JSON %q: %v", path, body, err)
		}
	}
	return resp.StatusCode
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 { // bounded: keep the first MiB of logs
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
