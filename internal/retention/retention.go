// Package retention keeps posbridge's history tables bounded: inbound webhook events, outbound
// webhook deliveries, the timeline, documents' sync history, the catalog's change feed and its
// products' and customers' field history are each kept for a configurable
// window (the --retention-* flags) and removed after it by the periodic River job
// prune_history. The job deletes in small batches by primary key, oldest first through an index
// on each table's time column, within a time budget per run, and snoozes itself while more is
// left, so that it never holds a table (or SQLite's one connection) for long. A webhook event
// not yet applied is never deleted, however old.
//
// The Policy also tells the API and the console how far back history goes (retained_since).
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posbridge/posbridge/internal/store"
)

// The default windows.
const (
	DefaultWebhookEvents = 30 * 24 * time.Hour
	DefaultDeliveries    = 30 * 24 * time.Hour
	DefaultTimeline      = 365 * 24 * time.Hour
	DefaultSyncHistory   = 365 * 24 * time.Hour
	// The app reads the change feed as it goes; a cursor older than this misses changes (read
	// the records again).
	DefaultCatalogChanges = 90 * 24 * time.Hour
	DefaultCatalogHistory = 365 * 24 * time.Hour
)

// Policy is how long each history table keeps its rows. A zero window takes the default.
type Policy struct {
	WebhookEvents time.Duration // inbound provider webhook events (--retention-webhook-events)
	Deliveries    time.Duration // outbound webhook deliveries (--retention-deliveries)
	Timeline      time.Duration // the timeline (--retention-timeline)
	SyncHistory   time.Duration // documents' sync history (--retention-sync-history)
	// CatalogChanges is the catalog's change feed (--retention-catalog-changes).
	CatalogChanges time.Duration
	// CatalogHistory is products' and customers' field history (--retention-catalog-history).
	CatalogHistory time.Duration
	// Now is the clock the windows are measured against (default time.Now); tests move it.
	Now func() time.Time
}

// WithDefaults fills zero windows and the clock.
func (p Policy) WithDefaults() Policy {
	if p.WebhookEvents <= 0 {
		p.WebhookEvents = DefaultWebhookEvents
	}
	if p.Deliveries <= 0 {
		p.Deliveries = DefaultDeliveries
	}
	if p.Timeline <= 0 {
		p.Timeline = DefaultTimeline
	}
	if p.SyncHistory <= 0 {
		p.SyncHistory = DefaultSyncHistory
	}
	if p.CatalogChanges <= 0 {
		p.CatalogChanges = DefaultCatalogChanges
	}
	if p.CatalogHistory <= 0 {
		p.CatalogHistory = DefaultCatalogHistory
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// Window is how long the table keeps its rows.
func (p Policy) Window(t store.HistoryTable) time.Duration {
	p = p.WithDefaults()
	switch t {
	case store.WebhookEventsTable:
		return p.WebhookEvents
	case store.DeliveriesTable:
		return p.Deliveries
	case store.TimelineTable:
		return p.Timeline
	case store.SyncHistoryTable:
		return p.SyncHistory
	case store.CatalogChangesTable:
		return p.CatalogChanges
	case store.CatalogHistoryTable:
		return p.CatalogHistory
	}
	return 0
}

// RetainedSince is the oldest moment the table still holds entries from: now minus its window
// (to the second). Older entries are removed (or about to be).
func (p Policy) RetainedSince(t store.HistoryTable) time.Time {
	p = p.WithDefaults()
	return p.Now().Add(-p.Window(t)).UTC().Truncate(time.Second)
}

// Notice is the console's line about the table's window, for example "History is kept for
// 365 days; older entries are removed."
func (p Policy) Notice(t store.HistoryTable) string {
	return "History is kept for " + FormatWindow(p.Window(t)) + "; older entries are removed."
}

// FormatWindow says a window in words: whole days as days ("30 days", "1 day"), anything else
// as a Go duration ("36h0m0s", "5s").
func FormatWindow(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		if n := d / day; n != 1 {
			return strconv.FormatInt(int64(n), 10) + " days"
		}
		return "1 day"
	}
	return d.String()
}

// ParseWindow reads a window: a Go duration ("720h", "90m") or whole days with a "d" suffix,
// optionally followed by a Go duration ("30d", "1d12h"). It must be positive.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q is not a duration (use for example 30d, 720h or 1d12h)", s)
		}
		d, rest = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	if rest != "" {
		x, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (use for example 30d, 720h or 1d12h)", s)
		}
		d += x
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: a retention window must be longer than zero", s)
	}
	return d, nil
}

