package bench

import (
	"context"
	"io"
	"testing"
)

// TestRunSalesSmall runs `posbridge bench sales` small: the file imports whole, the same file
// again adds nothing, and the schedule's busiest minute stays within 2x the mean.
func TestRunSalesSmall(t *testing.T) {
	t.Parallel() // its own data dir or database schema, and its own servers
	res, err := RunSales(context.Background(), "", t.TempDir(), 1000, 10000, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sales == 0 || res.AgainNew != 0 || res.AgainUpdated != 0 {
		t.Fatalf("%+v", res)
	}
	if res.BusiestOverMean > 2 {
		t.Fatalf("busiest minute %d starts, %.2fx the mean", res.BusiestMinute, res.BusiestOverMean)
	}
	t.Logf("%d lines in %.2fs (%.0f/s); again %.2fs; schedule %.2fx", res.Lines, res.ImportSeconds, res.LinesPerSecond, res.AgainSeconds, res.BusiestOverMean)
}
