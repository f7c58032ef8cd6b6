package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// env is a sandbox Server mounted at /sandbox/ on an httptest server, as posbridge mounts it.
type env struct {
	srv      *Server
	tenants  *MemoryTenants
	keysMu   sync.Mutex
	keys     map[string]string // test name of a key -> the key minted for it
	hs       *httptest.Server
	apiCalls atomic.Int64 // requests under /sandbox/api/v1/
	inFlight atomic.Int64 // requests being handled
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	if opts.WebhookBackoff == 0 {
		opts.WebhookBackoff = 10 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	if opts.Tenants == nil {
		opts.Tenants = NewMemoryTenants()
	}
	e := &env{srv: NewServer(opts), keys: map[string]string{}}
	e.tenants, _ = opts.Tenants.(*MemoryTenants)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/sandbox/api/v1/") {
			e.apiCalls.Add(1)
		}
		e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		e.srv.ServeHTTP(w, r)
	}))
	e.hs = httptest.NewServer(mux)
	t.Cleanup(e.hs.Close)
	t.Cleanup(e.srv.Close) // runs first: lets go of held requests
	return e
}

// key returns the api key minted for name in this env (minting it on first use), so a test
// can name its sandboxes.
func (e *env) key(name string) string {
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	if k, ok := e.keys[name]; ok {
		return k
	}
	k, err := e.srv.opts.Tenants.Mint(context.Background(), "acct_test")
	if err != nil {
		panic(err)
	}
	e.keys[name] = k
	return k
}

// conn opens a connector with the key; the client's timeout is generous (a busy machine under
// -race answers slowly), a test of timeouts passes its own.
func (e *env) conn(t testing.TB, key string, timeout time.Duration) *Conn {
	t.Helper()
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	c, err := Open(connector.Config{
		Credentials: map[string]string{"api_key": key},
		HTTP:        &http.Client{Timeout: timeout},
		SelfURL:     e.hs.URL,
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return c.(*Conn)
}

// do sends a raw request and returns status, headers and body.
func (e *env) do(t testing.TB, method, path string, header http.Header, body any) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, e.hs.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// admin sends an admin request and decodes a 2xx answer into out.
func (e *env) admin(t testing.TB, method, path string, body any, out any) {
	t.Helper()
	st, _, b := e.do(t, method, path, nil, body)
	if st < 200 || st > 299 {
		t.Fatalf("%s %s: HTTP %d %s", method, path, st, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

func bearerHeader(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantKind fails unless err is a *connector.Error of the kind.
func wantKind(t testing.TB, err error, k connector.Kind) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if err == nil {
		t.Fatalf("want a %s error, got none", k)
	}
	if !errors.As(err, &ce) || ce.Kind != k {
		t.Fatalf("want a %s error, got %v (kind %s)", k, err, connector.KindOf(err))
	}
	return ce
}

// waitFor polls cond until it holds or the deadline passes: d, but at least two minutes (on a
// busy machine what takes milliseconds alone can take seconds; a wait ends when cond holds).
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	d = max(d, 2*time.Minute)
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
