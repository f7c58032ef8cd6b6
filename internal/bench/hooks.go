package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// `posbridge bench hooks` measures inbound webhooks at the rate a big sale day brings:
// the real app on loopback, an account with a Sandbox POS integration, and many clients posting
// correctly signed sandbox webhooks (Sandbox-Signature, HMAC-SHA256 with the integration's own
// webhook secret) to /hooks/{integration_id} over real HTTP, each a new event. A webhook counts
// when it was answered 2xx; the rate is the events stored in the database at the end (counted
// there, not trusted from the answers) over the phase's time. The apply job drains the stored
// events meanwhile, as it would in production (they name orders no document is linked to, so
// each is looked up and marked ignored).
//
// Two phases on the same server, so that the figures are ratios measured in one run: group
// commit (the product: concurrent requests share transactions) and the baseline, one
// transaction per request (Service.SetGroupCommit(false)), each with its own integration.

// HooksOptions tune one run of bench hooks.
type HooksOptions struct {
	DatabaseURL string        // postgres://... runs on PostgreSQL in a fresh schema; empty: SQLite
	DataDir     string        // parent of the run's temporary data directory
	Clients     int           // concurrent webhook senders (default 64)
	Duration    time.Duration // length of each phase (default 10s)
	Baseline    bool          // also run the one-transaction-per-request phase (default on in the command)
	CPUProfile  string        // write a CPU profile of the phases to this file
	Logger      *slog.Logger
	Progress    io.Writer
}

// HooksResult is what a run measured; --json prints it as one object.
type HooksResult struct {
	Database string     `json:"database"`
	SSLMode  string     `json:"sslmode,omitempty"`      // PostgreSQL: the URL's sslmode (libpq's default "prefer" when absent)
	TLS      bool       `json:"database_tls,omitempty"` // PostgreSQL: the connections are encrypted
	Started  time.Time  `json:"started_at"`
	Seconds  float64    `json:"seconds"`
	CPUs     int        `json:"cpus"`
	LoadAvg  [2]float64 `json:"load_avg"`

	Group      HooksPhase  `json:"group_commit"`
	PerRequest *HooksPhase `json:"per_request_commit,omitempty"` // the baseline
	Speedup    float64     `json:"speedup,omitempty"`            // group commit ÷ per-request, webhooks/s

	Targets HooksTargets `json:"targets"`
}

// HooksPhase is one phase's figures.
type HooksPhase struct {
	Clients   int     `json:"clients"`
	Seconds   float64 `json:"seconds"` // from the first request to the last answer
	Sent      int     `json:"sent"`
	Acked     int     `json:"acked"`      // answered 2xx
	Refused   int     `json:"refused"`    // answered otherwise
	Failed    int     `json:"failed"`     // no answer (transport error)
	Stored    int     `json:"stored"`     // rows in webhook_events at the end
	Lost      int     `json:"lost"`       // acked but not stored (must be 0)
	PerSec    float64 `json:"per_sec"`    // stored ÷ seconds: verified and stored webhooks per second
	AckP50MS  float64 `json:"ack_p50_ms"` // request sent -> 2xx answer read
	AckP99MS  float64 `json:"ack_p99_ms"`
	AckMaxMS  float64 `json:"ack_max_ms"`
	Applied   int     `json:"applied"`         // applied (or found to need nothing) by the last answer
	AllDoneS  float64 `json:"all_applied_s"`   // from the first request until every stored event was applied
	AppliedPS float64 `json:"applied_per_sec"` // stored ÷ all_applied_s
}

// HooksTargets are the targets and whether this run met them.
type HooksTargets struct {
	RateTarget  float64 `json:"rate_target"` // 5000 webhooks/s
	RateMet     bool    `json:"rate_met"`
	P99TargetMS float64 `json:"p99_target_ms"` // 100
	P99Met      bool    `json:"p99_met"`
	NoneLost    bool    `json:"none_lost"`
}

