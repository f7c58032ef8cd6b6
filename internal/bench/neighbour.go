package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
)

// The noisy-neighbour measurement (`posbridge bench neighbour`): two accounts on
// one posbridge, each with a Sandbox POS and Automatic Sync on. Account B writes invoices at a
// steady pace twice: once with account A idle, once with A's POS answering no call (sandbox fault
// "timeout") and A's documents queued in front of B's; the second phase lasts longer than the
// provider timeout (10 s more), so it sees A's calls hang and then A's circuit open. B's latency, from the API write's answer
// to the order's creation in B's sandbox, is reported as p50 and p99 of each phase and as their
// ratio: a fair hub keeps it near 1; a hub whose workers all sit in A's hung calls shows B
// starved (the issue saw more than 120 s against 48 ms).

// NeighbourOptions tune the measurement. The zero value of every field picks a default.
type NeighbourOptions struct {
	DatabaseURL     string        // postgres://... runs on PostgreSQL in a fresh schema; empty: SQLite
	DataDir         string        // parent of the run's temporary data directory
	Docs            int           // B's invoices with A idle, and at least as many with A broken (default 60)
	Rate            float64       // B's invoices a second (default 4)
	NoisyDocs       int           // A's invoices queued while its POS hangs (default 600)
	MaxWorkers      int           // the app's River workers (default 50)
	ProviderTimeout time.Duration // the app's provider call timeout (default 30 s, as serve)
	Timeout         time.Duration // deadline of each wait (default 5 min)
	Logger          *slog.Logger
	Progress        io.Writer
}