// Config tunes the pruning.
type Config struct {
	Policy
	Interval  time.Duration // how often prune_history runs (default 10m)
	BatchSize int           // rows one statement deletes at most (default 1000)
	Budget    time.Duration // how long one run may keep deleting before it snoozes (default 30s; keep it under River's job timeout)
	Snooze    time.Duration // how long a run that left rows waits before it goes on (default 1s)
	Logger    *slog.Logger
	// Registerer receives posbridge_retention_pruned_rows_total{table} (nil: not registered).
	Registerer prometheus.Registerer
}

// Service prunes the history tables.
type Service struct {
	st     *store.Store
	cfg    Config
	log    *slog.Logger
	pruned *prometheus.CounterVec
}

// New returns the service; register its worker and periodic job with River.
func New(st *store.Store, cfg Config) *Service {
	cfg.Policy = cfg.Policy.WithDefaults()
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 30 * time.Second
	}
	if cfg.Snooze <= 0 {
		cfg.Snooze = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{st: st, cfg: cfg, log: cfg.Logger,
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posbridge_retention_pruned_rows_total",
			Help: "History rows removed because they were older than their table's retention window."}, []string{"table"})}
	for _, t := range store.HistoryTables {
		s.pruned.WithLabelValues(string(t)) // every table shows, at 0 until something is pruned
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.pruned)
	}
	return s
}

// Policy is the service's policy (with defaults), for the API and the console.
func (s *Service) Policy() Policy { return s.cfg.Policy }

// Result is what one run removed.
type Result struct {
	Deleted map[store.HistoryTable]int64
	// More is true when the run stopped at its time budget with old rows left.
	More bool
}

// Prune removes rows older than their window from every history table, a batch at a time,
// until nothing old is left or the budget is spent (then Result.More is true). Each statement
// deletes at most BatchSize rows and commits on its own.
func (s *Service) Prune(ctx context.Context) (Result, error) {
	res := Result{Deleted: map[store.HistoryTable]int64{}}
	deadline := time.Now().Add(s.cfg.Budget)
	now := s.cfg.Now()
	for _, t := range store.HistoryTables {
		before := now.Add(-s.cfg.Window(t))
		for {
			n, err := s.st.PruneHistory(ctx, t, before, s.cfg.BatchSize)
			if err != nil {
				return res, err
			}
			res.Deleted[t] += n
			s.pruned.WithLabelValues(string(t)).Add(float64(n))
			if n < int64(s.cfg.BatchSize) {
				break // nothing old left in this table
			}
			if time.Now().After(deadline) {
				res.More = true // a batch always runs, so every run makes progress
				return res, nil
			}
		}
	}
	return res, nil
}

// PruneArgs is the prune_history job: one run of Prune.
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "prune_history" }

// InsertOpts keeps at most one prune_history job waiting or running, however it is inserted:
// a run that snoozes is not joined by the next periodic one.
func (PruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// Register adds the prune_history worker.
func (s *Service) Register(w *river.Workers) { river.AddWorker(w, &pruneWorker{s: s}) }

// PeriodicJobs runs prune_history every interval, and once when the workers start.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(s.cfg.Interval),
		func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}

type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	s *Service
}

// Work runs Prune; when the budget ran out with old rows left it snoozes (which costs no
// attempt) and goes on shortly, letting other work in between.
func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneArgs]) error {
	res, err := w.s.Prune(ctx)
	total := int64(0)
	for _, n := range res.Deleted {
		total += n
	}
	if total > 0 || err != nil {
		w.s.log.Info("pruned history older than its retention window", "webhook_events", res.Deleted[store.WebhookEventsTable],
			"deliveries", res.Deleted[store.DeliveriesTable], "timeline", res.Deleted[store.TimelineTable],
			"sync_history", res.Deleted[store.SyncHistoryTable], "catalog_changes", res.Deleted[store.CatalogChangesTable],
			"catalog_history", res.Deleted[store.CatalogHistoryTable], "more", res.More, "err", err)
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	if res.More || err != nil { // out of budget, or stopped (shutdown, job timeout): go on later
		return river.JobSnooze(w.s.cfg.Snooze)
	}
	return nil
}
