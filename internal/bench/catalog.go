package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/lightspeed"
	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// The catalog measurement (`posbridge bench catalog`): account A imports --products products
// from a Lightspeed simulator and pushes them to a WooCommerce simulator (both served by this
// process on loopback, as `posbridge sim` serves them) while account B's invoices reach its
// Sandbox POS at a steady pace; B's latency is measured first with A idle, in the same run, and
// reported as a ratio. Then account C imports as many products again and posbridge is stopped
// hard at about half of the push (its job contexts cancelled and its database closed under the
// running jobs, as a crash leaves them), started again on the same database, and left to finish:
// the import resumes from its cursor, and the pushes of both runs are counted.

// CatalogOptions tune the measurement. The zero value of every field picks a default.
type CatalogOptions struct {
	DatabaseURL string  // postgres://... runs on PostgreSQL in a fresh schema; empty: SQLite
	DataDir     string  // parent of the run's temporary data directory
	Products    int     // products of each catalog (default 5,000; the figure is 100,000)
	Docs        int     // B's invoices with A idle (default 40)
	Rate        float64 // B's invoices a second (default 4)
	NoResume    bool    // leave out the stop-and-resume phase
	Timeout     time.Duration
	Logger      *slog.Logger
	Progress    io.Writer
}

func (o *CatalogOptions) defaults() {
	if o.Products <= 0 {
		o.Products = 5_000
	}
	if o.Docs <= 0 {
		o.Docs = 40
	}
	if o.Rate <= 0 {
		o.Rate = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// CatalogResult is what the measurement found.
type CatalogResult struct {
	Database string     `json:"database"`
	CPUs     int        `json:"cpus"`
	LoadAvg  [2]float64 `json:"load_avg"`
	Products int        `json:"products"`

	ImportSeconds  float64 `json:"import_seconds"` // POST import to phase done (products, stock, customers read)
	PushSeconds    float64 `json:"push_seconds"`   // POST import to every product in the shop
	PushCalls      int64   `json:"push_calls"`     // batch calls to the shop
	PushedProducts int64   `json:"pushed_products"`
	// PushedAgain is pushed_products - linked: pushes beyond one per product (a product pushed
	// before its stock was read goes again with it).
	PushedAgain  int64 `json:"pushed_again"`
	Linked       int   `json:"linked"`         // products linked to the shop at the end
	PeakRSSBytes int64 `json:"peak_rss_bytes"` // of this process (simulators included when they run in it)
	// SimPeakRSSBytes is the sum of the peak RSS of the two simulators' child processes (`posbridge
	// sim`, started from this executable); 0 when they run in this process (a test binary).
	SimPeakRSSBytes int64 `json:"sim_peak_rss_bytes"`

	Alone      Latency `json:"alone"`       // B with A idle
	WithImport Latency `json:"with_import"` // B while A imports and pushes
	RatioP50   float64 `json:"ratio_p50"`   // with_import ÷ alone
	RatioP99   float64 `json:"ratio_p99"`

	Resume *CatalogResume `json:"resume,omitempty"`
}

// CatalogResume is the stop-and-resume phase's figures.
type CatalogResume struct {
	StoppedAtPushed int64   `json:"stopped_at_pushed"` // products pushed when posbridge was stopped
	StoppedPhase    string  `json:"stopped_phase"`     // the import's phase then
	PushCalls       int64   `json:"push_calls"`        // both runs
	PushedProducts  int64   `json:"pushed_products"`   // both runs
	PushedAgain     int64   `json:"pushed_again"`      // pushed_products - linked
	Linked          int     `json:"linked"`
	Seconds         float64 `json:"seconds"` // restart to every product in the shop
}

// catalogCommand runs `posbridge bench catalog`.
func catalogCommand(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o CatalogOptions
	var asJSON, quiet bool
	var cpuprofile string
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof FILE)")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&o.DataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&o.Products, "products", 5_000, "products of each catalog (the issue's figure: 100000)")
	fs.IntVar(&o.Docs, "docs", 40, "account B's invoices with A idle")
	fs.Float64Var(&o.Rate, "rate", 4, "account B's invoices a second")
	fs.BoolVar(&o.NoResume, "no-resume", false, "leave out the stop-and-resume phase")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "deadline of each wait")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: %s", fs.Args(), Usage)
	}
	if o.Products < 1 || o.Products > 1_000_000 {
		return errors.New("--products must be from 1 to 1000000")
	}
	if !quiet {
		o.Progress = stderr
	}
	stopProfile, err := startProfile(cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	res, err := RunCatalog(ctx, o)
	if err != nil {
		return fmt.Errorf("bench catalog: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "database            %s (%d CPUs, load %.1f -> %.1f)\n", res.Database, res.CPUs, res.LoadAvg[0], res.LoadAvg[1])
	fmt.Fprintf(stdout, "import              %d products (and their stock) in %.1f s\n", res.Products, res.ImportSeconds)
	fmt.Fprintf(stdout, "push                every product in the shop after %.1f s: %d products in %d batch calls, %d linked, %d pushed again\n",
		res.PushSeconds, res.PushedProducts, res.PushCalls, res.Linked, res.PushedAgain)
	if res.SimPeakRSSBytes > 0 {
		fmt.Fprintf(stdout, "peak RSS            %.0f MiB (posbridge; the simulators in their own processes: %.0f MiB together)\n",
			float64(res.PeakRSSBytes)/(1<<20), float64(res.SimPeakRSSBytes)/(1<<20))
	} else {
		fmt.Fprintf(stdout, "peak RSS            %.0f MiB (this process, simulators included)\n", float64(res.PeakRSSBytes)/(1<<20))
	}
	fmt.Fprintf(stdout, "B alone             p50 %.0f ms  p99 %.0f ms  (%d invoices)\n", res.Alone.P50MS, res.Alone.P99MS, res.Alone.Docs)
	fmt.Fprintf(stdout, "B during A's import p50 %.0f ms  p99 %.0f ms  (%d invoices)\n", res.WithImport.P50MS, res.WithImport.P99MS, res.WithImport.Docs)
	fmt.Fprintf(stdout, "ratio               p50 %.2fx  p99 %.2fx\n", res.RatioP50, res.RatioP99)
	if r := res.Resume; r != nil {
		fmt.Fprintf(stdout, "stopped at          %d products pushed (import phase %s); restarted, done %.1f s later\n", r.StoppedAtPushed, r.StoppedPhase, r.Seconds)
		fmt.Fprintf(stdout, "both runs           %d products in %d batch calls, %d linked, %d pushed again\n", r.PushedProducts, r.PushCalls, r.Linked, r.PushedAgain)
	}
	return nil
}

// RunCatalog runs the catalog measurement in a temporary data directory (or a fresh schema).
func RunCatalog(ctx context.Context, o CatalogOptions) (res CatalogResult, err error) {
	o.defaults()
	res.Database, res.CPUs, res.Products = "sqlite", runtime.NumCPU(), o.Products
	res.LoadAvg[0] = loadAvg()
	if o.DatabaseURL != "" {
		res.Database = "postgres"
	}
	dir, dbURL, cleanup, err := benchStorage(ctx, o.DataDir, o.DatabaseURL, "posbridge-bench-catalog-")
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	start := func() (*app.App, error) {
		a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL, AllowPrivate: true,
			CallOffAfter: domain.DefaultCallOffAfter, CheckInterval: time.Hour, CatalogPollInterval: time.Hour,
			RescueAfter: 3 * time.Second, Logger: o.Logger, Stdout: io.Discard})
		if err != nil {
			return nil, fmt.Errorf("start posbridge: %w", err)
		}
		if err := a.Start(ctx); err != nil {
			a.Close(context.Background()) //nolint:errcheck // failed anyway
			return nil, fmt.Errorf("start posbridge: %w", err)
		}
		return a, nil
	}
	a, err := start()
	if err != nil {
		return res, err
	}
	defer func() {
		if a != nil {
			a.Close(context.Background()) //nolint:errcheck // the figures are taken
		}
	}()
	h := newHarness(a, Options{Timeout: o.Timeout})
	quiet, err := h.setup(ctx, "quiet_"+randomSuffix())
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "B alone: %d invoices at %.0f/s ...\n", o.Docs, o.Rate)
	if res.Alone, err = h.paced(ctx, quiet, "ALONE", o.Docs, o.Rate); err != nil {
		return res, fmt.Errorf("B alone: %w", err)
	}

	// A imports and pushes while B writes, a chunk of invoices at a time until A is done.
	cat, err := newCatalogAccount(ctx, h, "noisy", o.Products)
	if err != nil {
		return res, err
	}
	defer cat.close()
	resetPeakRSS()
	fmt.Fprintf(o.Progress, "A: importing %d products from Lightspeed and pushing them to WooCommerce, B writing ...\n", o.Products)
	t0 := time.Now()
	if err := h.call(ctx, cat.key, "POST", "/api/v1/catalog-sync/import", nil, http.StatusAccepted, nil); err != nil {
		return res, err
	}
	done := make(chan error, 1)
	var inShop time.Duration // when the look found every product in the shop (B's chunk may end later)
	go func() {
		var imported time.Duration
		var looked time.Time
		done <- poll(ctx, o.Timeout, 50*time.Millisecond, "A's products in the shop", func() (bool, error) {
			if imported > 0 && time.Since(looked) < 500*time.Millisecond {
				return false, nil // the look for a pending push reads the catalog: not 20 times a second
			}
			looked = time.Now()
			ok, phase, err := cat.finished(ctx, a.Store, a.Catalog.PushedProducts.Load())
			if imported == 0 && phase == domain.PhaseDone {
				imported = time.Since(t0)
				res.ImportSeconds = imported.Seconds()
			}
			if ok && err == nil {
				inShop = time.Since(t0)
			}
			return ok, err
		})
	}()
	var lat []float64
	var aErr error
	for finished := false; !finished; {
		l, err := h.pacedRaw(ctx, quiet, fmt.Sprintf("CATALOG%d", len(lat)), 10, o.Rate)
		if err != nil {
			return res, fmt.Errorf("B during A's import: %w", err)
		}
		lat = append(lat, l...)
		select {
		case aErr = <-done:
			finished = true
		default:
		}
	}
	if aErr != nil {
		return res, aErr
	}
	res.PushSeconds = inShop.Seconds()
	res.PeakRSSBytes = peakRSS()
	for _, p := range cat.sims {
		res.SimPeakRSSBytes += p.peakRSS()
	}
	res.PushCalls, res.PushedProducts = a.Catalog.PushCalls.Load(), a.Catalog.PushedProducts.Load()
	if res.Linked, err = cat.linked(ctx, a.Store); err != nil {
		return res, err
	}
	res.PushedAgain = res.PushedProducts - int64(res.Linked)
	res.WithImport = latencyOf(lat)
	if res.Alone.P50MS > 0 {
		res.RatioP50 = res.WithImport.P50MS / res.Alone.P50MS
	}
	if res.Alone.P99MS > 0 {
		res.RatioP99 = res.WithImport.P99MS / res.Alone.P99MS
	}
	cat.close()

	if !o.NoResume {
		r, err := resumePhase(ctx, o, h, &a, start)
		if err != nil {
			return res, err
		}
		res.Resume = r
	}
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

// resumePhase imports a catalog for account C, stops posbridge hard at about half of the push,
// starts it again on the same database and waits until every product is in the shop.
func resumePhase(ctx context.Context, o CatalogOptions, h *harness, a **app.App, start func() (*app.App, error)) (*CatalogResume, error) {
	r := &CatalogResume{}
	cat, err := newCatalogAccount(ctx, h, "resume", o.Products)
	if err != nil {
		return nil, err
	}
	defer cat.close()
	calls0, pushed0 := (*a).Catalog.PushCalls.Load(), (*a).Catalog.PushedProducts.Load()
	fmt.Fprintf(o.Progress, "C: importing %d products, stopping posbridge at half of the push ...\n", o.Products)
	if err := h.call(ctx, cat.key, "POST", "/api/v1/catalog-sync/import", nil, http.StatusAccepted, nil); err != nil {
		return nil, err
	}
	if err := poll(ctx, o.Timeout, 10*time.Millisecond, "half of C's products pushed", func() (bool, error) {
		return (*a).Catalog.PushedProducts.Load()-pushed0 >= int64(o.Products/2), nil
	}); err != nil {
		return nil, err
	}
	imp, err := (*a).Store.GetCatalogImport(ctx, cat.acct)
	if err != nil {
		return nil, err
	}
	r.StoppedPhase = imp.Phase
	// The stop: the job contexts are cancelled and the database closed under the running jobs;
	// what they did not commit is lost, as in a crash.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	old := *a
	old.Close(gone) //nolint:errcheck // a hard stop fails by design
	r.StoppedAtPushed = old.Catalog.PushedProducts.Load() - pushed0
	*a = nil
	t0 := time.Now()
	fmt.Fprintf(o.Progress, "C: stopped at %d products pushed (import %s); restarting ...\n", r.StoppedAtPushed, r.StoppedPhase)
	na, err := start()
	if err != nil {
		return nil, err
	}
	*a = na
	var looked time.Time
	if err := poll(ctx, o.Timeout, 50*time.Millisecond, "C's products in the shop after the restart", func() (bool, error) {
		if time.Since(looked) < 500*time.Millisecond {
			return false, nil // the look for a pending push reads the catalog: not 20 times a second
		}
		looked = time.Now()
		ok, phase, err := cat.finished(ctx, na.Store, old.Catalog.PushedProducts.Load()-pushed0+na.Catalog.PushedProducts.Load())
		if err != nil && phase != domain.PhaseFailed && ctx.Err() == nil {
			// The first queries of a process started on the database a stopped one left may
			// fail; ask again.
			o.Logger.Warn("bench catalog: read the progress after the restart", "err", err)
			return false, nil
		}
		return ok, err
	}); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(t0).Seconds()
	r.PushCalls = old.Catalog.PushCalls.Load() - calls0 + na.Catalog.PushCalls.Load()
	r.PushedProducts = old.Catalog.PushedProducts.Load() - pushed0 + na.Catalog.PushedProducts.Load()
	if r.Linked, err = cat.linked(ctx, na.Store); err != nil {
		return nil, err
	}
	r.PushedAgain = r.PushedProducts - int64(r.Linked)
	return r, nil
}

// catalogAccount is an account with a Lightspeed simulator as its catalog source and a
// WooCommerce simulator as its shop, catalog sync on.
type catalogAccount struct {
	acct, key, src, dest string
	products             int // in the source's catalog
	servers              []*httptest.Server
	sims                 []*simProcess // the simulators' child processes, when they run in their own
	closers              []func()
	once                 sync.Once
}

func newCatalogAccount(ctx context.Context, h *harness, name string, products int) (*catalogAccount, error) {
	c := &catalogAccount{products: products}
	var lsCreds, wooCreds map[string]string
	if simsInThisProcess() {
		ls := lightspeed.NewSimulator()
		ls.SeedProducts(products - ls.ProductCount()) // the catalog has products products, its Miscellaneous one among them
		woo := woocommerce.NewSimulator()
		c.servers = []*httptest.Server{httptest.NewServer(ls), httptest.NewServer(woo)}
		c.closers = []func(){ls.Close, woo.Close}
		lsCreds, wooCreds = ls.Info(c.servers[0].URL).Credentials, woo.Info(c.servers[1].URL).Credentials
	} else {
		// The simulator's Miscellaneous product is one of the catalog's products.
		ls, err := startSimProcess(ctx, "lightspeed", max(products-1, 0))
		if err != nil {
			return c, err
		}
		c.sims = append(c.sims, ls)
		woo, err := startSimProcess(ctx, "woocommerce", 0)
		if err != nil {
			return c, err
		}
		c.sims = append(c.sims, woo)
		lsCreds, wooCreds = ls.info.Credentials, woo.info.Credentials
	}
	created, err := accounts.Create(ctx, h.app.Store, "Bench "+name, name+"_"+randomSuffix()+"@bench.test")
	if err != nil {
		return c, err
	}
	c.acct, c.key = created.AccountID, created.APIKey
	for _, x := range []struct {
		typ   string
		creds map[string]string
		id    *string
	}{
		{"lightspeed", lsCreds, &c.src},
		{"woocommerce", wooCreds, &c.dest},
	} {
		var in struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := h.call(ctx, c.key, "POST", "/api/v1/integrations", map[string]any{"type": x.typ, "credentials": x.creds}, http.StatusCreated, &in); err != nil {
			return c, fmt.Errorf("add the %s simulator: %w", x.typ, err)
		}
		*x.id = in.ID
		if err := poll(ctx, time.Minute, 20*time.Millisecond, x.typ+" healthy", func() (bool, error) {
			if err := h.call(ctx, c.key, "GET", "/api/v1/integrations/"+in.ID, nil, http.StatusOK, &in); err != nil {
				return false, err
			}
			return in.Status == "healthy", nil
		}); err != nil {
			return c, err
		}
	}
	if err := h.call(ctx, c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.src, "enabled": true,
		"destinations": []any{map[string]any{"integration_id": c.dest}}}, http.StatusOK, nil); err != nil {
		return c, err
	}
	return c, nil
}

