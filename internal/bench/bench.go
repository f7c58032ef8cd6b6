// Package bench measures posbridge's order sync end to end (`posbridge bench sync`). It
// starts the real app on loopback (SQLite in a temporary directory, or a fresh schema of a
// PostgreSQL server, dropped at the end) with the Sandbox POS as the simulator, and measures, in
// one run and on one database:
//
//  1. River's own throughput on no-op jobs (a separate River client on a queue of its own): drained
//     from a full queue with many workers (River's ceiling) and with the app's worker count, and
//     fed as the app feeds it (the same number of clients inserting one job per transaction while
//     the app's worker count works them: the like-for-like baseline);
//  2. the maximum end-to-end rate: N invoices PUT through the REST API by concurrent clients as
//     fast as it goes, end to end meaning the order exists in the sandbox and the document's
//     sync status is synced with its history written;
//  3. latency at half that rate: N more invoices paced at 50% of the measured maximum, each timed
//     from the API write's answer to the order's creation time in the sandbox;
//  4. peak RSS (VmHWM).
//
// Everything goes over real HTTP on loopback; nothing is mocked. The targets of the issue (at
// least 40% of River's no-op throughput; p99 at most 250 ms on PostgreSQL and 1 s on SQLite) are
// reported, not asserted.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Options tune one run. The zero value of every field but Docs picks a default.
type Options struct {
	DatabaseURL  string        // postgres://... runs on PostgreSQL in a fresh schema; empty: SQLite
	DataDir      string        // parent of the run's temporary data directory; empty: the system's temp dir
	Docs         int           // documents per sync phase (default 5000)
	Clients      int           // concurrent API clients of the maximum-rate phase (default 16)
	Tenants      int           // accounts, each with its own sandbox integration, the documents are spread over (default 1)
	MaxWorkers   int           // the app's River workers, as `serve --max-workers` (default 50)
	MaxConns     int           // the app's PostgreSQL connections, as `serve --database-max-conns` (default 40)
	RiverJobs    int           // no-op jobs of River's ceiling measurement (default 20000)
	RiverWorkers int           // workers of River's ceiling measurement (default 2000 on PostgreSQL, 1000 on SQLite)
	Timeout      time.Duration // deadline of each phase (default 10m)
	CPUProfile   string        // write a CPU profile of the sync phases (2 and 3) to this file
	Logger       *slog.Logger  // the app's and River's logs (default: errors only, to stderr)
	Progress     io.Writer     // one line per phase as it goes (default: nothing)
}

// Result is what a run measured; --json prints it as one object.
type Result struct {
	Database string     `json:"database"`               // sqlite or postgres
	TLS      bool       `json:"database_tls,omitempty"` // the PostgreSQL connection is encrypted (sslmode)
	Docs     int        `json:"docs"`
	Started  time.Time  `json:"started_at"`
	Seconds  float64    `json:"seconds"` // the whole run
	CPUs     int        `json:"cpus"`
	LoadAvg  [2]float64 `json:"load_avg"` // the 1-minute load average at the start and the end: other work on the machine skews every figure

	River    RiverResult `json:"river"`     // River's ceiling: a full queue drained by many workers
	RiverApp RiverResult `json:"river_app"` // a full queue drained by the app's worker count
	RiverFed RiverResult `json:"river_fed"` // fed one job per transaction by the bench's clients, worked by the app's worker count
	Max      MaxResult   `json:"max"`
	Latency  LatResult   `json:"latency"`

	PeakRSSBytes     int64 `json:"peak_rss_bytes"`      // VmHWM over the whole run
	PeakRSSSyncBytes int64 `json:"peak_rss_sync_bytes"` // VmHWM over the sync phases alone (0 when it could not be reset)

	Targets Targets `json:"targets"`
}

// RiverResult is one no-op throughput measurement.
type RiverResult struct {
	Jobs          int     `json:"jobs"`
	Workers       int     `json:"workers"`
	Clients       int     `json:"clients,omitempty"` // inserting while the workers work (0: all inserted first)
	InsertSeconds float64 `json:"insert_seconds"`
	WorkSeconds   float64 `json:"work_seconds"`
	JobsPerSec    float64 `json:"jobs_per_sec"`
}

