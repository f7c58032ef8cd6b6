package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Usage is the usage of the command.
const Usage = "posbridge bench sync [--database-url URL] [--docs N] [--data-dir DIR] [--json] [--cpuprofile FILE]\n" +
	"       posbridge bench hooks [--database-url URL] [--clients N] [--duration D] [--json] [--cpuprofile FILE]\n" +
	"       posbridge bench sales [--database-url URL] [--lines N] [--integrations N] [--json]\n" +
	"       posbridge bench terminals [--database-url URL] [--terminals N] [--publishes N] [--json]\n" +
	"       posbridge bench catalog [--database-url URL] [--products N] [--docs N] [--rate R] [--no-resume] [--json] [--cpuprofile FILE]"

// Command runs `posbridge bench <args>`: parses the flags, runs the benchmark and prints a short
// table, or one JSON object with --json. Storage flags have no environment twins on purpose: a
// benchmark never picks a database up from the environment (it only ever works in a temporary
// directory or a schema of its own, but it loads the server it is pointed at).
func Command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hooks" {
		return hooksCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sales" {
		return salesCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "terminals" {
		return terminalsCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "catalog" {
		return catalogCommand(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "sync" {
		return errors.New("usage: " + Usage)
	}
	fs := flag.NewFlagSet("bench sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var asJSON, quiet bool
	logLevel := "error"
	if v := getenv("POSBRIDGE_LOG_LEVEL"); v != "" {
		logLevel = v
	}
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&o.DataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&o.Docs, "docs", 5000, "invoices per sync phase (a few seconds of work at least, or the figures are noise)")
	fs.IntVar(&o.Clients, "clients", 16, "concurrent API clients of the maximum-rate phase")
	fs.IntVar(&o.Tenants, "tenants", 1, "accounts, each with its own sandbox integration, the documents are spread over")
	fs.IntVar(&o.MaxWorkers, "max-workers", 50, "the app's background workers (as serve --max-workers)")
	fs.IntVar(&o.MaxConns, "database-max-conns", 40, "the app's PostgreSQL connections (as serve --database-max-conns)")
	fs.IntVar(&o.RiverJobs, "river-jobs", 20000, "no-op jobs of River's own throughput measurement")
	fs.IntVar(&o.RiverWorkers, "river-workers", 0, "workers of River's own throughput measurement (default 2000 on PostgreSQL, 1000 on SQLite)")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "deadline of each phase")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the sync phases to this file (go tool pprof FILE)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&logLevel, "log-level", logLevel, "the app's log level: debug, info, warn or error (POSBRIDGE_LOG_LEVEL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: %s", fs.Args(), Usage)
	}
	if o.Docs < 1 || o.Docs > 9000 {
		// The sandbox caps each tenant at 10,000 orders.
		return errors.New("--docs must be from 1 to 9000")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if !quiet {
		o.Progress = stderr
	}
	res, err := Run(ctx, o)
	if err != nil {
		return fmt.Errorf("bench sync: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return WriteTable(stdout, res)
}

// WriteTable prints the result for people.
func WriteTable(w io.Writer, r Result) error {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	sync := "n/a"
	if r.PeakRSSSyncBytes > 0 {
		sync = mib(r.PeakRSSSyncBytes)
	}
	db := r.Database
	if r.TLS {
		db += " (TLS)"
	}
	_, err := fmt.Fprintf(w, `posbridge bench sync: %s, %d invoices per phase, %d CPUs, %.1f s, load average %.1f -> %.1f

  River no-op, full queue,  %5d workers        %8.0f jobs/s   (%d jobs; insert %.2f s)
  River no-op, full queue,  %5d workers (app)  %8.0f jobs/s   (%d jobs)
  River no-op, fed by %d clients, %d workers (app) %6.0f jobs/s   (%d jobs, one per transaction)
  API writes, %d clients, %d tenant(s)           %8.0f PUT/s
  End to end, %d app workers                     %8.0f docs/s
    = %5.1f%% of River fed like the app (like for like; target >= %.0f%%): %s
    = %5.1f%% of River draining a full queue with the app's workers
    = %5.1f%% of River's ceiling (target >= %.0f%%): %s
    waits for a database connection %d, %.1f s in all
  Latency at %.0f docs/s (offered %.0f/s)
    API answer -> order in sandbox  p50 %6.1f ms   p99 %6.1f ms   max %.1f ms (target p99 <= %.0f ms): %s
    API answer -> document synced   p50 %6.1f ms   p99 %6.1f ms
    the PUT itself                  p50 %6.1f ms   p99 %6.1f ms
  Peak RSS                          %s (sync phases alone: %s)
`, db, r.Docs, r.CPUs, r.Seconds, r.LoadAvg[0], r.LoadAvg[1],
		r.River.Workers, r.River.JobsPerSec, r.River.Jobs, r.River.InsertSeconds,
		r.RiverApp.Workers, r.RiverApp.JobsPerSec, r.RiverApp.Jobs,
		r.RiverFed.Clients, r.RiverFed.Workers, r.RiverFed.JobsPerSec, r.RiverFed.Jobs,
		r.Max.Clients, r.Max.Tenants, r.Max.PutsPerSec,
		r.Max.AppWorkers, r.Max.DocsPerSec,
		100*r.Targets.E2EShareOfRiverFed, 100*r.Targets.E2EShareTarget, met(r.Targets.E2EShareMet),
		100*r.Targets.E2EShareOfRiverApp,
		100*r.Targets.E2EShareOfRiver, 100*r.Targets.E2EShareTarget, met(r.Targets.E2EShareCeilingMet),
		r.Max.DBWaits, r.Max.DBWaitSeconds,
		r.Latency.TargetRate, r.Latency.OfferedRate,
		r.Latency.P50MS, r.Latency.P99MS, r.Latency.MaxMS, r.Targets.P99TargetMS, met(r.Targets.P99Met),
		r.Latency.SyncedP50MS, r.Latency.SyncedP99MS,
		r.Latency.PutP50MS, r.Latency.PutP99MS,
		mib(r.PeakRSSBytes), sync)
	return err
}

// hooksCommand runs `posbridge bench hooks`.
func hooksCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench hooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o HooksOptions
	var asJSON, quiet, noBaseline bool
	logLevel := "error"
	if v := getenv("POSBRIDGE_LOG_LEVEL"); v != "" {
		logLevel = v
	}
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&o.DataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&o.Clients, "clients", 64, "concurrent webhook senders")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each phase")
	fs.BoolVar(&noBaseline, "no-baseline", false, "skip the one-transaction-per-request phase")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the phases to this file (go tool pprof FILE)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&logLevel, "log-level", logLevel, "the app's log level: debug, info, warn or error (POSBRIDGE_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: %s", fs.Args(), Usage)
	}
	if o.Clients < 1 || o.Clients > 4096 {
		return errors.New("--clients must be from 1 to 4096")
	}
	if o.Duration < 100*time.Millisecond || o.Duration > time.Hour {
		return errors.New("--duration must be from 100ms to 1h")
	}
	o.Baseline = !noBaseline
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if !quiet {
		o.Progress = stderr
	}
	res, err := RunHooks(ctx, o)
	if err != nil {
		return fmt.Errorf("bench hooks: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	return WriteHooksTable(stdout, res)
}

// WriteHooksTable prints a bench hooks result for people.
func WriteHooksTable(w io.Writer, r HooksResult) error {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	db := r.Database
	if r.SSLMode != "" {
		db += " (sslmode=" + r.SSLMode + ")"
		if r.TLS {
			db += ", TLS"
		}
	}
	phase := func(name string, p HooksPhase) string {
		return fmt.Sprintf("  %-34s %8.0f webhooks/s   ack p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n"+
			"  %-34s %d sent, %d acked, %d stored, %d lost; %d refused, %d unanswered; all applied after %.1f s (%.0f/s)\n",
			name, p.PerSec, p.AckP50MS, p.AckP99MS, p.AckMaxMS, "", p.Sent, p.Acked, p.Stored, p.Lost, p.Refused, p.Failed, p.AllDoneS, p.AppliedPS)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "posbridge bench hooks: %s, %d CPUs, %.1f s, load average %.1f -> %.1f\n\n", db, r.CPUs, r.Seconds, r.LoadAvg[0], r.LoadAvg[1])
	b.WriteString(phase(fmt.Sprintf("group commit, %d clients", r.Group.Clients), r.Group))
	if r.PerRequest != nil {
		b.WriteString(phase(fmt.Sprintf("one tx per request, %d clients", r.PerRequest.Clients), *r.PerRequest))
		fmt.Fprintf(&b, "    group commit = %.1fx the per-request rate\n", r.Speedup)
	}
	fmt.Fprintf(&b, "  targets: >= %.0f webhooks/s %s; ack p99 <= %.0f ms %s; 0 acked lost %s\n",
		r.Targets.RateTarget, met(r.Targets.RateMet), r.Targets.P99TargetMS, met(r.Targets.P99Met), met(r.Targets.NoneLost))
	_, err := io.WriteString(w, b.String())
	return err
}
