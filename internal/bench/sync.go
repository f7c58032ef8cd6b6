package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/store"
)

// harness drives a running posbridge over HTTP.
type harness struct {
	app  *app.App
	base string
	o    Options
	hc   *http.Client
}

func newHarness(a *app.App, o Options) *harness {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256, // keep every client's connection: no churn through ephemeral ports
		IdleConnTimeout:     time.Minute,
	}
	return &harness{app: a, base: a.URL(), o: o, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// call sends one request (body JSON-encoded unless nil), wants the status and decodes the answer
// into out when it is not nil.
func (h *harness) call(ctx context.Context, key, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := h.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, res.StatusCode, want, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// target is an account with a healthy Sandbox POS integration and automatic sync on.
type target struct {
	key         string // the account's API key
	sbx         string // the sandbox's api key
	integration string // the sandbox integration's id
}

// sandboxKey is the api key of the Sandbox POS tenant an account's integration uses. It is the
// one place that says how a bench gets one.
func (h *harness) sandboxKey(ctx context.Context, apiKey, _ string) (string, error) {
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if err := h.call(ctx, apiKey, "POST", "/sandbox/admin/tenants", nil, http.StatusCreated, &tenant); err != nil {
		return "", fmt.Errorf("mint a sandbox: %w", err)
	}
	return tenant.APIKey, nil
}

// setup creates an account, a sandbox integration (waiting until it is healthy) and the order
// sync settings (auto_sync on, invoices synced when created). Each phase has its own, so one
// phase's orders do not weigh on the next one's sandbox.
func (h *harness) setup(ctx context.Context, name string) (target, error) {
	c, err := accounts.Create(ctx, h.app.Store, "Bench "+name, name+"@bench.test")
	if err != nil {
		return target{}, fmt.Errorf("create the bench account: %w", err)
	}
	t := target{key: c.APIKey}
	if t.sbx, err = h.sandboxKey(ctx, c.APIKey, name); err != nil {
		return t, fmt.Errorf("a sandbox for the bench account: %w", err)
	}
	var in struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := h.call(ctx, t.key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Bench",
		"credentials": map[string]string{"api_key": t.sbx}}, http.StatusCreated, &in); err != nil {
		return t, fmt.Errorf("add the sandbox integration: %w", err)
	}
	id := in.ID
	t.integration = id
	// The integration turns healthy with its first check, queued when it is added. A check that
	// fails (on a busy machine the sandbox's answer can take longer than a short provider
	// timeout) schedules the next only a check interval later (minutes): a failed one is asked
	// for again at once, through the API, at most every 2 s, so the wait lasts as long as the
	// checks fail, not a check interval. The limit is an outer one.
	var asked time.Time
	if err := poll(ctx, 5*time.Minute, 20*time.Millisecond, "the sandbox integration to be healthy", func() (bool, error) {
		if err := h.call(ctx, t.key, "GET", "/api/v1/integrations/"+id, nil, http.StatusOK, &in); err != nil {
			return false, err
		}
		if in.Status == "failed" && time.Since(asked) > 2*time.Second {
			asked = time.Now()
			// Its outcome is the integration's status, read at the next look.
			_ = h.call(ctx, t.key, "POST", "/api/v1/integrations/"+id+"/check", nil, http.StatusOK, nil)
		}
		return in.Status == "healthy", nil
	}); err != nil {
		return t, err
	}
	if err := h.call(ctx, t.key, "PUT", "/api/v1/order-sync", map[string]any{"integration_id": id, "auto_sync": true,
		"sync_on_invoice_created": true}, http.StatusOK, nil); err != nil {
		return t, fmt.Errorf("save the order sync settings: %w", err)
	}
	return t, nil
}

// doc is one document of a phase and the account it belongs to.
type doc struct {
	ref string
	i   int
	t   target
}

// setupAll sets up the phase's accounts (Options.Tenants of them) and spreads its documents over
// them in turn.
func (h *harness) setupAll(ctx context.Context, phase, prefix string) ([]target, []doc, error) {
	ts := make([]target, h.o.Tenants)
	for k := range ts {
		var err error
		if ts[k], err = h.setup(ctx, fmt.Sprintf("%s_%d", phase, k+1)); err != nil {
			return nil, nil, err
		}
	}
	docs := make([]doc, h.o.Docs)
	for i := range docs {
		docs[i] = doc{ref: fmt.Sprintf("%s-%06d", prefix, i+1), i: i, t: ts[i%len(ts)]}
	}
	return ts, docs, nil
}

// allOrders waits until each account's sandbox holds its documents' orders, and returns them all.
func (h *harness) allOrders(ctx context.Context, ts []target, n int) ([]sbxOrder, error) {
	var all []sbxOrder
	for k, t := range ts {
		want := n / len(ts)
		if k < n%len(ts) {
			want++
		}
		os, err := h.waitOrders(ctx, t, want)
		all = append(all, os...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// poll calls cond every interval until it holds, fails, or the deadline passes.
func poll(ctx context.Context, within, interval time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", within, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// invoiceBody is an issued invoice of two lines, different for each document.
func invoiceBody(i int) map[string]any {
	return map[string]any{"status": "issued",
		"customer": map[string]any{"name": fmt.Sprintf("Rider %d", i), "email": fmt.Sprintf("rider%d@bench.test", i)},
		"lines": []map[string]any{
			{"description": "Full service", "quantity": "1", "unit_price": map[string]any{"amount": 8900 + i%100, "currency": "EUR"}, "tax_rate": "21"},
			{"description": "Chain", "product_ref": "CHAIN-11", "quantity": "2", "unit_price": map[string]any{"amount": 3495, "currency": "EUR"}},
		}}
}

// put writes invoice ref and returns when its answer was read.
func (h *harness) put(ctx context.Context, t target, ref string, i int) (time.Time, error) {
	err := h.call(ctx, t.key, "PUT", "/api/v1/documents/invoice/"+ref, invoiceBody(i), http.StatusCreated, nil)
	return time.Now(), err
}

// sbxOrder is an order as the sandbox admin route lists it.
type sbxOrder struct {
	ID        string    `json:"id"`
	Reference string    `json:"reference"`
	CreatedAt time.Time `json:"created_at"`
}

func (h *harness) orders(ctx context.Context, t target) ([]sbxOrder, error) {
	var out []sbxOrder
	err := h.call(ctx, "", "GET", "/sandbox/admin/orders?api_key="+t.sbx, nil, http.StatusOK, &out)
	return out, err
}

// waitOrders polls the sandbox until it holds n orders, and returns them.
func (h *harness) waitOrders(ctx context.Context, t target, n int) ([]sbxOrder, error) {
	var os []sbxOrder
	err := poll(ctx, h.o.Timeout, 200*time.Millisecond, fmt.Sprintf("%d orders in the sandbox", n), func() (bool, error) {
		var err error
		os, err = h.orders(ctx, t)
		return len(os) >= n, err
	})
	if err != nil {
		return nil, fmt.Errorf("%w (%d there)", err, len(os))
	}
	if len(os) != n {
		return os, fmt.Errorf("the sandbox holds %d orders for %d documents", len(os), n)
	}
	seen := make(map[string]bool, n)
	for _, o := range os {
		if seen[o.Reference] {
			return os, fmt.Errorf("two orders for document %s", o.Reference)
		}
		seen[o.Reference] = true
	}
	return os, nil
}

// docState is what the end-to-end check reads of a document.
type docState struct {
	Sync struct {
		Status       string     `json:"status"`
		ExternalID   string     `json:"external_id"`
		LastSyncedAt *time.Time `json:"last_synced_at"`
		LastError    string     `json:"last_error"`
	} `json:"sync"`
}

type historyEntry struct {
	Action  string `json:"action"`
	Outcome string `json:"outcome"`
}

// confirm waits until every document is synced with the successful create in its history, and
// returns each one's last_synced_at. Reading happens after the measured window; the figures use
// the server's last_synced_at, so the polling does not count.
func (h *harness) confirm(ctx context.Context, docs []doc) (map[string]time.Time, int, error) {
	synced := make(map[string]time.Time, len(docs))
	var mu sync.Mutex
	var withHistory atomic.Int64
	err := forEach(ctx, 8, docs, func(ctx context.Context, dc doc) error {
		ref, t := dc.ref, dc.t
		var d docState
		err := poll(ctx, h.o.Timeout, 50*time.Millisecond, "invoice "+ref+" to be synced", func() (bool, error) {
			if err := h.call(ctx, t.key, "GET", "/api/v1/documents/invoice/"+ref, nil, http.StatusOK, &d); err != nil {
				return false, err
			}
			if d.Sync.Status == "failed" {
				return false, fmt.Errorf("invoice %s failed to sync: %s", ref, d.Sync.LastError)
			}
			return d.Sync.Status == "synced" && d.Sync.LastSyncedAt != nil, nil
		})
		if err != nil {
			return err
		}
		var hist struct {
			Data []historyEntry `json:"data"`
		}
		if err := h.call(ctx, t.key, "GET", "/api/v1/documents/invoice/"+ref+"/sync-history", nil, http.StatusOK, &hist); err != nil {
			return err
		}
		if slices.ContainsFunc(hist.Data, func(e historyEntry) bool { return e.Action == "create" && e.Outcome == "ok" }) {
			withHistory.Add(1)
		} else {
			return fmt.Errorf("invoice %s is synced but its history holds no successful create: %+v", ref, hist.Data)
		}
		mu.Lock()
		synced[ref] = *d.Sync.LastSyncedAt
		mu.Unlock()
		return nil
	})
	return synced, int(withHistory.Load()), err
}

// forEach runs fn for every item with n at once and returns the first error.
func forEach[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, items[i]); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return ctx.Err()
}

// maxPhase PUTs the documents as fast as the clients go and measures until the last one is synced.
func (h *harness) maxPhase(ctx context.Context) (MaxResult, error) {
	res := MaxResult{Clients: h.o.Clients, AppWorkers: h.o.MaxWorkers, Tenants: h.o.Tenants}
	ts, docs, err := h.setupAll(ctx, "max", "MAX")
	if err != nil {
		return res, err
	}
	waits0, wait0 := h.dbWaits()
	t0 := time.Now()
	if err := forEach(ctx, h.o.Clients, docs, func(ctx context.Context, d doc) error {
		_, err := h.put(ctx, d.t, d.ref, d.i)
		return err
	}); err != nil {
		return res, fmt.Errorf("max phase: %w", err)
	}
	res.PutSeconds = time.Since(t0).Seconds()
	res.PutsPerSec = float64(len(docs)) / res.PutSeconds
	os, err := h.allOrders(ctx, ts, len(docs))
	res.Orders = len(os)
	if err != nil {
		return res, fmt.Errorf("max phase: %w", err)
	}
	synced, withHistory, err := h.confirm(ctx, docs)
	res.WithHistory = withHistory
	if err != nil {
		return res, fmt.Errorf("max phase: %w", err)
	}
	var last time.Time
	for _, at := range synced {
		if at.After(last) {
			last = at
		}
	}
	waits1, wait1 := h.dbWaits()
	res.DBWaits, res.DBWaitSeconds = waits1-waits0, (wait1 - wait0).Seconds()
	res.E2ESeconds = last.Sub(t0).Seconds()
	res.DocsPerSec = float64(len(docs)) / res.E2ESeconds
	return res, nil
}

// latencyPhase PUTs the documents at rate per second (open loop: each write starts on its
// schedule whether or not earlier ones were answered, up to 256 at once) and measures, for each,
// the time from the write's answer to the order's creation in the sandbox (its created_at).
func (h *harness) latencyPhase(ctx context.Context, rate float64) (LatResult, error) {
	res := LatResult{TargetRate: rate}
	if rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return res, fmt.Errorf("latency phase: no rate to pace at (%v)", rate)
	}
	ts, docs, err := h.setupAll(ctx, "latency", "LAT")
	if err != nil {
		return res, err
	}
	answered := make([]time.Time, len(docs))
	putDur := make([]time.Duration, len(docs))
	interval := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	t0 := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i, d := range docs {
		if wait := time.Until(t0.Add(time.Duration(i) * interval)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				wg.Wait()
				return res, ctx.Err()
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			at, err := h.put(ctx, d.t, d.ref, d.i)
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			answered[i], putDur[i] = at, at.Sub(start)
		})
	}
	wg.Wait()
	if firstErr != nil {
		return res, fmt.Errorf("latency phase: %w", firstErr)
	}
	res.OfferedRate = float64(len(docs)) / time.Since(t0).Seconds()
	os, err := h.allOrders(ctx, ts, len(docs))
	res.Orders = len(os)
	if err != nil {
		return res, fmt.Errorf("latency phase: %w", err)
	}
	synced, _, err := h.confirm(ctx, docs)
	if err != nil {
		return res, fmt.Errorf("latency phase: %w", err)
	}
	created := make(map[string]time.Time, len(os))
	for _, o := range os {
		created[o.Reference] = o.CreatedAt
	}
	lat := make([]float64, 0, len(docs))
	syncLat := make([]float64, 0, len(docs))
	puts := make([]float64, 0, len(docs))
	for i, d := range docs {
		c, ok := created[d.ref]
		if !ok {
			return res, fmt.Errorf("latency phase: no sandbox order for invoice %s", d.ref)
		}
		lat = append(lat, ms(c.Sub(answered[i])))
		syncLat = append(syncLat, ms(synced[d.ref].Sub(answered[i])))
		puts = append(puts, ms(putDur[i]))
	}
	res.P50MS, res.P99MS, res.MaxMS = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	res.SyncedP50MS, res.SyncedP99MS = percentile(syncLat, 50), percentile(syncLat, 99)
	res.PutP50MS, res.PutP99MS = percentile(puts, 50), percentile(puts, 99)
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the nearest-rank percentile p (0 < p <= 100) of v (sorted in place).
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	rank := int(math.Ceil(p / 100 * float64(len(v))))
	return v[min(max(rank, 1), len(v))-1]
}

// dbWaits reads how often, and how long in all, the app's queries have waited for a database
// connection: on SQLite the one connection River's driver asks for, on PostgreSQL the pool.
func (h *harness) dbWaits() (int64, time.Duration) {
	st := h.app.Store
	if st.Dialect() == store.Postgres {
		ps := st.Pool().Stat()
		return ps.EmptyAcquireCount(), ps.EmptyAcquireWaitTime()
	}
	ds := st.SQLDB().Stats()
	return ds.WaitCount, ds.WaitDuration
}