// finished tells whether the import is done and no product waits for its push; pushed is how
// many products the account's pushes took so far: fewer than the catalog has means not yet,
// without the read of the catalog that the look for a pending push is.
func (c *catalogAccount) finished(ctx context.Context, st *store.Store, pushed int64) (bool, string, error) {
	imp, err := st.GetCatalogImport(ctx, c.acct)
	if err != nil {
		return false, "", err
	}
	if imp.Phase == domain.PhaseFailed {
		return false, imp.Phase, fmt.Errorf("the import failed: %s", imp.Error)
	}
	if imp.Phase != domain.PhaseDone || pushed < int64(c.products) {
		return false, imp.Phase, nil
	}
	// The pending pushes are looked for only once the push is idle: the look reads the catalog
	// (on SQLite through the one connection B's invoices need too).
	idle, err := st.CatalogWorkIdle(ctx, c.acct, "push:"+c.dest)
	if err != nil || !idle {
		return false, imp.Phase, err
	}
	pending, err := st.Reader().PendingCatalogPushes(ctx, c.acct, c.src, c.dest, "", 1)
	return err == nil && len(pending) == 0, imp.Phase, err
}

func (c *catalogAccount) linked(ctx context.Context, st *store.Store) (int, error) {
	links, err := st.ListCatalogLinks(ctx, c.acct, nil)
	return len(links), err
}

func (c *catalogAccount) close() {
	c.once.Do(func() {
		for _, s := range c.servers {
			s.Close()
		}
		for _, p := range c.sims {
			p.close()
		}
		for _, f := range c.closers {
			f()
		}
	})
}