// MaxResult is the maximum-rate phase.
type MaxResult struct {
	Clients       int     `json:"clients"`
	Tenants       int     `json:"tenants"` // accounts (and sandbox integrations) the documents were spread over
	AppWorkers    int     `json:"app_workers"`
	PutSeconds    float64 `json:"put_seconds"`     // until every PUT was answered
	PutsPerSec    float64 `json:"puts_per_sec"`    // API write rate
	E2ESeconds    float64 `json:"e2e_seconds"`     // until the last document was synced (its last_synced_at)
	DocsPerSec    float64 `json:"docs_per_sec"`    // end-to-end rate
	Orders        int     `json:"orders"`          // orders in the sandbox at the end (must equal docs)
	WithHistory   int     `json:"with_history"`    // documents whose history holds the successful create
	DBWaits       int64   `json:"db_waits"`        // times a query waited for a free database connection during the phase
	DBWaitSeconds float64 `json:"db_wait_seconds"` // the sum of those waits (SQLite has one connection; PostgreSQL a pool of 20)
}

// LatResult is the paced phase.
type LatResult struct {
	TargetRate  float64 `json:"target_rate"`  // documents/s asked for: half the maximum
	OfferedRate float64 `json:"offered_rate"` // documents/s the PUTs were answered at
	PutP50MS    float64 `json:"put_p50_ms"`   // the API write itself
	PutP99MS    float64 `json:"put_p99_ms"`
	P50MS       float64 `json:"p50_ms"` // API answer -> order created in the sandbox
	P99MS       float64 `json:"p99_ms"`
	MaxMS       float64 `json:"max_ms"`
	SyncedP50MS float64 `json:"synced_p50_ms"` // API answer -> document synced (last_synced_at)
	SyncedP99MS float64 `json:"synced_p99_ms"`
	Orders      int     `json:"orders"`
}

// Targets are the targets and whether this run met them.
type Targets struct {
	E2EShareOfRiver    float64 `json:"e2e_share_of_river"`     // docs/s ÷ River's no-op ceiling (full queue, many workers)
	E2EShareOfRiverApp float64 `json:"e2e_share_of_river_app"` // docs/s ÷ River draining a full queue with the app's workers
	E2EShareOfRiverFed float64 `json:"e2e_share_of_river_fed"` // docs/s ÷ River fed like the app: the like-for-like ratio
	E2EShareTarget     float64 `json:"e2e_share_target"`       // 0.40
	E2EShareMet        bool    `json:"e2e_share_met"`          // judged on the like-for-like ratio
	E2EShareCeilingMet bool    `json:"e2e_share_ceiling_met"`  // judged on River's ceiling
	P99TargetMS        float64 `json:"p99_target_ms"`          // 250 on PostgreSQL, 1000 on SQLite
	P99Met             bool    `json:"p99_met"`
}

