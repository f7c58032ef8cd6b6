package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/posbridge/posbridge/internal/bench"
)

// TestBenchNeighbourCommand runs `posbridge bench neighbour` small on SQLite and checks what it
// reports; wrong invocations run nothing.
func TestBenchNeighbourCommand(t *testing.T) {
	t.Parallel() // its own data dir or database schema, and its own servers
	noenv := func(string) string { return "" }
	var out bytes.Buffer
	for _, args := range [][]string{{"--docs", "0"}, {"--rate", "0"}, {"--noisy-docs", "-1"}, {"--provider-timeout", "10ms"}, {"extra"}} {
		if err := bench.NeighbourCommand(context.Background(), args, noenv, &out, &out); err == nil {
			t.Errorf("bench neighbour %q: no error", args)
		}
	}
	if testing.Short() {
		t.Skip("runs for about 20 s")
	}
	out.Reset()
	var errs bytes.Buffer
	args := []string{"--docs", "10", "--noisy-docs", "100", "--rate", "10", "--provider-timeout", "1s", "--data-dir", t.TempDir(), "--json", "--quiet"}
	if err := bench.NeighbourCommand(context.Background(), args, noenv, &out, &errs); err != nil {
		t.Fatalf("bench neighbour: %v\n%s", err, errs.String())
	}
	var res bench.NeighbourResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decode %s: %v", out.String(), err)
	}
	t.Logf("%+v", res)
	if res.Database != "sqlite" || res.Alone.Docs != 10 || res.WithBroken.Docs != 110 || res.Alone.P99MS <= 0 || res.RatioP99 <= 0 {
		t.Fatalf("result: %+v", res)
	}
	if res.NoisyCircuit != "open" && res.NoisyCircuit != "half_open" {
		t.Fatalf("A's circuit is %q", res.NoisyCircuit)
	}
	if res.NoisySynced != 0 {
		t.Fatalf("%d of A's orders reached its hanging POS", res.NoisySynced)
	}
}
