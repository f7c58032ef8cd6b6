package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// `posbridge bench terminals` measures Save and Publish reaching POS terminals: the real
// server (`posbridge serve`, in a child process of its own so that its peak RSS is its own) on
// loopback, one store with many paired terminals, each long-polling GET /terminal/v1/config over
// its own HTTP connection as the /terminal/ page does. The account's publish delay is 0, so what
// is measured is posbridge's own path: the publish request sent -> the delivery job -> every
// long-poll answered with the new version. The baseline, in the same run on the same server, is
// one terminal of another store; the figures are per terminal and per publish (all terminals).

// TerminalsOptions tune one run.
type TerminalsOptions struct {
	DatabaseURL string // postgres://... runs on PostgreSQL in a fresh schema; empty: SQLite
	DataDir     string
	Terminals   int // paired terminals of the measured store (default 1000)
	Publishes   int // publishes of each phase (default 5)
	Timeout     time.Duration
	Logger      *slog.Logger
	Progress    io.Writer
}

// TerminalsResult is what a run measured; --json prints it as one object.
type TerminalsResult struct {
	Database string     `json:"database"`
	Started  time.Time  `json:"started_at"`
	Seconds  float64    `json:"seconds"`
	CPUs     int        `json:"cpus"`
	LoadAvg  [2]float64 `json:"load_avg"`

	Baseline TerminalsPhase `json:"baseline"` // one terminal
	Fleet    TerminalsPhase `json:"fleet"`    // --terminals terminals
	// P99Ratio is the fleet's p99 over the baseline's: what the fan-out costs.
	P99Ratio float64 `json:"p99_ratio"`
	// ServerPeakRSSBytes is the server's own peak RSS: posbridge serve runs in a child process
	// of its own (VmHWM read just before it is stopped); ServerRSSMet: at most 150 MB.
	ServerPeakRSSBytes int64 `json:"server_peak_rss_bytes"`
	ServerRSSMet       bool  `json:"server_rss_met"`
	// PeakRSSBytes is this process's peak RSS: the terminals' clients alone.
	PeakRSSBytes int64 `json:"clients_peak_rss_bytes"`
	Errors       int64 `json:"errors"` // requests answered other than 200, or not answered
	P99Met       bool  `json:"p99_met"`
}

// TerminalsPhase is one phase's figures.
type TerminalsPhase struct {
	Terminals int     `json:"terminals"`
	Publishes int     `json:"publishes"`
	P50MS     float64 `json:"p50_ms"` // publish sent -> a terminal has the version, over every terminal and publish
	P99MS     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
	AllP50MS  float64 `json:"all_p50_ms"` // publish sent -> the last terminal has it, over publishes
	AllMaxMS  float64 `json:"all_max_ms"`
	Polls     int64   `json:"polls"` // long-poll requests made during the phase
}

