package app_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/bench"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestNoisyNeighbour: one account's dead POS does not hold up another account's orders, on both
// databases. Two accounts, each with a Sandbox POS and Automatic Sync on; account A's POS answers
// no call (sandbox fault "timeout") and 600 of A's invoices are queued; account B's invoices must
// still reach B's POS with a p99 at most twice B's p99 with A idle, measured in the same test. The
// provider timeout is 2 s here (30 s in serve) so that A's circuit opens during the measurement,
// not after it.
//
// On a busy machine a ratio of two small latencies is noisy, so the bound has a tolerance: the
// p99 with A broken may exceed twice the one alone by at most 750 ms. Starvation, what the issue
// saw, is B's invoice not synced after 120 s (a ratio in the thousands): that still fails.
// On an overloaded machine (a load average over twice the CPUs during the measurement, such
// as parallel builds beside the suite) latencies say more about the machine than about posbridge:
// the ratio is then logged and not judged; what must hold at any load is still checked (every
// invoice of B synced, A's circuit open, no order in A's POS). `posbridge bench neighbour`
// measures the ratio on a quiet machine.
func TestNoisyNeighbour(t *testing.T) {
	// Serial: it measures B's latencies and judges their ratio; other tests running beside it
	// would be noise the ratio cannot tell from A's.
	if testing.Short() {
		t.Skip("measures for tens of seconds")
	}
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		logs := &syncBuffer{}
		e := start(t, db, func(c *app.Config) {
			c.ProviderTimeout = 2 * time.Second
			// Debug logs of 600 snoozing jobs would weigh on the measurement.
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		res, err := bench.NeighbourOn(ctx, e.app, bench.NeighbourOptions{Docs: 100, Rate: 10, NoisyDocs: 600, MaxWorkers: 50,
			ProviderTimeout: 2 * time.Second, Timeout: 4 * time.Minute})
		if err != nil {
			t.Fatalf("measure: %v", err)
		}
		t.Logf("%s: B alone p50 %.1f ms p99 %.1f ms; with A broken p50 %.1f ms p99 %.1f ms; ratio p50 %.2f p99 %.2f; A's circuit %s, A's orders %d; load %.1f -> %.1f",
			res.Database, res.Alone.P50MS, res.Alone.P99MS, res.WithBroken.P50MS, res.WithBroken.P99MS, res.RatioP50, res.RatioP99,
			res.NoisyCircuit, res.NoisySynced, res.LoadAvg[0], res.LoadAvg[1])
		if load, cpus := max(res.LoadAvg[0], res.LoadAvg[1]), float64(runtime.NumCPU()); load > 2*cpus {
			t.Logf("the p99 ratio is not judged: load average %.1f on %.0f CPUs", load, cpus)
		} else if limit := 2*res.Alone.P99MS + 750; res.WithBroken.P99MS > limit {
			t.Errorf("B's p99 with A broken is %.1f ms, over 2 x %.1f ms (+750 ms tolerance): B is held up by A", res.WithBroken.P99MS, res.Alone.P99MS)
		}
		if res.NoisyCircuit != "open" && res.NoisyCircuit != "half_open" {
			t.Errorf("A's circuit is %q after its POS timed out on every call; want open", res.NoisyCircuit)
		}
		if res.NoisySynced != 0 {
			t.Errorf("A's hanging POS holds %d orders", res.NoisySynced)
		}
		if !strings.Contains(logs.String(), "circuit opened") {
			t.Errorf("no circuit opening was logged")
		}
		for _, l := range strings.Split(logs.String(), "\n") {
			// River's leader election may time out on a machine this loaded; it elects again.
			if strings.Contains(l, "level=ERROR") && !strings.Contains(l, "leadership.Elector") {
				t.Errorf("logged: %s", l)
				break
			}
		}
	})
}
