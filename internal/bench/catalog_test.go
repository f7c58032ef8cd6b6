package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/posbridge/posbridge/internal/bench"
)

// TestBenchCatalogCommand runs `posbridge bench catalog` small on SQLite: every product reaches
// the shop in batches of 100, also across the hard stop and the restart, and B's
// latencies of both phases are reported; wrong invocations run nothing.
func TestBenchCatalogCommand(t *testing.T) {
	t.Parallel() // its own data dir or database schema, and its own servers
	noenv := func(string) string { return "" }
	var out bytes.Buffer
	for _, args := range [][]string{{"--products", "0"}, {"extra"}} {
		if err := bench.Command(context.Background(), append([]string{"catalog"}, args...), noenv, &out, &out); err == nil {
			t.Errorf("bench catalog %q: no error", args)
		}
	}
	if testing.Short() {
		t.Skip("runs for a minute or two")
	}
	out.Reset()
	var errs bytes.Buffer
	const n = 150 // two batches: the stop at half falls after the first
	args := []string{"catalog", "--products", "150", "--docs", "8", "--rate", "8", "--data-dir", t.TempDir(), "--json", "--quiet"}
	if err := bench.Command(context.Background(), args, noenv, &out, &errs); err != nil {
		t.Fatalf("bench catalog: %v\n%s", err, errs.String())
	}
	var res bench.CatalogResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	// The Lightspeed simulator's catalog has n products, its Miscellaneous one among them.
	// Each product at most twice (again when its stock arrives after its first push).
	if res.Linked != n || res.PushedProducts < n || res.PushedProducts > 2*n || res.PushCalls > 2*((n+99)/100)+1 ||
		res.PushedAgain != res.PushedProducts-int64(res.Linked) {
		t.Errorf("push: %d linked, %d pushed in %d calls", res.Linked, res.PushedProducts, res.PushCalls)
	}
	if res.Alone.Docs != 8 || res.WithImport.Docs == 0 || res.RatioP99 <= 0 || res.ImportSeconds <= 0 || res.PushSeconds < res.ImportSeconds {
		t.Errorf("figures: %+v", res)
	}
	r := res.Resume
	if r == nil || r.Linked != n || r.StoppedAtPushed < n/2 || r.PushedProducts < n {
		t.Fatalf("resume: %+v", r)
	}
	t.Logf("%s", out.String())
}
