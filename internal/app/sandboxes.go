package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/store"
)

// sandboxStoreSeedProducts is how many sample products a new sandbox store starts with.
const sandboxStoreSeedProducts = 25

// sandboxStoreMaxBytes bounds what one sandbox store keeps: the bodies of the writes it took
// (a write after that is refused with 422 sandbox_full), as the Sandbox POS bounds its saved state.
const sandboxStoreMaxBytes = 32 << 20

// sandboxStores are the sandbox stores of the real providers that have a simulator
// (WooCommerce, Square, Shopify, Lightspeed), so a merchant can try them without an account
// ("sandbox": true when adding an integration). Each account has its own store of each
// provider, served under /sandbox/<type>/<account id>/ with its own data and credentials
// (derived from the server's key, so every process of this posbridge reaches it with the same
// ones and no other account knows them): another account's credentials are refused (401) and
// its store's objects are not found. An account has at most one store per provider, each
// bounded by sandboxStoreMaxBytes of writes. A store lives in this process's memory, made on
// its first use; posbridge's own Sandbox POS is the one that persists.
type sandboxStores struct {
	st        *store.Store
	providers map[string]connector.Provider
	key       []byte       // derives each store's credentials
	hooks     *http.Client // the stores' webhooks go to this server's /hooks/ only
	maxBytes  int64

	mu     sync.Mutex
	stores map[string]*sandboxStore // by type + "/" + account id
}

var _ integrationconn.SandboxStores = (*sandboxStores)(nil)

// errNoSandboxStore: no such provider, or no such account.
var errNoSandboxStore = errors.New("no such sandbox store")

// sandboxStore is one account's store of one provider.
type sandboxStore struct {
	sim     connector.Simulator
	handler http.Handler

	mu      sync.Mutex
	written int64 // bytes of writes taken
}

