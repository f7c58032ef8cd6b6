package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// NeighbourUsage is the one-line usage of `posbridge bench neighbour`.
const NeighbourUsage = "posbridge bench neighbour [--database-url URL] [--docs N] [--noisy-docs N] [--rate R] [--provider-timeout D] [--json]"

// NeighbourCommand runs `posbridge bench neighbour <flags>` (args without the command's name) and
// prints B's p50/p99 alone and with a broken neighbour, and their ratio.
func NeighbourCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench neighbour", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o NeighbourOptions
	var asJSON, quiet bool
	logLevel := "error"
	if v := getenv("POSBRIDGE_LOG_LEVEL"); v != "" {
		logLevel = v
	}
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&o.DataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&o.Docs, "docs", 60, "account B's invoices with A idle (with A broken: as many, or enough for the provider timeout and 10 s more)")
	fs.Float64Var(&o.Rate, "rate", 4, "account B's invoices a second")
	fs.IntVar(&o.NoisyDocs, "noisy-docs", 600, "account A's invoices queued while its POS hangs")
	fs.IntVar(&o.MaxWorkers, "max-workers", 50, "the app's background workers (as serve --max-workers)")
	fs.DurationVar(&o.ProviderTimeout, "provider-timeout", 30*time.Second, "how long the app waits for one provider call (serve's is 30s)")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "deadline of each wait")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&logLevel, "log-level", logLevel, "the app's log level: debug, info, warn or error (POSBRIDGE_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: %s", fs.Args(), NeighbourUsage)
	}
	switch {
	case o.Docs < 1 || o.Docs > 9000:
		return errors.New("--docs must be from 1 to 9000")
	case o.NoisyDocs < 1 || o.NoisyDocs > 9000:
		return errors.New("--noisy-docs must be from 1 to 9000")
	case o.Rate <= 0 || o.Rate > 1000:
		return errors.New("--rate must be above 0 and at most 1000")
	case o.ProviderTimeout < time.Second:
		return errors.New("--provider-timeout must be at least 1s")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if !quiet {
		o.Progress = stderr
	}
	res, err := Neighbour(ctx, o)
	if err != nil {
		return fmt.Errorf("bench neighbour: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	_, err = fmt.Fprintf(stdout, `posbridge bench neighbour: %s, %d CPUs, %d app workers, %.1f s, load average %.1f -> %.1f
  account B, %d + %d invoices at %.0f/s, API answer -> order in B's sandbox
    %-38s p50 %7.1f ms   p99 %7.1f ms
    %-38s p50 %7.1f ms   p99 %7.1f ms
    %-38s p50 %7.2f      p99 %7.2f      (target p99 <= 2)
  account A: circuit %s, %d orders reached its POS
`, res.Database, res.CPUs, res.Workers, res.Seconds, res.LoadAvg[0], res.LoadAvg[1],
		res.Alone.Docs, res.WithBroken.Docs, res.Rate, "A idle", res.Alone.P50MS, res.Alone.P99MS,
		fmt.Sprintf("A's POS hanging, %d invoices queued", res.NoisyDocs), res.WithBroken.P50MS, res.WithBroken.P99MS,
		"ratio (A hanging / A idle)", res.RatioP50, res.RatioP99,
		res.NoisyCircuit, res.NoisySynced)
	return err
}
