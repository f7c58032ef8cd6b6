package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// env is one running posbridge for a test, with a transcript of every API answer and log line.
type env struct {
	t      *testing.T
	app    *app.App
	url    string
	logs   *syncBuffer
	mu     sync.Mutex
	bodies bytes.Buffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, db testdb.Target, tweak func(*app.Config)) *env {
	t.Helper()
	storetest.Migrated(t, db)
	logs := &syncBuffer{}
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: db.DataDir, DatabaseURL: db.DatabaseURL,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		SMTP:   notify.SMTPConfig{}, AllowPrivate: true}
	if tweak != nil {
		tweak(&cfg)
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Logf("close: %v", err)
		}
	})
	return &env{t: t, app: a, url: a.URL(), logs: logs}
}

func (e *env) account(name, email string) accounts.Created {
	e.t.Helper()
	c, err := accounts.Create(context.Background(), e.app.Store, name, email)
	if err != nil {
		e.t.Fatalf("create account: %v", err)
	}
	return c
}

type resp struct {
	Status int
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (r resp) errCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %s", r.Body)
	}
	s, _ := e["code"].(string)
	return s
}

func (r resp) errField(t *testing.T) string {
	e, _ := r.json(t)["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

// call sends a request with the API key; body is JSON-encoded unless it is a string or []byte.
func (e *env) call(key, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	e.mu.Lock()
	e.bodies.Write(b)
	e.mu.Unlock()
	return resp{Status: res.StatusCode, Body: b}
}

func (e *env) must(status int, r resp) resp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("want HTTP %d, got %d: %s", status, r.Status, r.Body)
	}
	return r
}

// waitStatus polls an integration until it has the status, or fails after a deadline.
func (e *env) waitStatus(key, id, status string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(scenarioWait)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id, nil)).json(e.t)
		if last["status"] == status {
			return last
		}
		time.Sleep(25 * time.Millisecond)
	}
	e.t.Fatalf("integration %s never reached %s; last %v", id, status, last)
	return nil
}

// waitFor polls cond until it holds, or fails after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, scenarioWait, what, cond)
}

// logUnfinishedJobs logs River's jobs that have not ended, with their last error: where the
// work a test timed out on waits.
func logUnfinishedJobs(t *testing.T, db *sql.DB) {
	t.Helper()
	rs, err := db.QueryContext(context.Background(), `SELECT id, kind, state, attempt, args, errors FROM river_job
		WHERE state NOT IN ('completed', 'cancelled', 'discarded') ORDER BY id`)
	if err != nil {
		t.Logf("River jobs: %v", err)
		return
	}
	defer rs.Close()
	for rs.Next() {
		var id, attempt int64
		var kind, state string
		var args, errs []byte
		if err := rs.Scan(&id, &kind, &state, &attempt, &args, &errs); err != nil {
			t.Logf("River jobs: %v", err)
			return
		}
		if len(errs) > 600 {
			errs = errs[len(errs)-600:]
		}
		t.Logf("River job %d %s %s: %s, attempt %d, errors %s", id, kind, args, state, attempt, errs)
	}
}

// waitWithin is waitFor with a deadline of its own (figures of bulk work on a busy machine).
func waitWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// salesQuiet fetches the integration's sales now (its first fetch otherwise follows the add on
// the next sweep, at a time of its own) and waits until no sales fetch is queued or running: a
// fetch calls the POS, so it would take a sandbox fault that a test injects for something else,
// and a failed fetch counts against the integration's health. The next fetch is hours away.
func (e *env) salesQuiet(key, integrationID string) {
	e.t.Helper()
	// The integration's next scheduled fetch is put a day away first: a new integration that the
	// sweep has not scheduled yet is fetched at once by it, which could come at any moment of the
	// test otherwise. A fetch the sweep queued before this is waited out below.
	ctx := context.Background()
	i, err := e.app.Store.IntegrationByID(ctx, integrationID)
	if err != nil {
		e.t.Fatalf("read integration %s: %v", integrationID, err)
	}
	next := time.Now().Add(24 * time.Hour)
	if err := e.app.Store.SetSalesSchedule(ctx, i.AccountID, i.ID, i.SalesIntervalMinutes, &next); err != nil {
		e.t.Fatalf("schedule the sales of %s: %v", integrationID, err)
	}
	e.must(200, e.call(key, "POST", "/api/v1/integrations/"+integrationID+"/refresh-sales", nil))
	waitFor(e.t, "no sales fetch queued or running", func() bool {
		var n int
		err := e.app.Store.SQLDB().QueryRowContext(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'fetch_sales'
			AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`).Scan(&n)
		if err != nil {
			e.t.Fatalf("count sales fetches: %v", err)
		}
		return n == 0
	})
}

// sandboxKey mints a Sandbox POS key for the account, as POST /sandbox/admin/tenants does, without
// its answer reaching the transcript of API answers.
func (e *env) sandboxKey(accountID string) string {
	e.t.Helper()
	k, err := e.app.MintSandbox(context.Background(), accountID)
	if err != nil {
		e.t.Fatalf("mint a sandbox: %v", err)
	}
	return k
}

func (e *env) fault(apiKey string, n int, status any) {
	e.t.Helper()
	e.must(200, e.call("", "POST", "/sandbox/admin/faults", map[string]any{"api_key": apiKey, "fail_next": n, "status": status}))
}

func (e *env) clearFaults(apiKey string) {
	e.t.Helper()
	e.call("", "DELETE", "/sandbox/admin/faults?api_key="+apiKey, nil)
}

func (e *env) timelineKinds(key, integrationID string) []string {
	e.t.Helper()
	r := e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=500&integration_id="+integrationID, nil)).json(e.t)
	var kinds []string
	for _, x := range r["data"].([]any) {
		kinds = append(kinds, x.(map[string]any)["kind"].(string))
	}
	return kinds
}