func (o *Options) defaults() {
	if o.Docs <= 0 {
		o.Docs = 5000
	}
	if o.Clients <= 0 {
		o.Clients = 16
	}
	if o.Tenants <= 0 {
		o.Tenants = 1
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 50
	}
	if o.RiverJobs <= 0 {
		o.RiverJobs = 20000
	}
	if o.RiverWorkers <= 0 {
		o.RiverWorkers = 1000
		if o.DatabaseURL != "" {
			o.RiverWorkers = 2000
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Run runs the whole benchmark once.
func Run(ctx context.Context, o Options) (res Result, err error) {
	o.defaults()
	started := time.Now()
	res = Result{Database: "sqlite", Docs: o.Docs, Started: started.UTC(), CPUs: runtime.NumCPU()}
	res.LoadAvg[0] = loadAvg()

	dir, err := os.MkdirTemp(o.DataDir, "posbridge-bench-")
	if err != nil {
		return res, fmt.Errorf("create the bench data dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dbURL := ""
	if o.DatabaseURL != "" {
		res.Database = "postgres"
		u, drop, err := freshSchema(ctx, o.DatabaseURL)
		if err != nil {
			return res, err
		}
		defer func() {
			if derr := drop(); derr != nil && err == nil {
				err = derr
			}
		}()
		dbURL = u
	}

	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL, AllowPrivate: true,
		MaxWorkers: o.MaxWorkers, MaxConns: o.MaxConns, CallOffAfter: domain.DefaultCallOffAfter, CheckInterval: 15 * time.Minute,
		Logger: o.Logger, Stdout: io.Discard})
	if err != nil {
		return res, fmt.Errorf("start posbridge: %w", err)
	}
	if err := a.Start(ctx); err != nil {
		a.Close(context.Background())
		return res, fmt.Errorf("start posbridge: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if cerr := a.Close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("stop posbridge: %w", cerr)
		}
	}()

	if a.Store.Dialect() == store.Postgres {
		if res.TLS, err = usesTLS(ctx, a.Store); err != nil {
			return res, err
		}
	}

	// 1. River's own throughput on no-op jobs, on the same database, before the sync phases.
	fmt.Fprintf(o.Progress, "river: %d no-op jobs, %d workers ...\n", o.RiverJobs, o.RiverWorkers)
	if res.River, err = riverNoop(ctx, a.Store, o.RiverJobs, o.RiverWorkers, 0, o.Logger, o.Timeout); err != nil {
		return res, err
	}
	appJobs := max(o.RiverJobs/4, 10)
	fmt.Fprintf(o.Progress, "river: %d no-op jobs, %d workers (the app's count) ...\n", appJobs, o.MaxWorkers)
	if res.RiverApp, err = riverNoop(ctx, a.Store, appJobs, o.MaxWorkers, 0, o.Logger, o.Timeout); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "river: %d no-op jobs inserted one per transaction by %d clients, %d workers ...\n", o.Docs, o.Clients, o.MaxWorkers)
	if res.RiverFed, err = riverNoop(ctx, a.Store, o.Docs, o.MaxWorkers, o.Clients, o.Logger, o.Timeout); err != nil {
		return res, err
	}
	res.PeakRSSBytes = peakRSS()
	resetOK := resetPeakRSS()

	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return res, err
	}
	defer func() {
		if perr := stopProfile(); perr != nil && err == nil {
			err = perr
		}
	}()

	h := newHarness(a, o)
	// 2. Maximum end-to-end rate.
	fmt.Fprintf(o.Progress, "max: %d invoices, %d clients, %d app workers ...\n", o.Docs, o.Clients, o.MaxWorkers)
	if res.Max, err = h.maxPhase(ctx); err != nil {
		return res, err
	}
	// 3. Latency at half that rate.
	rate := res.Max.DocsPerSec / 2
	fmt.Fprintf(o.Progress, "latency: %d invoices at %.0f/s ...\n", o.Docs, rate)
	if res.Latency, err = h.latencyPhase(ctx, rate); err != nil {
		return res, err
	}

	// 4. Peak RSS.
	sync := peakRSS()
	if resetOK {
		res.PeakRSSSyncBytes = sync
	}
	res.PeakRSSBytes = max(res.PeakRSSBytes, sync)
	res.Seconds = time.Since(started).Seconds()
	res.LoadAvg[1] = loadAvg()

	res.Targets = Targets{E2EShareTarget: 0.40, P99TargetMS: 1000}
	if res.Database == "postgres" {
		res.Targets.P99TargetMS = 250
	}
	share := func(r RiverResult) float64 {
		if r.JobsPerSec <= 0 {
			return 0
		}
		return res.Max.DocsPerSec / r.JobsPerSec
	}
	res.Targets.E2EShareOfRiver = share(res.River)
	res.Targets.E2EShareOfRiverApp = share(res.RiverApp)
	res.Targets.E2EShareOfRiverFed = share(res.RiverFed)
	res.Targets.E2EShareMet = res.Targets.E2EShareOfRiverFed >= res.Targets.E2EShareTarget
	res.Targets.E2EShareCeilingMet = res.Targets.E2EShareOfRiver >= res.Targets.E2EShareTarget
	res.Targets.P99Met = res.Latency.P99MS <= res.Targets.P99TargetMS
	return res, nil
}

// usesTLS tells whether the store's PostgreSQL connections are encrypted.
func usesTLS(ctx context.Context, st *store.Store) (bool, error) {
	c, err := st.Pool().Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire a connection: %w", err)
	}
	defer c.Release()
	_, ok := c.Conn().PgConn().Conn().(*tls.Conn)
	return ok, nil
}

// freshSchema creates a schema of its own on the server at base and returns a URL whose
// search_path names it, and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func() error, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("name the bench schema: %w", err)
	}
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(cctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() error {
		dctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("parse --database-url: %w", err), drop())
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// startProfile starts a CPU profile written to path ("" : none); stop ends it and reports
// whether the profile could be written.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("start the CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("write the CPU profile: %w", err)
		}
		return nil
	}, nil
}
