// Package app wires posbridge together: storage, secrets, the River queue and its workers, the
// services, and the HTTP surface (REST API, console, sandbox POS, inbound hooks, health and
// metrics). cmd/posbridge parses flags into a Config and calls it; tests build the same App.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/api"
	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/console"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/retention"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
)

// Version is set at build time (-ldflags "-X .../internal/app.Version=...").
var Version = "dev"

// Config is everything a posbridge process is told by flags and environment.
type Config struct {
	Addr        string // --addr, default :8080
	PublicURL   string // --public-url: how people and providers reach this server (links, webhooks)
	DataDir     string // --data-dir, default ./data
	DatabaseURL string // --database-url postgres://...
	MaxConns    int    // --database-max-conns: PostgreSQL connections of this process
	SecretKey   string // --secret-key; generated into the data dir when empty
	SMTP        notify.SMTPConfig
	// SalesSMTP is the SMTP server receiving email integrations' sales files (--smtp-listen,
	// --smtp-domain); off when Listen is empty.
	SalesSMTP  salesimport.SMTPConfig
	AdminEmail string // the first admin's email on an empty database
	Demo       bool   // --demo: connect a Sandbox POS on first start
	NoSandbox  bool   // --no-sandbox: no sandbox provider and no /sandbox/ routes
	NoWorkers  bool   // serve --no-workers: API and console only
	NoHTTP     bool   // worker: background work only
	// ServerURL is where a worker (NoHTTP) reaches the serving process, whose /sandbox/ and
	// /hooks/ routes it calls: the worker's --addr when given, else its --public-url. Empty: Addr.
	ServerURL     string
	AllowPrivate  bool          // --allow-private-provider-hosts
	CallOffAfter  int           // --call-off-after, default 5
	CheckInterval time.Duration // --check-interval, default 15m
	SweepInterval time.Duration // how often due checks are looked for, default 1m
	// ReconcileInterval is how often open POS orders are read back, for completions that no
	// webhook brought (default 5m).
	ReconcileInterval time.Duration
	MaxWorkers        int
	// CatalogWorkers (--catalog-workers) work the "catalog" queue: imports and pushes to web
	// shops, apart from the order sync's workers (default 4).
	CatalogWorkers int
	// CatalogPollInterval is how often each catalog source is read for changes no webhook
	// brought (default 5m).
	CatalogPollInterval time.Duration
	DocumentLease       time.Duration // how long a crashed worker holds a document (default 1m)
	RescueAfter         time.Duration // River: when a job of a crashed worker runs again (default 5m)
	SecureCookies       bool
	// TrustedProxies (--trusted-proxies) are the reverse proxies whose X-Forwarded-For names the
	// client, for the per-address login throttle; empty: the connection's peer is the client.
	TrustedProxies []netip.Prefix
	// Retention is how long history is kept (--retention-*; zero windows take the defaults:
	// webhook events and deliveries 30 days, timeline and sync history 365 days).
	Retention retention.Policy
	// RetentionInterval is how often prune_history runs (default 10m).
	RetentionInterval time.Duration
	// Clock, when set, is the clock of every service's timestamps and of retention (tests).
	Clock     func() time.Time
	Logger    *slog.Logger
	Stdout    io.Writer            // where first-start credentials are printed
	Providers []connector.Provider // default: registry.All()

	// PublishDelay (--publish-delay) is how long after Save and Publish the terminals get a
	// version by themselves (default 30 s).
	PublishDelay time.Duration

	// ProviderTimeout bounds one provider call (its answer; connecting is bounded to 5 s
	// apart); default 30 s.
	ProviderTimeout time.Duration
}

// App is one posbridge process.
type App struct {
	demoStop       context.CancelFunc // stops loading the demo's sample documents (Close)
	demoDone       chan struct{}
	cfg            Config
	Store          *store.Store
	Queue          *jobs.Queue
	Lifecycle      *lifecycle.Service
	Outbox         *outbox.Outbox
	Sync           *ordersync.Service
	Access         *access.Service
	BackOffice     *backoffice.Service
	Catalog        *catalogsync.Service
	Sales          *salesimport.Service
	Retention      *retention.Service
	Sandbox        *sandbox.Server
	sandboxState   *sandboxPersister
	sandboxTenants *sandboxTenants
	sandboxStores  *sandboxStores // the real providers' sandbox stores, per account; nil with NoSandbox
	Metrics        *prometheus.Registry
	handler        http.Handler
	salesSMTP      *salesimport.SMTPServer
	log            *slog.Logger
	listener       net.Listener
	server         *http.Server
}