func (o *NeighbourOptions) defaults() {
	if o.Docs <= 0 {
		o.Docs = 60
	}
	if o.Rate <= 0 {
		o.Rate = 4
	}
	if o.NoisyDocs <= 0 {
		o.NoisyDocs = 600
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 50
	}
	if o.ProviderTimeout <= 0 {
		o.ProviderTimeout = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Latency is one phase's figures for account B.
type Latency struct {
	Docs  int     `json:"docs"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// NeighbourResult is what the measurement found.
type NeighbourResult struct {
	Database  string     `json:"database"`
	CPUs      int        `json:"cpus"`
	LoadAvg   [2]float64 `json:"load_avg"`
	Seconds   float64    `json:"seconds"`
	Workers   int        `json:"app_workers"`
	NoisyDocs int        `json:"noisy_docs"` // A's invoices queued behind its hanging POS
	Rate      float64    `json:"rate"`       // B's invoices a second

	Alone      Latency `json:"alone"`       // B with A idle
	WithBroken Latency `json:"with_broken"` // B with A's POS hanging and its documents queued
	RatioP50   float64 `json:"ratio_p50"`   // with_broken ÷ alone
	RatioP99   float64 `json:"ratio_p99"`

	// NoisyCircuit is A's integration's circuit at the end (open, half_open or closed), and
	// NoisySynced how many of A's invoices reached its POS (none should: it answers nothing).
	NoisyCircuit string `json:"noisy_circuit"`
	NoisySynced  int    `json:"noisy_synced"`
}

// Neighbour starts posbridge (SQLite in a temporary directory or a fresh PostgreSQL schema) and
// measures.
func Neighbour(ctx context.Context, o NeighbourOptions) (res NeighbourResult, err error) {
	o.defaults()
	dir, err := os.MkdirTemp(o.DataDir, "posbridge-bench-")
	if err != nil {
		return res, fmt.Errorf("create the bench data dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dbURL := ""
	if o.DatabaseURL != "" {
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
		MaxWorkers: o.MaxWorkers, CallOffAfter: domain.DefaultCallOffAfter, CheckInterval: 15 * time.Minute,
		ProviderTimeout: o.ProviderTimeout, Logger: o.Logger, Stdout: io.Discard})
	if err != nil {
		return res, fmt.Errorf("start posbridge: %w", err)
	}
	if err := a.Start(ctx); err != nil {
		a.Close(context.Background())
		return res, fmt.Errorf("start posbridge: %w", err)
	}
	defer func() {
		// A's calls hang until the provider timeout; the app waits for them.
		cctx, cancel := context.WithTimeout(context.Background(), o.ProviderTimeout+30*time.Second)
		defer cancel()
		if cerr := a.Close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("stop posbridge: %w", cerr)
		}
	}()
	return NeighbourOn(ctx, a, o)
}

// NeighbourOn measures on a running posbridge (the app's workers, provider timeout and database
// are whatever it was started with; o's are only reported). Tests call it on their own app.
func NeighbourOn(ctx context.Context, a *app.App, o NeighbourOptions) (NeighbourResult, error) {
	o.defaults()
	started := time.Now()
	res := NeighbourResult{Database: string(a.Store.Dialect()), CPUs: runtime.NumCPU(), Workers: o.MaxWorkers, NoisyDocs: o.NoisyDocs, Rate: o.Rate}
	res.LoadAvg[0] = loadAvg()
	h := newHarness(a, Options{Timeout: o.Timeout})
	run := randomSuffix()
	noisy, err := h.setup(ctx, "noisy_"+run)
	if err != nil {
		return res, err
	}
	quiet, err := h.setup(ctx, "quiet_"+run)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "alone: %d of B's invoices at %.0f/s, A idle ...\n", o.Docs, o.Rate)
	if res.Alone, err = h.paced(ctx, quiet, "ALONE", o.Docs, o.Rate); err != nil {
		return res, fmt.Errorf("B alone: %w", err)
	}

	// A's POS answers no call from now on, and A's invoices pile up in front of B's.
	if err := h.call(ctx, "", "POST", "/sandbox/admin/faults", map[string]any{"api_key": noisy.sbx, "fail_next": 1000, "status": "timeout"},
		http.StatusOK, nil); err != nil {
		return res, fmt.Errorf("break A's POS: %w", err)
	}
	fmt.Fprintf(o.Progress, "broken neighbour: %d of A's invoices queued, its POS hanging ...\n", o.NoisyDocs)
	noisyDocs := make([]doc, o.NoisyDocs)
	for i := range noisyDocs {
		noisyDocs[i] = doc{ref: fmt.Sprintf("NOISY-%06d", i+1), i: i, t: noisy}
	}
	if err := forEach(ctx, 16, noisyDocs, func(ctx context.Context, d doc) error {
		_, err := h.put(ctx, d.t, d.ref, d.i)
		return err
	}); err != nil {
		return res, fmt.Errorf("queue A's invoices: %w", err)
	}
	// B writes for longer than A's calls take to time out, so that the phase sees both regimes:
	// A's calls hanging (its cap of calls in flight reached) and A's circuit open.
	n := max(o.Docs, int(o.Rate*(o.ProviderTimeout.Seconds()+10)))
	fmt.Fprintf(o.Progress, "broken neighbour: %d of B's invoices at %.0f/s ...\n", n, o.Rate)
	if res.WithBroken, err = h.paced(ctx, quiet, "BROKEN", n, o.Rate); err != nil {
		return res, fmt.Errorf("B with a broken neighbour: %w", err)
	}
	if res.Alone.P50MS > 0 {
		res.RatioP50 = res.WithBroken.P50MS / res.Alone.P50MS
	}
	if res.Alone.P99MS > 0 {
		res.RatioP99 = res.WithBroken.P99MS / res.Alone.P99MS
	}
	var in struct {
		ID      string `json:"id"`
		Circuit struct {
			State string `json:"state"`
		} `json:"circuit"`
	}
	if err := h.call(ctx, noisy.key, "GET", "/api/v1/integrations/"+noisy.integration, nil, http.StatusOK, &in); err != nil {
		return res, err
	}
	res.NoisyCircuit = in.Circuit.State
	os, err := h.orders(ctx, noisy)
	if err != nil {
		return res, err
	}
	res.NoisySynced = len(os)
	res.Seconds = time.Since(started).Seconds()
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// paced PUTs n invoices of t at rate a second (open loop) and returns, over them, the time from
// each write's answer to its order's creation in t's sandbox.
func (h *harness) paced(ctx context.Context, t target, prefix string, n int, rate float64) (Latency, error) {
	lat, err := h.pacedRaw(ctx, t, prefix, n, rate)
	if err != nil {
		return Latency{Docs: n}, err
	}
	return latencyOf(lat), nil
}

// latencyOf is the figures of latencies in milliseconds.
func latencyOf(lat []float64) Latency {
	return Latency{Docs: len(lat), P50MS: percentile(lat, 50), P99MS: percentile(lat, 99), MaxMS: percentile(lat, 100)}
}

// pacedRaw is paced answering each invoice's latency in milliseconds.
func (h *harness) pacedRaw(ctx context.Context, t target, prefix string, n int, rate float64) ([]float64, error) {
	answered := make([]time.Time, n)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	t0 := time.Now()
	refs := make([]string, n)
	for i := range n {
		refs[i] = fmt.Sprintf("%s-%06d", prefix, i+1)
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				wg.Wait()
				return nil, ctx.Err()
			}
		}
		wg.Go(func() {
			at, err := h.put(ctx, t, refs[i], i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			answered[i] = at
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	before, err := h.orders(ctx, t)
	if err != nil {
		return nil, err
	}
	created := map[string]time.Time{}
	for _, o := range before {
		created[o.Reference] = o.CreatedAt
	}
	// Wait until every invoice of the phase has its order.
	err = poll(ctx, h.o.Timeout, 50*time.Millisecond, fmt.Sprintf("%d orders of %s in the sandbox", n, prefix), func() (bool, error) {
		os, err := h.orders(ctx, t)
		if err != nil {
			return false, err
		}
		for _, o := range os {
			created[o.Reference] = o.CreatedAt
		}
		for _, r := range refs {
			if _, ok := created[r]; !ok {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	lat := make([]float64, n)
	for i, r := range refs {
		lat[i] = ms(created[r].Sub(answered[i]))
	}
	return lat, nil
}