func (o *TerminalsOptions) defaults() {
	if o.Terminals <= 0 {
		o.Terminals = 1000
	}
	if o.Publishes <= 0 {
		o.Publishes = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// terminalsCommand runs `posbridge bench terminals`.
func terminalsCommand(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench terminals", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o TerminalsOptions
	var asJSON bool
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&o.DataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&o.Terminals, "terminals", 1000, "paired terminals long-polling the measured store")
	fs.IntVar(&o.Publishes, "publishes", 5, "publishes of each phase")
	fs.DurationVar(&o.Timeout, "timeout", time.Minute, "how long one publish may take to reach every terminal")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Terminals < 1 || o.Terminals > 20000 {
		return fmt.Errorf("--terminals must be from 1 to 20000")
	}
	o.Progress = stderr
	res, err := RunTerminals(ctx, o)
	if err != nil {
		return fmt.Errorf("bench terminals: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	met, rssMet := "met", "met"
	if !res.P99Met {
		met = "MISSED"
	}
	if !res.ServerRSSMet {
		rssMet = "MISSED"
	}
	_, err = fmt.Fprintf(stdout, `posbridge bench terminals: %s, %d CPUs, %.1f s, load average %.1f -> %.1f
  publish sent -> terminal has it     p50 %7.1f ms   p99 %7.1f ms   max %7.1f ms
    baseline, 1 terminal              p50 %7.1f ms   p99 %7.1f ms   (%d publishes)
    %d terminals                    p50 %7.1f ms   p99 %7.1f ms   (%d publishes; p99 %.2fx the baseline; target p99 <= 2000 ms: %s)
  publish sent -> all %d have it      p50 %7.1f ms   max %7.1f ms
  errors %d; server peak RSS %.1f MiB (%.0f MB; posbridge serve in its own process; target <= 150 MB: %s)
  the terminals' clients (this process) peak RSS %.1f MiB
`, res.Database, res.CPUs, res.Seconds, res.LoadAvg[0], res.LoadAvg[1],
		res.Fleet.P50MS, res.Fleet.P99MS, res.Fleet.MaxMS,
		res.Baseline.P50MS, res.Baseline.P99MS, res.Baseline.Publishes,
		res.Fleet.Terminals, res.Fleet.P50MS, res.Fleet.P99MS, res.Fleet.Publishes, res.P99Ratio, met,
		res.Fleet.Terminals, res.Fleet.AllP50MS, res.Fleet.AllMaxMS,
		res.Errors, float64(res.ServerPeakRSSBytes)/(1<<20), float64(res.ServerPeakRSSBytes)/1e6, rssMet, float64(res.PeakRSSBytes)/(1<<20))
	return err
}

// RunTerminals runs bench terminals once.
func RunTerminals(ctx context.Context, o TerminalsOptions) (res TerminalsResult, err error) {
	o.defaults()
	started := time.Now()
	res = TerminalsResult{Database: "sqlite", Started: started.UTC(), CPUs: runtime.NumCPU()}
	res.LoadAvg[0] = loadAvg()
	dir, err := os.MkdirTemp(o.DataDir, "posbridge-bench-terminals-")
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
	srv, err := startServerProcess(ctx, dir, dbURL, o.Logger)
	if err != nil {
		return res, err
	}
	defer func() {
		res.ServerPeakRSSBytes = srv.peakRSS()
		if serr := srv.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        o.Terminals + 64,
		MaxIdleConnsPerHost: o.Terminals + 64, // each terminal keeps its connection, as a device would
		IdleConnTimeout:     2 * time.Minute,
	}
	defer tr.CloseIdleConnections()
	h := &harness{base: srv.base, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	c := struct{ APIKey string }{srv.apiKey}
	if err := h.call(ctx, c.APIKey, "PUT", "/api/v1/back-office/settings", map[string]any{"publish_delay_seconds": 0}, http.StatusOK, nil); err != nil {
		return res, err
	}
	var errs atomic.Int64
	fmt.Fprintf(o.Progress, "terminals: baseline, 1 terminal, %d publishes ...\n", o.Publishes)
	if res.Baseline, err = terminalsPhase(ctx, h, c.APIKey, "baseline", 1, o, &errs); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Progress, "terminals: %d terminals, %d publishes ...\n", o.Terminals, o.Publishes)
	if res.Fleet, err = terminalsPhase(ctx, h, c.APIKey, "fleet", o.Terminals, o, &errs); err != nil {
		return res, err
	}
	if res.Baseline.P99MS > 0 {
		res.P99Ratio = res.Fleet.P99MS / res.Baseline.P99MS
	}
	res.Errors = errs.Load()
	res.PeakRSSBytes = peakRSS()
	res.ServerPeakRSSBytes = srv.peakRSS()
	res.ServerRSSMet = res.ServerPeakRSSBytes > 0 && res.ServerPeakRSSBytes <= 150e6
	res.P99Met = res.Fleet.P99MS <= 2000
	res.Seconds = time.Since(started).Seconds()
	res.LoadAvg[1] = loadAvg()
	return res, nil
}

// terminalsPhase pairs n terminals with the store, starts their long-polls, publishes
// o.Publishes times and measures when each terminal has each version.
func terminalsPhase(ctx context.Context, h *harness, key, storeID string, n int, o TerminalsOptions, errs *atomic.Int64) (TerminalsPhase, error) {
	ph := TerminalsPhase{Terminals: n, Publishes: o.Publishes}
	publish := func(price int) (time.Time, int64, error) {
		draft := map[string]any{"content": map[string]any{"currency": "EUR", "products": []any{
			map[string]any{"id": "espresso", "name": "Espresso", "sku": "ESP", "price": price}}}}
		if err := h.call(ctx, key, "PUT", "/api/v1/back-office/draft?store_id="+storeID, draft, http.StatusOK, nil); err != nil {
			return time.Time{}, 0, err
		}
		sent := time.Now()
		var out struct {
			Version int64 `json:"version"`
		}
		err := h.call(ctx, key, "POST", "/api/v1/back-office/publish", map[string]any{"store_id": storeID}, http.StatusCreated, &out)
		return sent, out.Version, err
	}
	// A first version, so that terminals start from it.
	if _, _, err := publish(200); err != nil {
		return ph, err
	}
	tokens := make([]string, n)
	for i := range tokens {
		var code struct {
			Code string `json:"code"`
		}
		if err := h.call(ctx, key, "POST", "/api/v1/terminals/pairing-codes", map[string]any{"store_id": storeID}, http.StatusCreated, &code); err != nil {
			return ph, err
		}
		var paired struct {
			Token string `json:"token"`
		}
		if err := h.call(ctx, "", "POST", "/terminal/v1/pair", map[string]any{"code": code.Code, "name": "Till " + strconv.Itoa(i+1)}, http.StatusCreated, &paired); err != nil {
			return ph, err
		}
		tokens[i] = paired.Token
	}

	// got[v] receives, for version v, the time each terminal had it.
	var mu sync.Mutex
	got := map[int64][]time.Time{}
	var polling, polls atomic.Int64
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var have int64
			var cur struct {
				Version int64 `json:"version"`
			}
			if err := h.terminalCall(pctx, tok, "POST", "/terminal/v1/sync", &cur); err != nil {
				errs.Add(1)
				return
			}
			have = cur.Version
			first := true
			for pctx.Err() == nil {
				if first {
					polling.Add(1)
					first = false
				}
				var cfg struct {
					Version int64 `json:"version"`
					Changed bool  `json:"changed"`
				}
				polls.Add(1)
				err := h.terminalCall(pctx, tok, "GET", "/terminal/v1/config?since_version="+strconv.FormatInt(have, 10), &cfg)
				if pctx.Err() != nil {
					return
				}
				if err != nil {
					errs.Add(1)
					time.Sleep(100 * time.Millisecond) // a device backs off before asking again
					continue
				}
				if cfg.Changed && cfg.Version > have {
					now := time.Now()
					have = cfg.Version
					mu.Lock()
					got[have] = append(got[have], now)
					mu.Unlock()
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	deadline := time.Now().Add(o.Timeout)
	for polling.Load() < int64(n) {
		if time.Now().After(deadline) {
			return ph, fmt.Errorf("only %d of %d terminals started polling", polling.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // every long-poll has reached the server and waits
	polls0 := polls.Load()
	var lat, all []float64
	for p := 0; p < o.Publishes; p++ {
		sent, v, err := publish(300 + p)
		if err != nil {
			return ph, err
		}
		deadline := time.Now().Add(o.Timeout)
		for {
			mu.Lock()
			k := len(got[v])
			mu.Unlock()
			if k >= n {
				break
			}
			if time.Now().After(deadline) {
				return ph, fmt.Errorf("version %d reached %d of %d terminals within %s", v, k, n, o.Timeout)
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		last := 0.0
		for _, at := range got[v] {
			d := ms(at.Sub(sent))
			lat = append(lat, d)
			last = max(last, d)
		}
		mu.Unlock()
		all = append(all, last)
	}
	ph.Polls = polls.Load() - polls0
	ph.P50MS, ph.P99MS, ph.MaxMS = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	ph.AllP50MS, ph.AllMaxMS = percentile(all, 50), percentile(all, 100)
	return ph, nil
}

// terminalCall sends a terminal API request with the device token and decodes a 200 answer.
func (h *harness) terminalCall(ctx context.Context, token, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := h.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s: HTTP %d %s", method, path, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// serverProcess is `posbridge serve` in a child process: this executable, on loopback, with
// the run's storage; its first start's account is the bench's.
type serverProcess struct {
	cmd    *exec.Cmd
	base   string
	apiKey string
	done   chan error
	stderr *tailBuffer
}

// startServerProcess starts `posbridge serve` (this executable) on a free loopback port with
// the data directory and database, and waits for its first start's console URL and API key.
func startServerProcess(ctx context.Context, dir, dbURL string, log *slog.Logger) (*serverProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the posbridge executable: %w", err)
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--no-sandbox", "--log-level", "error"}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd, done: make(chan error, 1), stderr: &tailBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start posbridge serve: %w", err)
	}
	urlRe := regexp.MustCompile(`console:\s+(http://\S+)/login`)
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				p.base = m[1]
			}
			if m := keyRe.FindStringSubmatch(line); m != nil {
				p.apiKey = m[1]
				close(ready)
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case <-ready:
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("posbridge serve ended before it was ready (%v): %s", err, p.stderr.String())
	case <-time.After(2 * time.Minute):
	case <-ctx.Done():
	}
	cmd.Process.Kill()
	<-p.done
	return nil, fmt.Errorf("posbridge serve was not ready within 2 minutes: %s", p.stderr.String())
}

// peakRSS is the server process's peak RSS so far (VmHWM); 0 when it cannot be read.
func (p *serverProcess) peakRSS() int64 {
	return peakRSSOf("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
}

// stop asks the server to stop (SIGTERM) and waits for it; after 30 s it is killed.
func (p *serverProcess) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("posbridge serve did not stop within 30 s of SIGTERM")
	}
}

// tailBuffer keeps the last 4 KiB written to it (a child's stderr, for an error message).
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