func (o *HooksOptions) defaults() {
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// RunHooks runs bench hooks once.
func RunHooks(ctx context.Context, o HooksOptions) (res HooksResult, err error) {
	o.defaults()
	started := time.Now()
	res = HooksResult{Database: "sqlite", Started: started.UTC(), CPUs: runtime.NumCPU()}
	res.LoadAvg[0] = loadAvg()
	dir, err := os.MkdirTemp(o.DataDir, "posbridge-bench-hooks-")
	if err != nil {
		return res, fmt.Errorf("create the bench data dir: %w", err)
	}
	defer os.RemoveAll(dir)
	dbURL := ""
	if o.DatabaseURL != "" {
		res.Database = "postgres"
		res.SSLMode = "prefer"
		if u, err := url.Parse(o.DatabaseURL); err == nil && u.Query().Get("sslmode") != "" {
			res.SSLMode = u.Query().Get("sslmode")
		}
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
		CallOffAfter: domain.DefaultCallOffAfter, CheckInterval: 15 * time.Minute, Logger: o.Logger, Stdout: io.Discard})
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
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return res, err
	}
	defer func() {
		if perr := stopProfile(); perr != nil && err == nil {
			err = perr
		}
	}()
	h := newHarness(a, Options{})
	fmt.Fprintf(o.Progress, "hooks: group commit, %d clients, %s ...\n", o.Clients, o.Duration)
	if res.Group, err = h.hooksPhase(ctx, "group", o); err != nil {
		return res, err
	}
	if o.Baseline {
		fmt.Fprintf(o.Progress, "hooks: one transaction per request, %d clients, %s ...\n", o.Clients, o.Duration)
		a.Sync.SetGroupCommit(false)
		p, err := h.hooksPhase(ctx, "per_request", o)
		a.Sync.SetGroupCommit(true)
		if err != nil {
			return res, err
		}
		res.PerRequest = &p
	}
	if res.PerRequest != nil && res.PerRequest.PerSec > 0 {
		res.Speedup = res.Group.PerSec / res.PerRequest.PerSec
	}
	res.Seconds = time.Since(started).Seconds()
	res.LoadAvg[1] = loadAvg()
	res.Targets = HooksTargets{RateTarget: 5000, P99TargetMS: 100}
	res.Targets.RateMet = res.Group.PerSec >= res.Targets.RateTarget
	res.Targets.P99Met = res.Group.AckP99MS <= res.Targets.P99TargetMS
	res.Targets.NoneLost = res.Group.Lost == 0 && (res.PerRequest == nil || res.PerRequest.Lost == 0)
	return res, nil
}

// hooksTarget is an account's sandbox integration and the secret its webhooks are signed with.
type hooksTarget struct {
	accountID, integrationID, secret string
}

func (h *harness) hooksSetup(ctx context.Context, name string) (hooksTarget, error) {
	c, err := accounts.Create(ctx, h.app.Store, "Bench "+name, name+"@bench.test")
	if err != nil {
		return hooksTarget{}, fmt.Errorf("create the bench account: %w", err)
	}
	sbx, err := h.sandboxKey(ctx, c.APIKey, "hooks_"+name)
	if err != nil {
		return hooksTarget{}, err
	}
	var in struct {
		ID string `json:"id"`
	}
	if err := h.call(ctx, c.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Bench " + name,
		"credentials": map[string]string{"api_key": sbx}}, http.StatusCreated, &in); err != nil {
		return hooksTarget{}, fmt.Errorf("add the sandbox integration: %w", err)
	}
	i, err := h.app.Lifecycle.Get(ctx, c.AccountID, in.ID)
	if err != nil {
		return hooksTarget{}, err
	}
	secret, err := h.app.Lifecycle.WebhookSecret(ctx, i)
	if err != nil {
		return hooksTarget{}, err
	}
	return hooksTarget{accountID: c.AccountID, integrationID: in.ID, secret: secret}, nil
}

// appendHookBody appends a sandbox order.completed webhook body, a new event for each (client, n).
func appendHookBody(b []byte, phase string, client, n int, now time.Time) []byte {
	b = fmt.Appendf(b, `{"created_at":%q,"data":{"object":{"id":"ord_%d_%d","reference":"INV-%d-%d","state":"completed"}},"id":"evt_%s_%d_%d","type":"order.completed"}`,
		now.UTC().Format(time.RFC3339Nano), client, n, client, n, phase, client, n)
	return b
}

// hookSender posts webhooks over one kept-alive HTTP/1.1 connection, written and read directly
// (as a load generator such as wrk does) rather than through net/http's Transport, whose
// per-connection goroutines would take a good share of the two cores the server is measured on.
// The answers are still parsed by net/http.
type hookSender struct {
	addr, path string
	conn       net.Conn
	r          *bufio.Reader
	w          *bufio.Writer
}

