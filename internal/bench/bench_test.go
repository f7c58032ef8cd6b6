package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/bench"
)

// TestBenchSyncSmall runs the whole `bench sync` command on SQLite with 20 documents (and a small
// River measurement), so the benchmark keeps working as the engine changes. Figures are not
// asserted; that every phase completed with one order and one synced document per invoice is.
func TestBenchSyncSmall(t *testing.T) {
	t.Parallel() // its own data dir or database schema, and its own servers
	// Generous limits: a few seconds on an idle machine, minutes beside parallel builds.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	noEnv := func(string) string { return "" }
	args := []string{"sync", "--docs", "20", "--tenants", "2", "--river-jobs", "40", "--river-workers", "20",
		"--data-dir", t.TempDir(), "--timeout", "5m", "--json", "--quiet"}
	if err := bench.Command(ctx, args, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("bench sync: %v\nstderr:\n%s", err, stderr.String())
	}
	var r bench.Result
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("output is not one JSON result: %v\n%s", err, stdout.String())
	}
	t.Logf("%s", stdout.String())
	if r.Database != "sqlite" || r.Docs != 20 {
		t.Errorf("database %q docs %d", r.Database, r.Docs)
	}
	if r.River.Jobs != 40 || r.River.JobsPerSec <= 0 || r.RiverApp.JobsPerSec <= 0 {
		t.Errorf("river %+v, river with the app's workers %+v", r.River, r.RiverApp)
	}
	if r.RiverFed.Jobs != 20 || r.RiverFed.Clients != 16 || r.RiverFed.JobsPerSec <= 0 {
		t.Errorf("river fed like the app %+v", r.RiverFed)
	}
	if want := r.Max.DocsPerSec / r.RiverFed.JobsPerSec; r.Targets.E2EShareOfRiverFed != want || r.Targets.E2EShareMet != (want >= 0.4) {
		t.Errorf("like-for-like share %v (met %v), want %v", r.Targets.E2EShareOfRiverFed, r.Targets.E2EShareMet, want)
	}
	if r.Max.Orders != 20 || r.Max.WithHistory != 20 || r.Max.DocsPerSec <= 0 || r.Max.Tenants != 2 {
		t.Errorf("max phase %+v", r.Max)
	}
	if r.Latency.Orders != 20 || r.Latency.P50MS <= 0 || r.Latency.P99MS < r.Latency.P50MS || r.Latency.TargetRate <= 0 {
		t.Errorf("latency phase %+v", r.Latency)
	}
	if r.PeakRSSBytes <= 0 {
		t.Errorf("peak RSS %d", r.PeakRSSBytes)
	}
	var table bytes.Buffer
	if err := bench.WriteTable(&table, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"River no-op", "fed by 16 clients", "End to end", "like for like", "ceiling", "p99", "Peak RSS"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
}

// TestBenchSyncUsage checks that a wrong invocation says how to call it and runs nothing.
func TestBenchSyncUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"nosuch"}, {"sync", "--docs", "0"}, {"sync", "extra"}} {
		if err := bench.Command(context.Background(), args, func(string) string { return "" }, &out, &out); err == nil {
			t.Errorf("bench %q: no error", args)
		}
	}
}