// New opens the database, runs migrations and builds every part. Nothing runs until Start.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.ReconcileInterval == 0 {
		cfg.ReconcileInterval = 5 * time.Minute
	}
	if cfg.CheckInterval > 0 && cfg.CheckInterval < cfg.SweepInterval {
		cfg.SweepInterval = cfg.CheckInterval
	}
	a := &App{cfg: cfg, log: cfg.Logger, Metrics: prometheus.NewRegistry()}
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := jobs.OpenStore(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, MaxConns: int32(cfg.MaxConns)})
	if err != nil {
		return nil, err
	}
	a.Store = st
	key, created, err := secrets.LoadOrCreateKey(cfg.DataDir, cfg.SecretKey)
	if err != nil {
		st.Close()
		return nil, err
	}
	if created {
		a.log.Warn("generated a new secret key for stored credentials; keep it safe and back it up with the database", "file", filepath.Join(cfg.DataDir, secrets.KeyFileName))
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		st.Close()
		return nil, err
	}

	providers := cfg.Providers
	if providers == nil {
		providers = registry.All()
	}
	if cfg.NoSandbox {
		var kept []connector.Provider
		for _, p := range providers {
			if !p.SelfHosted {
				kept = append(kept, p)
			}
		}
		providers = kept
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("posbridge console csrf"))
	csrfKey := mac.Sum(nil)
	var tenants *sandboxTenants
	var prepare func(context.Context, *store.Tx, string, connector.Provider, map[string]string) (map[string]string, error)
	if !cfg.NoSandbox {
		tenants = &sandboxTenants{st: st, box: box, csrfKey: csrfKey, max: sandbox.DefaultMaxTenants, now: time.Now}
		prepare = tenants.prepareCredentials
	}
	a.sandboxTenants = tenants
	mux := http.NewServeMux()
	var sandboxes integrationconn.SandboxStores // nil unless served: an interface holding a nil pointer is not nil
	if !cfg.NoSandbox {
		a.sandboxStores = a.newSandboxStores(st, providers, key, mux)
		sandboxes = a.sandboxStores
	}
	a.Outbox = outbox.New(st, box, outbox.Config{SMTP: cfg.SMTP, Logger: cfg.Logger, AllowPrivate: cfg.AllowPrivate,
		HTTPClient: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: cfg.AllowPrivate, Timeout: 15 * time.Second})})
	a.Lifecycle = lifecycle.New(st, box, a.Outbox, lifecycle.Config{Providers: providers, CallOffAfter: cfg.CallOffAfter,
		CheckInterval: cfg.CheckInterval, SelfURL: a.selfURL(), HookBaseURL: cfg.PublicURL, Sandboxes: sandboxes, AllowPrivate: cfg.AllowPrivate, CheckTimeout: cfg.ProviderTimeout, Logger: cfg.Logger, Registerer: a.Metrics,
		PrepareCredentials: prepare})

	a.Sync = ordersync.New(st, a.Lifecycle.Opener(), a.Outbox, cfg.Logger)
	if cfg.DocumentLease > 0 {
		a.Sync.Lease = cfg.DocumentLease
	}
	a.Catalog = catalogsync.New(st, a.Lifecycle.Opener(), a.Outbox, cfg.Logger)
	a.Sync.Foreground = &jobs.Foreground{} // catalog work gives way to invoices and their pushes
	a.Catalog.Foreground = a.Sync.Foreground
	a.Sync.OtherEvents = a.Catalog.OnSourceEvent
	a.Sync.OtherEventsWanted = a.Catalog.WantsSourceEvents
	rescue := cfg.RescueAfter
	if rescue <= 0 {
		rescue = 5 * time.Minute // River's, as jobs.New sets it
	}
	a.Catalog.StepMax = rescue / 3
	a.Metrics.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "posbridge_catalog_push_calls_total",
			Help: "Batch calls of catalog pushes to web shops."}, func() float64 { return float64(a.Catalog.PushCalls.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "posbridge_catalog_pushed_products_total",
			Help: "Products web shops took from catalog pushes."}, func() float64 { return float64(a.Catalog.PushedProducts.Load()) }))
	a.Sales = salesimport.New(st, a.Lifecycle.Opener(), a.Lifecycle, a.Outbox, salesimport.Config{Logger: cfg.Logger})
	a.Sales.SetEmailDomain(cfg.SalesSMTP.Domain)
	if cfg.Clock != nil {
		a.Catalog.SetClock(cfg.Clock)
		a.Outbox.SetClock(cfg.Clock)
		a.Lifecycle.SetClock(cfg.Clock)
		a.Sync.SetClock(cfg.Clock)
		a.Sales.SetClock(cfg.Clock)
		cfg.Retention.Now = cfg.Clock
	}
	a.Retention = retention.New(st, retention.Config{Policy: cfg.Retention, Interval: cfg.RetentionInterval,
		Budget: pruneBudget(cfg.RescueAfter), Logger: cfg.Logger, Registerer: a.Metrics})
	a.Lifecycle.CheckObserver = func(ctx context.Context, accountID, integrationID string, err error) {
		if oerr := a.Sync.Circuit.Observe(ctx, accountID, integrationID, err); oerr != nil {
			a.log.Error("record a check's outcome in the circuit", "integration", integrationID, "err", oerr)
		}
	}
	a.BackOffice = backoffice.New(st, cfg.Logger)
	a.BackOffice.SetConnectors(a.Lifecycle.Opener())
	if cfg.PublishDelay > 0 {
		a.BackOffice.Delay = cfg.PublishDelay
	}
	if cfg.Clock != nil {
		a.BackOffice.SetClock(cfg.Clock)
	}
	workers := river.NewWorkers()
	a.BackOffice.Register(workers)
	a.Lifecycle.Register(workers)
	a.Outbox.Register(workers)
	a.Sync.Register(workers)
	a.Sales.Register(workers)
	a.Retention.Register(workers)
	a.Catalog.Register(workers)
	periodic := append(a.Lifecycle.PeriodicJobs(cfg.SweepInterval), a.Sync.PeriodicJobs(cfg.ReconcileInterval)...)
	periodic = append(periodic, a.Retention.PeriodicJobs()...)
	if cfg.CatalogPollInterval == 0 {
		cfg.CatalogPollInterval = 5 * time.Minute
	}
	periodic = append(periodic, a.Catalog.PeriodicJobs(cfg.CatalogPollInterval)...)
	if cfg.CatalogWorkers == 0 {
		cfg.CatalogWorkers = 4
	}
	periodic = append(periodic, a.Sales.PeriodicJobs(cfg.SweepInterval)...)
	q, err := jobs.New(st, jobs.Config{RunWorkers: !cfg.NoWorkers, MaxWorkers: cfg.MaxWorkers, Logger: cfg.Logger, RescueAfter: cfg.RescueAfter,
		Queues:       map[string]int{catalogsync.Queue: cfg.CatalogWorkers},
		PeriodicJobs: periodic}, workers)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.Queue = q
	a.Lifecycle.SetQueue(q)
	a.Outbox.SetQueue(q)
	a.Sync.SetQueue(q)
	a.BackOffice.SetQueue(q)
	a.Catalog.SetQueue(q)

	apiHandler := api.New(st, a.Lifecycle, a.Outbox, a.Sync, cfg.Logger)
	apiHandler.Retention = a.Retention.Policy()
	apiHandler.SetCatalog(a.Catalog)
	a.Sales.SetQueue(q)
	apiHandler.Sales = a.Sales
	acc := access.New(st)
	acc.Configure(a.Outbox, a.URL)
	a.Access = acc
	apiHandler.SetAccess(acc)
	apiHandler.SetBackOffice(a.BackOffice)
	(&backoffice.TerminalAPI{S: a.BackOffice, Log: cfg.Logger, Status: api.StatusOf}).Register(mux)
	apiHandler.Register(mux)
	if !cfg.NoSandbox {
		a.sandboxState = newSandboxPersister(st, box, a.log)
		a.Sandbox = sandbox.NewServer(sandbox.Options{Persister: a.sandboxState, Tenants: tenants, Logger: cfg.Logger,
			HTTPClient:      connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 10 * time.Second}),
			AllowWebhookURL: a.ownHookURL, SalesPerDay: demoSalesPerDay(cfg.Demo),
			// The in-process POS keeps the app's time: the signatures it sends are checked
			// against the clock it signs them with.
			Now: cfg.Clock})
		mux.Handle("/sandbox/", a.Sandbox)
	}
	con, err := console.New(console.Deps{Store: st, Access: acc, BackOffice: a.BackOffice, Lifecycle: a.Lifecycle, Outbox: a.Outbox, Sync: a.Sync, Sales: a.Sales, Catalog: a.Catalog, CSRFKey: csrfKey,
		SecureCookies: cfg.SecureCookies, Logger: cfg.Logger, Version: Version, Registerer: a.Metrics, TrustedProxies: cfg.TrustedProxies,
		Retention: a.Retention.Policy(), SandboxOrder: a.sandboxOrderAction})
	if err != nil {
		st.Close()
		return nil, err
	}
	con.Register(mux)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Metrics, promhttp.HandlerOpts{}))
	a.handler = recoverer(cfg.Logger, api.Guard(mux))
	return a, nil
}

