package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// Options configure a sandbox Server. The zero value works.
type Options struct {
	// Persister keeps each tenant's state; default an in-memory one.
	Persister Persister
	// Tenants knows which api keys are tenants and which account each belongs to; default a
	// MemoryTenants (Info mints the key it reports).
	Tenants TenantAuthority
	// Now is the clock; default time.Now.
	Now func() time.Time
	// HangMax is how long a "timeout" fault holds a request when the client never gives up;
	// default 60 s. The request is let go as soon as the client goes away.
	HangMax time.Duration
	// HTTPClient delivers webhooks; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger logs server-side faults and deliveries; default slog.Default().
	Logger *slog.Logger
	// WebhookSecret signs deliveries to webhooks subscribed without a secret; default
	// "whsec_sandbox_demo". Info reports it.
	WebhookSecret string
	// WebhookAttempts is how many times a delivery is tried; default 10 (about five minutes with
	// the default backoff: a real POS keeps retrying for hours, so a receiver that is slow for a
	// while, a busy or restarting posbridge, loses no event).
	WebhookAttempts int
	// WebhookBackoff is the wait after the first failed attempt, doubled after each up to a
	// minute; default 1 s.
	WebhookBackoff time.Duration
	// AllowWebhookURL, when set, vets each URL a webhook is subscribed to (posbridge should allow
	// only its own inbound webhook URLs, since anyone may use the sandbox). An error refuses it.
	AllowWebhookURL func(u *url.URL) error
	// MaxObjects caps each collection of a tenant (products, customers, orders, sales); default
	// 10000.
	MaxObjects int
	// MaxStateBytes caps the size of a tenant's saved state; default 32 MiB.
	MaxStateBytes int
	// IdleAfter is how long a tenant unused stays in memory; default 10 minutes. Its state stays
	// saved and is loaded again on its next use.
	IdleAfter time.Duration
	// SampleProducts is how many products a new tenant starts with; 0 means the 24-product
	// catalogue of a bike workshop and bar.
	SampleProducts int
	// SalesPerDay, when above 0, makes every tenant a till in use: about this many sales a day
	// (some refunded later), back-filled over the 30 days before the tenant was made and
	// continued as time passes, read when sales are listed (serve --demo: 12).
	SalesPerDay int
}

// DefaultWebhookSecret signs deliveries to webhooks subscribed without their own secret.
const DefaultWebhookSecret = "whsec_sandbox_demo"

// maxBody caps request bodies.
const maxBody = 1 << 20

// Server is the Sandbox POS: an http.Handler for full request paths beginning with /sandbox/
// (mount it with mux.Handle("/sandbox/", srv)). It also serves as a connector.Simulator.
// It is safe for concurrent use. Close it to end held requests and webhook deliveries.
type Server struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	mu      sync.Mutex
	tenants map[string]*tenant
	swept   time.Time         // when idle tenants were last looked for
	tags    map[string]string // order id tag -> api key, for the order page
	faults  map[string]*fault
	infoKey string // the key Info reports, minted on its first call

	closed    bool // under mu: no new deliveries
	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

var _ connector.Simulator = (*Server)(nil)

// tenant is one api key's sandbox.
type tenant struct {
	key     string
	account string // the account the key was minted for (set by load)
	once    sync.Once
	err     error

	// Under Server.mu: requests (and compactions) using the tenant, and when it was last let go.
	refs     int
	lastUsed time.Time

	mu         sync.Mutex
	st         *state
	logSeq     int64      // the last change appended to the log
	snapBytes  int        // size of the last snapshot
	logBytes   int        // size of the log entries after it
	compacting bool       // a compaction is under way
	broken     bool       // a change was not saved: this copy is dropped and the tenant loaded again
	deliveries []Delivery // in memory only
}

// maxDeliveries caps the delivery log kept per tenant.
const maxDeliveries = 500

// fault is an injected failure for the next calls of one api key.
type fault struct {
	remaining int
	status    int // 0 = timeout
}