// newSandboxStores serves the sandbox stores of the providers that have a simulator on mux
// (when not nil). key is the server's secret key.
func (a *App) newSandboxStores(st *store.Store, providers []connector.Provider, key []byte, mux *http.ServeMux) *sandboxStores {
	s := &sandboxStores{st: st, providers: map[string]connector.Provider{}, maxBytes: sandboxStoreMaxBytes,
		stores: map[string]*sandboxStore{},
		hooks: &http.Client{Timeout: 10 * time.Second, Transport: ownHooksOnly{app: a, next: http.DefaultTransport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	s.key = []byte(connector.TenantCredential(key, "posbridge sandbox stores", 64))
	for _, p := range providers {
		if p.SelfHosted || p.NewTenantSimulator == nil {
			continue
		}
		s.providers[p.Type] = p
		if mux != nil {
			mux.Handle("/sandbox/"+p.Type+"/", s.serve(p.Type))
		}
	}
	return s
}

// Serves implements integrationconn.SandboxStores.
func (s *sandboxStores) Serves(typ string) bool {
	_, ok := s.providers[typ]
	return ok
}

// Store implements integrationconn.SandboxStores.
func (s *sandboxStores) Store(ctx context.Context, accountID, typ string) (connector.Simulator, string, error) {
	t, err := s.store(ctx, accountID, typ)
	if errors.Is(err, errNoSandboxStore) {
		return nil, "", domain.NotFound("sandbox store")
	}
	if err != nil {
		return nil, "", err
	}
	return t.sim, "/sandbox/" + typ + "/" + accountID, nil
}

// store is the account's store of the type, made on its first use (for an account that exists).
func (s *sandboxStores) store(ctx context.Context, accountID, typ string) (*sandboxStore, error) {
	p, ok := s.providers[typ]
	if !ok {
		return nil, errNoSandboxStore
	}
	k := typ + "/" + accountID
	s.mu.Lock()
	t := s.stores[k]
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	if accountID == "" || len(accountID) > 100 || strings.ContainsAny(accountID, "/?#%") {
		return nil, errNoSandboxStore
	}
	if _, err := s.st.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
		return nil, errNoSandboxStore
	} else if err != nil {
		return nil, fmt.Errorf("read account of sandbox store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.stores[k]; t != nil {
		return t, nil
	}
	sim := p.NewTenantSimulator(sandboxStoreSeedProducts, []byte(connector.TenantCredential(s.key, k, 64)))
	if d, ok := sim.(connector.DeliveryClientSetter); ok {
		d.SetDeliveryClient(s.hooks)
	}
	t = &sandboxStore{sim: sim, handler: mountSimulator("/sandbox/"+k, sim)}
	s.stores[k] = t
	return t, nil
}

// serve answers /sandbox/<typ>/<account id>/...: the account's store, or 404.
func (s *sandboxStores) serve(typ string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/sandbox/"+typ+"/")
		acct, _, _ := strings.Cut(rest, "/")
		t, err := s.store(r.Context(), acct, typ)
		if err != nil {
			code := http.StatusNotFound
			if !errors.Is(err, errNoSandboxStore) {
				code = http.StatusInternalServerError
			}
			sandboxStoreError(w, code, "not_found", "There is no sandbox store here: its address names the account it belongs to.")
			return
		}
		t.serveHTTP(w, r, s.maxBytes)
	})
}

// serveHTTP serves a request to the store, counting the body of each write it takes; once the
// store took maxBytes, writes are refused (422 sandbox_full) and reads still answer.
func (t *sandboxStore) serveHTTP(w http.ResponseWriter, r *http.Request, maxBytes int64) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		t.handler.ServeHTTP(w, r)
		return
	}
	t.mu.Lock()
	full := t.written >= maxBytes
	t.mu.Unlock()
	if full {
		sandboxStoreError(w, http.StatusUnprocessableEntity, "sandbox_full",
			fmt.Sprintf("This sandbox store is full: it keeps at most %d MiB of changes. Its data stays readable.", maxBytes>>20))
		return
	}
	body := &countingReader{r: r.Body}
	r.Body = body
	sw := &statusWriter{ResponseWriter: w}
	t.handler.ServeHTTP(sw, r)
	if sw.status == 0 || sw.status/100 == 2 {
		t.mu.Lock()
		t.written += body.n + 1 // a write without a body takes room too
		t.mu.Unlock()
	}
}

// close stops every store's webhook deliveries.
func (s *sandboxStores) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.stores {
		if c, ok := t.sim.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

func sandboxStoreError(w http.ResponseWriter, code int, errCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`+"\n", errCode, msg)
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// mountSimulator serves a simulator (written for the root of its own host) below prefix: the
// prefix is stripped from requests and added back to the absolute URLs of Link headers.
func mountSimulator(prefix string, sim http.Handler) http.Handler {
	inner := http.StripPrefix(prefix, sim)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(&linkFixer{ResponseWriter: w, host: r.Host, prefix: prefix}, r)
	})
}

type linkFixer struct {
	http.ResponseWriter
	host, prefix string
	done         bool
}

func (l *linkFixer) fix() {
	if l.done {
		return
	}
	l.done = true
	h := l.Header()
	if v := h.Get("Link"); v != "" {
		v = strings.ReplaceAll(v, "://"+l.host+"/", "://"+l.host+l.prefix+"/")
		h.Set("Link", v)
	}
}

func (l *linkFixer) WriteHeader(code int) { l.fix(); l.ResponseWriter.WriteHeader(code) }

func (l *linkFixer) Write(b []byte) (int, error) { l.fix(); return l.ResponseWriter.Write(b) }

func (l *linkFixer) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ownHooksOnly lets sandbox simulators deliver webhooks to this server's /hooks/ only.
type ownHooksOnly struct {
	app  *App
	next http.RoundTripper
}

func (o ownHooksOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := o.app.ownHookURL(r.URL); err != nil {
		return nil, fmt.Errorf("sandbox webhook to %s refused: %w", r.URL.Host, err)
	}
	return o.next.RoundTrip(r)
}