// pruneBudget is how long one prune_history run deletes before it snoozes: 30s, and well
// inside River's job timeout when a short --job-rescue-after shortens that.
func pruneBudget(rescueAfter time.Duration) time.Duration {
	b := 30 * time.Second
	if rescueAfter > 0 && rescueAfter/4 < b {
		b = rescueAfter / 4
	}
	return b
}

// Handler is the whole HTTP surface.
func (a *App) Handler() http.Handler { return a.handler }

func (a *App) selfURL() string {
	if a.listener == nil && a.cfg.ServerURL != "" {
		return strings.TrimRight(a.cfg.ServerURL, "/")
	}
	addr := a.cfg.Addr
	if a.listener != nil {
		addr = a.listener.Addr().String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ownHookURL lets the Sandbox POS deliver webhooks only to this server's own /hooks/ routes:
// anyone may use the sandbox, so it must not become a way to make posbridge call other hosts.
func (a *App) ownHookURL(u *url.URL) error {
	for _, base := range []string{a.selfURL(), a.URL()} {
		b, err := url.Parse(base)
		if err == nil && strings.EqualFold(u.Scheme, b.Scheme) && strings.EqualFold(u.Host, b.Host) && strings.HasPrefix(u.Path, "/hooks/") {
			return nil
		}
	}
	return fmt.Errorf("the sandbox delivers webhooks only to this posbridge's own /hooks/ URLs")
}

// URL is where the server listens (after Start), for people and tests.
func (a *App) URL() string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	return a.selfURL()
}

// Start listens (unless NoHTTP), starts the workers (unless NoWorkers), and on an empty database
// creates the first account (and with Demo, a Sandbox POS integration).
func (a *App) Start(ctx context.Context) error {
	if !a.cfg.NoHTTP {
		ln, err := net.Listen("tcp", a.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.Addr, err)
		}
		a.listener = ln
		a.Lifecycle.SetSelfURL(a.selfURL())
		a.server = &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
		go func() {
			if err := a.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("http server stopped", "err", err)
			}
		}()
	}
	if a.cfg.SalesSMTP.Listen != "" && !a.cfg.NoHTTP {
		srv, err := a.Sales.StartSMTP(a.cfg.SalesSMTP)
		if err != nil {
			return err
		}
		a.salesSMTP = srv
		a.log.Info("receiving sales files by email", "smtp", srv.Addr(), "domain", a.cfg.SalesSMTP.Domain)
	}
	if !a.cfg.NoHTTP {
		// Before the workers start: on SQLite the database has one connection, and the first
		// account should not wait for it behind the workers' first rounds on a busy machine.
		if err := a.bootstrap(ctx); err != nil {
			return err
		}
	}
	if !a.cfg.NoWorkers {
		if err := a.Queue.Start(ctx); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
	}
	return nil
}