// NewServer returns a sandbox server.
func NewServer(opts Options) *Server {
	if opts.Persister == nil {
		opts.Persister = NewMemoryPersister()
	}
	if opts.Tenants == nil {
		opts.Tenants = NewMemoryTenants()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HangMax <= 0 {
		opts.HangMax = 60 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = DefaultWebhookSecret
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = 10000
	}
	if opts.MaxStateBytes <= 0 {
		opts.MaxStateBytes = 32 << 20
	}
	if opts.IdleAfter <= 0 {
		opts.IdleAfter = 10 * time.Minute
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 10
	}
	if opts.WebhookBackoff <= 0 {
		opts.WebhookBackoff = time.Second
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger.With("component", "sandbox"),
		tenants: map[string]*tenant{},
		tags:    map[string]string{},
		faults:  map[string]*fault{},
		closing: make(chan struct{}),
	}
	s.routes()
	s.wg.Add(1)
	go s.sweeper()
	return s
}

// sweeper looks for idle tenants every minute, so they leave memory also when no request comes
// (requests look too). It stops when the server is closed.
func (s *Server) sweeper() {
	defer s.wg.Done()
	tick := time.NewTicker(min(time.Minute, s.opts.IdleAfter))
	defer tick.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-tick.C:
			s.mu.Lock()
			s.sweepIdle()
			s.mu.Unlock()
		}
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Info implements connector.Simulator: the sandbox served at rootURL, reached with a key minted
// on the first call (for the account "simulator") and reported again by later calls.
// BaseURL is rootURL itself, since the connector adds /sandbox/api/v1 to posbridge's own URL.
func (s *Server) Info(rootURL string) connector.SimInfo {
	s.mu.Lock()
	key := s.infoKey
	s.mu.Unlock()
	if key == "" {
		k, err := s.opts.Tenants.Mint(context.Background(), "simulator")
		if err != nil {
			s.log.Error("mint the simulator's sandbox key", "err", err)
		}
		s.mu.Lock()
		if s.infoKey == "" {
			s.infoKey = k
		}
		key = s.infoKey
		s.mu.Unlock()
	}
	return connector.SimInfo{
		Provider:      Provider.Type,
		BaseURL:       strings.TrimRight(rootURL, "/"),
		Credentials:   map[string]string{"api_key": key},
		WebhookSecret: s.opts.WebhookSecret,
	}
}

// Close lets go of held ("timeout") requests, stops webhook retries and waits for deliveries
// under way to end. The server keeps answering other requests.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.closing)
	})
	s.wg.Wait()
}

func (s *Server) routes() {
	m := http.NewServeMux()
	api := func(pattern string, h func(http.ResponseWriter, *http.Request, *tenant)) {
		method, path, _ := strings.Cut(pattern, " ")
		m.HandleFunc(method+" /sandbox/api/v1/"+path, s.api(h))
	}
	api("GET account", s.getAccount)
	api("GET stores", s.getStores)
	api("GET products", productsAPI.list)
	api("POST products", productsAPI.create(s))
	api("POST products/batch", s.batchProducts)
	api("GET products/{id}", productsAPI.get)
	api("PUT products/{id}", productsAPI.put(s))
	api("GET stock", stockAPI.list)
	api("PUT stock", s.putStock)
	api("GET customers", customersAPI.list)
	api("POST customers", customersAPI.create(s))
	api("GET customers/{id}", customersAPI.get)
	api("PUT customers/{id}", customersAPI.put(s))
	api("GET orders", s.listOrders)
	api("POST orders", s.createOrder)
	api("GET orders/{id}", ordersAPI.get)
	api("PUT orders/{id}", s.putOrder)
	api("POST orders/{id}/void", s.orderAction("void"))
	api("POST orders/{id}/archive", s.orderAction("archive"))
	api("DELETE orders/{id}", s.orderAction("delete"))
	api("GET sales", s.listSales)
	api("GET webhooks", s.listWebhooks)
	api("POST webhooks", s.createWebhook)
	api("DELETE webhooks/{id}", s.deleteWebhook)
	m.HandleFunc("/sandbox/api/v1/", s.api(func(w http.ResponseWriter, r *http.Request, _ *tenant) {
		writeErr(w, errf(http.StatusNotFound, "not_found", "", "no route %s %s", r.Method, r.URL.Path))
	}))

	m.HandleFunc("POST /sandbox/admin/tenants", s.postTenants)
	m.HandleFunc("DELETE /sandbox/admin/tenants", s.deleteTenant)
	m.HandleFunc("POST /sandbox/admin/faults", s.postFaults)
	m.HandleFunc("GET /sandbox/admin/faults", s.getFaults)
	m.HandleFunc("DELETE /sandbox/admin/faults", s.deleteFaults)
	m.HandleFunc("GET /sandbox/admin/orders", s.adminOrders)
	m.HandleFunc("POST /sandbox/admin/orders/{id}/complete", s.adminComplete)
	m.HandleFunc("POST /sandbox/admin/sales", s.adminSale)
	m.HandleFunc("POST /sandbox/admin/sales/{id}/refund", s.adminRefund)
	m.HandleFunc("GET /sandbox/admin/deliveries", s.adminDeliveries)
	m.HandleFunc("POST /sandbox/admin/products/{id}/save", s.adminSaveProduct)
	m.HandleFunc("POST /sandbox/admin/products/import", s.adminImportProducts)
	m.HandleFunc("POST /sandbox/admin/stock-counts", s.adminStock("count"))
	m.HandleFunc("POST /sandbox/admin/stock-orders", s.adminStock("order"))
	m.HandleFunc("POST /sandbox/admin/transfers", s.adminStock("transfer"))
	m.HandleFunc("POST /sandbox/admin/adjustments", s.adminStock("adjustment"))
	m.HandleFunc("GET /sandbox/orders/{id}", s.orderPage)
	m.HandleFunc("/sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, errf(http.StatusNotFound, "not_found", "", "no route %s %s", r.Method, r.URL.Path))
	})
	s.mux = m
}

