package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/bench"
)

// TestBenchHooksSmall runs the whole `bench hooks` command briefly, so that it keeps working: on
// SQLite, and on PostgreSQL when POSBRIDGE_TEST_DATABASE_URL names one. Rates are not asserted
// (a shared machine); that every acknowledged webhook was stored, and that both phases ran, is.
func TestBenchHooksSmall(t *testing.T) {
	t.Parallel() // its own data dir or database schema, and its own servers
	urls := []string{""}
	if u := os.Getenv("POSBRIDGE_TEST_DATABASE_URL"); u != "" {
		urls = append(urls, u)
	}
	for _, u := range urls {
		name := "sqlite"
		if u != "" {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			args := []string{"hooks", "--clients", "8", "--duration", "700ms", "--data-dir", t.TempDir(), "--json", "--quiet"}
			if u != "" {
				args = append(args, "--database-url", u)
			}
			if err := bench.Command(ctx, args, func(string) string { return "" }, &stdout, &stderr); err != nil {
				t.Fatalf("bench hooks: %v\nstderr:\n%s", err, stderr.String())
			}
			var r bench.HooksResult
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("output is not one JSON result: %v\n%s", err, stdout.String())
			}
			t.Logf("%s", stdout.String())
			if r.Database != name || (u != "" && r.SSLMode == "") {
				t.Errorf("database %q sslmode %q", r.Database, r.SSLMode)
			}
			for label, p := range map[string]*bench.HooksPhase{"group commit": &r.Group, "per request": r.PerRequest} {
				if p == nil {
					t.Fatalf("no %s phase", label)
				}
				if p.Acked == 0 || p.Stored != p.Acked || p.Lost != 0 || p.Refused+p.Failed != 0 || p.PerSec <= 0 || p.AckP99MS < p.AckP50MS {
					t.Errorf("%s phase %+v", label, *p)
				}
				if p.AppliedPS <= 0 || p.AllDoneS < p.Seconds {
					t.Errorf("%s phase: the stored events were not all applied: %+v", label, *p)
				}
			}
			if r.Speedup <= 0 || !r.Targets.NoneLost || r.Targets.RateTarget != 5000 || r.Targets.P99TargetMS != 100 {
				t.Errorf("speedup %v, targets %+v", r.Speedup, r.Targets)
			}
			var table bytes.Buffer
			if err := bench.WriteHooksTable(&table, r); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"group commit", "one tx per request", "webhooks/s", "p99", "0 lost"} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("the table lacks %q:\n%s", want, table.String())
				}
			}
		})
	}
}

// TestBenchHooksUsage checks that a wrong invocation says how to call it and runs nothing.
func TestBenchHooksUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"hooks", "--clients", "0"}, {"hooks", "--duration", "1ns"}, {"hooks", "extra"}} {
		if err := bench.Command(context.Background(), args, func(string) string { return "" }, &out, &out); err == nil {
			t.Errorf("bench %q: no error", args)
		}
	}
}