// bootstrap creates the first account on an empty database and prints how to log in, once.
func (a *App) bootstrap(ctx context.Context) error {
	n, err := a.Store.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	email := a.cfg.AdminEmail
	if email == "" {
		email = "admin@example.com"
	}
	c, err := accounts.Create(ctx, a.Store, "My business", email)
	if err != nil {
		return fmt.Errorf("create the first account: %w", err)
	}
	fmt.Fprintf(a.cfg.Stdout, "\nposbridge is ready. Log in to the console (this password is shown once):\n"+
		"  console:   %s/login\n  email:     %s\n  password:  %s\n  API key:   %s\n\n", a.URL(), c.AdminEmail, c.AdminPassword, c.APIKey)
	if a.cfg.Demo && !a.cfg.NoSandbox {
		// The demo's sandbox key is minted like any other: random, the account's own.
		sbx, err := a.MintSandbox(ctx, c.AccountID)
		if err != nil {
			return fmt.Errorf("create the demo Sandbox POS: %w", err)
		}
		demo, err := a.Lifecycle.Add(ctx, c.AccountID, "system", lifecycle.AddInput{Type: "sandbox", Nickname: "Demo",
			Credentials: map[string]string{"api_key": sbx}, StoreID: sandbox.SampleStoreID})
		if err != nil {
			return fmt.Errorf("connect the demo Sandbox POS: %w", err)
		}
		if !a.cfg.NoWorkers {
			a.demoDone = make(chan struct{})
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			a.demoStop = cancel
			go func() {
				defer close(a.demoDone)
				defer cancel()
				if err := a.seedDemoDocuments(dctx, c.AccountID, demo.ID); err != nil && dctx.Err() == nil {
					a.cfg.Logger.Warn("demo: sample documents not loaded", "err", err)
				}
			}()
		}
		fmt.Fprintf(a.cfg.Stdout, "A demo Sandbox POS is connected (its key is shown once):\n  sandbox key: %s\n\n", sbx)
		// One store: the back office and its terminal are the demo Sandbox POS's store, with its products.
		tok, err := a.BackOffice.SeedDemoWith(ctx, c.AccountID, sandbox.SampleStoreID, a.demoBackOfficeProducts(ctx, demo))
		if err != nil {
			return fmt.Errorf("pair the demo POS terminal: %w", err)
		}
		fmt.Fprintf(a.cfg.Stdout, "A demo POS terminal is paired with the Sandbox POS's store %q (Back office in the console):\n  terminal:  %s/terminal/#token=%s\n\n",
			sandbox.SampleStoreID, a.URL(), tok)
	}
	return nil
}