// api wraps a connector API handler: injected faults first, then the api key, then the tenant.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, *tenant)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := bearer(r)
		if f, ok := s.takeFault(key); ok {
			s.serveFault(w, r, f)
			return
		}
		t, e := s.tenantOrErr(r.Context(), key)
		if e != nil {
			writeErr(w, e)
			return
		}
		defer s.release(t)
		h(w, r, t)
	}
}

func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

func errUnauthorized() *apiError {
	return errf(http.StatusUnauthorized, "unauthorized", "", "Invalid API key")
}

// errUnknownKey refuses a key that is not a tenant's, saying where keys come from.
func errUnknownKey() *apiError {
	return errf(http.StatusUnauthorized, "unauthorized", "",
		"Invalid API key: this sandbox does not exist. Sandbox keys are created by posbridge: leave the API key empty to get a new sandbox")
}

// tenantOrErr is tenantFor with its failure as an answer: 401 for a key that is not a tenant's.
func (s *Server) tenantOrErr(ctx context.Context, key string) (*tenant, *apiError) {
	t, err := s.tenantFor(ctx, key)
	switch {
	case errors.Is(err, ErrUnknownTenant):
		return nil, errUnknownKey()
	case err != nil:
		s.log.Error("load sandbox tenant", "err", err)
		return nil, errf(http.StatusInternalServerError, "internal_error", "", "could not load the sandbox")
	}
	return t, nil
}

// tenantFor returns the key's tenant, loading it (or creating it with sample data) on first use.
// A key the TenantAuthority does not know is ErrUnknownTenant, and nothing is created for it.
// The caller holds the tenant until it calls release.
func (s *Server) tenantFor(ctx context.Context, key string) (*tenant, error) {
	if !WellFormedKey(key) {
		return nil, ErrUnknownTenant
	}
	s.mu.Lock()
	s.sweepIdle()
	t := s.tenants[key]
	if t == nil {
		t = &tenant{key: key}
		s.tenants[key] = t
	}
	t.refs++
	s.mu.Unlock()
	t.once.Do(func() { t.err = s.load(ctx, t) })
	if t.err != nil {
		s.mu.Lock()
		t.refs--
		if s.tenants[key] == t {
			delete(s.tenants, key) // try again next time
		}
		s.mu.Unlock()
		return nil, t.err
	}
	return t, nil
}

// release lets go of a tenant got from tenantFor.
func (s *Server) release(t *tenant) {
	s.mu.Lock()
	t.refs--
	t.lastUsed = s.opts.Now()
	s.mu.Unlock()
}

// sweepIdle drops from memory the tenants nobody used for IdleAfter (their state is saved), at
// most once a minute. Call it under s.mu.
func (s *Server) sweepIdle() {
	now := s.opts.Now()
	if now.Sub(s.swept) < min(time.Minute, s.opts.IdleAfter) {
		return
	}
	s.swept = now
	for k, t := range s.tenants {
		if t.refs == 0 && now.Sub(t.lastUsed) >= s.opts.IdleAfter {
			delete(s.tenants, k)
		}
	}
}

// Tenants tells how many tenants are in memory.
func (s *Server) Tenants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tenants)
}