func (s *hookSender) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// post sends one webhook and answers the status and, for a refusal, the body. A broken
// connection is dropped and the next post dials again.
func (s *hookSender) post(body []byte, sig string) (int, []byte, error) {
	if s.conn == nil {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			return 0, nil, err
		}
		s.conn, s.r, s.w = c, bufio.NewReaderSize(c, 4096), bufio.NewWriterSize(c, 4096)
	}
	fmt.Fprintf(s.w, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		s.path, s.addr, sandbox.SignatureHeader, sig, len(body))
	s.w.Write(body) //nolint:errcheck // Flush reports it
	if err := s.w.Flush(); err != nil {
		s.close()
		return 0, nil, err
	}
	res, err := http.ReadResponse(s.r, nil)
	if err != nil {
		s.close()
		return 0, nil, err
	}
	var answer []byte
	if res.StatusCode/100 != 2 {
		answer, err = io.ReadAll(res.Body)
	} else {
		_, err = io.Copy(io.Discard, res.Body)
	}
	res.Body.Close()
	if err != nil || res.Close {
		s.close()
	}
	return res.StatusCode, answer, err
}

func (h *harness) hooksPhase(ctx context.Context, phase string, o HooksOptions) (HooksPhase, error) {
	p := HooksPhase{Clients: o.Clients}
	t, err := h.hooksSetup(ctx, phase)
	if err != nil {
		return p, err
	}
	path := h.base + "/hooks/" + t.integrationID
	type tally struct {
		sent, acked, refused, failed int
		lat                          []float64
		firstErr                     string
	}
	tallies := make([]tally, o.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	until := start.Add(o.Duration)
	u, err := url.Parse(path)
	if err != nil {
		return p, err
	}
	for c := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl := &tallies[c]
			fail := func(msg string) {
				if tl.firstErr == "" {
					tl.firstErr = msg
				}
			}
			snd := &hookSender{addr: u.Host, path: u.Path}
			defer snd.close()
			var body []byte
			for n := 0; time.Now().Before(until) && ctx.Err() == nil; n++ {
				body = appendHookBody(body[:0], phase, c, n, time.Now())
				sig := sandbox.Sign(t.secret, time.Now(), body)
				t0 := time.Now()
				tl.sent++
				status, answer, err := snd.post(body, sig)
				if err != nil {
					tl.failed++
					fail(err.Error())
					continue
				}
				if status/100 != 2 {
					tl.refused++
					fail(fmt.Sprintf("HTTP %d %s", status, bytes.TrimSpace(answer)))
					continue
				}
				tl.acked++
				tl.lat = append(tl.lat, ms(time.Since(t0)))
			}
		}()
	}
	wg.Wait()
	p.Seconds = time.Since(start).Seconds()
	var lat []float64
	firstErr := ""
	for _, tl := range tallies {
		p.Sent, p.Acked, p.Refused, p.Failed = p.Sent+tl.sent, p.Acked+tl.acked, p.Refused+tl.refused, p.Failed+tl.failed
		lat = append(lat, tl.lat...)
		if firstErr == "" {
			firstErr = tl.firstErr
		}
	}
	total, pending, err := h.app.Store.CountWebhookEvents(ctx, t.accountID, t.integrationID)
	if err != nil {
		return p, err
	}
	p.Stored, p.Applied = total, total-pending
	p.Lost = max(0, p.Acked-p.Stored)
	p.PerSec = float64(p.Stored) / p.Seconds
	// The apply job drains the rest before the next phase starts, so that phases do not share
	// the machine with each other's backlog. Every request was answered, so every intake has
	// committed: the integration's drain closes when its apply job finds nothing pending under
	// the intake lock, and that is what the bench waits for, with a primary-key probe of
	// webhook_drains. A look for a pending event would step over the pending index's entries
	// of every event applied so far (kept until a vacuum, which any long transaction on the
	// server holds off) and, 20 times a second, take the database's CPU from the drain.
	if err := poll(ctx, 5*time.Minute, 50*time.Millisecond, "the stored webhooks to be applied", func() (bool, error) {
		open, err := h.app.Store.OpenWebhookDrains(ctx, []string{t.integrationID})
		return !open[t.integrationID], err
	}); err != nil {
		return p, err
	}
	if more, err := h.app.Store.HasPendingWebhookEvents(ctx, t.accountID, t.integrationID); err != nil || more {
		return p, fmt.Errorf("the apply job closed its drain with events still pending (%v)", err)
	}
	p.AllDoneS = time.Since(start).Seconds()
	p.AppliedPS = float64(p.Stored) / p.AllDoneS
	p.AckP50MS, p.AckP99MS = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		p.AckMaxMS = lat[len(lat)-1]
	}
	if p.Refused+p.Failed > 0 {
		fmt.Fprintf(o.Progress, "hooks %s: %d refused, %d without answer; the first: %s\n", phase, p.Refused, p.Failed, firstErr)
	}
	return p, nil
}