// demoSalesPerDay is how busy the Sandbox POS tills of a --demo server are: a new user sees a
// month of sales, POS items and the sales chart at once, and new sales as the day goes on.
func demoSalesPerDay(demo bool) int {
	if demo {
		return 12
	}
	return 0
}

// MintSandbox creates a new Sandbox POS tenant for the account and returns its API key (as
// POST /sandbox/admin/tenants does). An error wraps sandbox.ErrTenantLimit when the account has
// as many as it may.
func (a *App) MintSandbox(ctx context.Context, accountID string) (string, error) {
	if a.sandboxTenants == nil {
		return "", errors.New("this server runs without the sandbox (--no-sandbox)")
	}
	return a.sandboxTenants.Mint(ctx, accountID)
}

// Close stops the HTTP server and the workers (waiting for running jobs up to ctx) and closes the database.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.demoStop != nil {
		a.demoStop()
		<-a.demoDone
	}
	if a.Sandbox != nil {
		a.Sandbox.Close() // lets go of held "timeout" requests and stops webhook retries
	}
	if a.sandboxStores != nil {
		a.sandboxStores.close()
	}
	if a.server != nil {
		errs = append(errs, a.server.Shutdown(ctx))
	}
	if a.salesSMTP != nil {
		errs = append(errs, a.salesSMTP.Close())
	}
	a.Sync.Close() // commits the inbound webhooks already taken
	if a.sandboxState != nil {
		a.sandboxState.Close() // commits the sandbox's queued changes
	}
	if !a.cfg.NoWorkers {
		errs = append(errs, a.Queue.Stop(ctx))
	}
	errs = append(errs, a.Store.Close())
	return errors.Join(errs...)
}

// SalesSMTPAddr is where the sales file SMTP server listens ("" when off).
func (a *App) SalesSMTPAddr() string {
	if a.salesSMTP == nil {
		return ""
	}
	return a.salesSMTP.Addr()
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := a.Store.Ping(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"unavailable","database":%q}`+"\n", a.Store.Dialect())
		return
	}
	fmt.Fprintf(w, `{"status":"ok","database":%q,"version":%q}`+"\n", a.Store.Dialect(), Version)
}

// recoverer turns a panic in a handler into a 500 and a log line; no panic reaches a user.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ServerURL is where this process reaches the serving process's own routes (/sandbox/, /hooks/):
// itself when it listens, else (a worker) its ServerURL or Addr.
func (a *App) ServerURL() string { return a.selfURL() }

// CheckServer asks the serving process's /healthz, so a worker says at start when it cannot
// reach the sandboxes it will call.
func (a *App) CheckServer(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.selfURL()+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/healthz answered HTTP %d", a.selfURL(), res.StatusCode)
	}
	return nil
}