// load reads the tenant's snapshot and replays its log, or creates it with sample data and saves
// that before anyone sees it.
func (s *Server) load(ctx context.Context, t *tenant) error {
	account, err := s.opts.Tenants.TenantAccount(ctx, t.key)
	if err != nil {
		return err
	}
	t.account = account
	saved, err := s.opts.Persister.Load(ctx, t.key)
	if err != nil {
		return fmt.Errorf("load sandbox state: %w", err)
	}
	var st *state
	if saved.Found {
		st = &state{}
		if err := json.Unmarshal(saved.State, st); err != nil {
			return fmt.Errorf("decode sandbox state: %w", err)
		}
		st.fixMaps()
		t.logSeq, t.snapBytes = saved.Seq, len(saved.State)
		for _, e := range saved.Log {
			if e.Seq <= t.logSeq {
				continue
			}
			if err := st.apply(e.Entry); err != nil {
				return err
			}
			t.logSeq = e.Seq
			t.logBytes += len(e.Entry)
		}
	} else {
		st = sampleState(t.key, s.now(), s.opts.SampleProducts)
		b, err := st.encode(0)
		if err != nil {
			return fmt.Errorf("encode sandbox state: %w", err)
		}
		if err := s.opts.Persister.Compact(t.key, 0, b)(); err != nil {
			return fmt.Errorf("save new sandbox state: %w", err)
		}
		t.snapBytes = len(b)
	}
	st.maxObjects, st.maxBytes = s.opts.MaxObjects, s.opts.MaxStateBytes
	st.size = t.snapBytes + t.logBytes
	t.st = st
	s.mu.Lock()
	s.tags[st.Tag] = t.key
	s.mu.Unlock()
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// view runs fn on the tenant's state under its lock, for reading.
func (t *tenant) view(fn func(st *state)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fn(t.st)
}

// compactMin is the least log a tenant gathers before it is compacted into a snapshot.
const compactMin = 256 << 10

// update runs fn on the tenant's state under its lock. fn reports whether it changed the state;
// it must not change it when it returns an error, and it marks every record it sets or deletes.
// The changes go to the tenant's log as one entry, and update returns once that entry is
// durable: an answered change survives a crash. Concurrent updates of one tenant are applied
// one after the other but wait for the disk together (the persister commits them in one go).
// When the log has grown as big as the snapshot, a compaction writes a new snapshot in the
// background, so a change costs the same however many orders the tenant holds.
func (s *Server) update(ctx context.Context, t *tenant, fn func(st *state) (changed bool, err *apiError)) *apiError {
	t.mu.Lock()
	if t.broken {
		t.mu.Unlock()
		return errReloading()
	}
	t.st.changes = t.st.changes[:0]
	changed, aerr := fn(t.st)
	if aerr != nil || !changed {
		t.st.changes = t.st.changes[:0]
		t.mu.Unlock()
		return aerr
	}
	entry, err := t.st.logEntry()
	if err != nil {
		t.broken = true
		t.mu.Unlock()
		s.drop(t)
		s.log.Error("encode sandbox change", "err", err)
		return errf(http.StatusInternalServerError, "internal_error", "", "could not save the sandbox state")
	}
	t.logSeq++
	wait := s.opts.Persister.Append(t.key, t.logSeq, entry)
	t.logBytes += len(entry)
	t.st.size += len(entry)
	compact := !t.compacting && t.logBytes >= max(compactMin, t.snapBytes)
	if compact {
		t.compacting = true
		s.mu.Lock()
		t.refs++
		s.mu.Unlock()
	}
	t.mu.Unlock()
	if compact {
		go s.compact(t)
	}
	if err := wait(); err != nil {
		s.log.Error("save sandbox change", "err", err)
		t.mu.Lock()
		t.broken = true
		t.mu.Unlock()
		s.drop(t)
		return errf(http.StatusInternalServerError, "internal_error", "", "could not save the sandbox state")
	}
	return nil
}

func errReloading() *apiError {
	return errf(http.StatusServiceUnavailable, "unavailable", "", "the sandbox is reloading its data; try again")
}

// evict forgets a deleted tenant: out of memory, its faults gone, and a copy still held by a
// request answers its changes with an error (nothing more of it is saved).
func (s *Server) evict(key string) {
	s.mu.Lock()
	t := s.tenants[key]
	delete(s.tenants, key)
	delete(s.faults, key)
	if s.tags[keyTag(key)] == key {
		delete(s.tags, keyTag(key))
	}
	if s.infoKey == key {
		s.infoKey = ""
	}
	s.mu.Unlock()
	if t != nil {
		t.mu.Lock()
		t.broken = true
		t.mu.Unlock()
	}
}

// drop forgets a broken tenant: its next use loads it again from what was saved.
func (s *Server) drop(t *tenant) {
	s.mu.Lock()
	if s.tenants[t.key] == t {
		delete(s.tenants, t.key)
	}
	s.mu.Unlock()
}

// compact writes the tenant's whole state as its new snapshot, which lets the persister drop
// the log up to it. The caller took a reference for it.
func (s *Server) compact(t *tenant) {
	defer s.release(t)
	t.mu.Lock()
	if t.broken {
		t.compacting = false
		t.mu.Unlock()
		return
	}
	b, err := t.st.encode(t.snapBytes)
	seq, logBytes := t.logSeq, t.logBytes
	t.mu.Unlock()
	if err == nil {
		err = s.opts.Persister.Compact(t.key, seq, b)()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.compacting = false
	if err != nil {
		s.log.Error("compact sandbox state", "err", err)
		return
	}
	t.snapBytes = len(b)
	t.logBytes -= logBytes
	t.st.size = t.snapBytes + t.logBytes
}

// takeFault consumes one injected fault of the key, if any.
func (s *Server) takeFault(key string) (fault, bool) {
	if key == "" {
		return fault{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults[key]
	if f == nil || f.remaining <= 0 {
		return fault{}, false
	}
	f.remaining--
	out := *f
	if f.remaining == 0 {
		delete(s.faults, key)
	}
	return out, true
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f fault) {
	switch f.status {
	case 0:
		t := time.NewTimer(s.opts.HangMax)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-s.closing:
			writeErr(w, errf(http.StatusServiceUnavailable, "unavailable", "", "the sandbox is shutting down"))
		case <-t.C:
			writeErr(w, errf(http.StatusGatewayTimeout, "timeout", "", "injected fault: the request timed out"))
		}
	case http.StatusUnauthorized:
		writeErr(w, errUnauthorized())
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		writeErr(w, errf(http.StatusTooManyRequests, "rate_limited", "", "Too many requests; retry after 1 second"))
	default:
		writeErr(w, errf(f.status, "injected_fault", "", "injected fault: %s", http.StatusText(f.status)))
	}
}

// apiError is an error answer of the sandbox.
type apiError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func errf(status int, code, field, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, field: field, message: fmt.Sprintf(format, args...)}
}

// full refuses a new object when a tenant's collection holds maxObjects already, or its saved
// state has reached maxBytes. The error names the limit.
func (st *state) full(what string, n int) *apiError {
	if n >= st.maxObjects {
		return errf(http.StatusUnprocessableEntity, "sandbox_full", "",
			"this sandbox holds %d %s, the most it keeps (limit: %d %s per sandbox)", n, what, st.maxObjects, what)
	}
	if st.maxBytes > 0 && st.size >= st.maxBytes {
		return errf(http.StatusUnprocessableEntity, "sandbox_full", "",
			"this sandbox holds %s of data, the most it keeps (limit: %s per sandbox); start a new sandbox or use this one without adding %s",
			sizeText(st.size), sizeText(st.maxBytes), what)
	}
	return nil
}

// sizeText writes a size in MiB, or KiB below one MiB.
func sizeText(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func invalid(field, format string, args ...any) *apiError {
	return errf(http.StatusUnprocessableEntity, "invalid", field, format, args...)
}

func notFound(what, id string) *apiError {
	return errf(http.StatusNotFound, "not_found", "", "%s %s not found", what, id)
}

func (e *apiError) wire() *wireError {
	return &wireError{Code: e.code, Message: e.message, Field: e.field}
}

func writeErr(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, wireErrorBody{Error: *e.wire()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal_error","message":"could not encode the answer"}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errf(http.StatusRequestEntityTooLarge, "too_large", "", "request body is larger than %d bytes", maxBody)
		}
		return nil, errf(http.StatusBadRequest, "bad_request", "", "read request body: %v", err)
	}
	return b, nil
}

// decode parses a JSON body into v strictly (internal/jsonin): 400 for malformed JSON, 422
// naming the field of a wrong type, an unknown, duplicate or case-variant key, or a null.
func decode(b []byte, v any) *apiError {
	err := jsonin.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeInvalid {
		return invalid(de.Field, "%s", de.Message)
	}
	if errors.As(err, &de) {
		return errf(http.StatusBadRequest, "bad_request", "", "invalid JSON: %s", de.Message)
	}
	return errf(http.StatusBadRequest, "bad_request", "", "invalid JSON: %v", err)
}

// readJSON reads and decodes a JSON body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	b, e := readBody(w, r)
	if e != nil {
		return e
	}
	return decode(b, v)
}
