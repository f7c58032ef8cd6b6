package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/salesimport"
)

// SalesResult is what `posbridge bench sales` measured.
type SalesResult struct {
	Database        string  `json:"database"`
	Lines           int     `json:"lines"`
	Sales           int     `json:"sales"`
	FileBytes       int64   `json:"file_bytes"`
	ImportSeconds   float64 `json:"import_seconds"`
	ImportCPU       float64 `json:"import_cpu_seconds"` // user+system CPU of the process during the import
	LinesPerSecond  float64 `json:"lines_per_second"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	AgainSeconds    float64 `json:"again_seconds"`
	AgainCPU        float64 `json:"again_cpu_seconds"`
	AgainNew        int     `json:"again_new"`
	AgainUpdated    int     `json:"again_updated"`
	Integrations    int     `json:"integrations"`
	BusiestMinute   int     `json:"busiest_minute_starts"`
	MeanPerMinute   float64 `json:"mean_starts_per_minute"`
	BusiestOverMean float64 `json:"busiest_over_mean"`
}

// salesCommand runs `posbridge bench sales`: a CSV sales file of --lines lines imported through
// the email integration's import (streamed, one transaction), then the same file again (it must
// add nothing), and 10,000 integrations' sales fetches scheduled over a simulated day.
func salesCommand(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench sales", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dbURL, dataDir string
	var lines, integrations int
	var asJSON bool
	var cpuprofile string
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the imports to this file")
	fs.StringVar(&dbURL, "database-url", "", "a postgres:// URL: run in a fresh schema there (dropped at the end); empty: SQLite")
	fs.StringVar(&dataDir, "data-dir", "", "where the run's temporary data directory is made (default: the system's temp dir)")
	fs.IntVar(&lines, "lines", 1_000_000, "CSV lines (sale lines) of the file")
	fs.IntVar(&integrations, "integrations", 10_000, "integrations of the scheduling measurement")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stopProfile, err := startProfile(cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	res, err := RunSales(ctx, dbURL, dataDir, lines, integrations, stderr)
	if err != nil {
		return fmt.Errorf("bench sales: %w", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "database            %s\n", res.Database)
	fmt.Fprintf(stdout, "file                %d lines, %d sales, %.1f MiB\n", res.Lines, res.Sales, float64(res.FileBytes)/(1<<20))
	fmt.Fprintf(stdout, "import              %.2f s, %.0f lines/s, peak RSS %.0f MiB\n", res.ImportSeconds, res.LinesPerSecond, float64(res.PeakRSSBytes)/(1<<20))
	fmt.Fprintf(stdout, "  CPU               %.2f s (%.2f s per 100,000 lines, %.0f lines per CPU-second)\n", res.ImportCPU,
		res.ImportCPU*100_000/float64(max(res.Lines, 1)), float64(res.Lines)/max(res.ImportCPU, 1e-9))
	fmt.Fprintf(stdout, "same file again     %.2f s, %d new, %d updated\n", res.AgainSeconds, res.AgainNew, res.AgainUpdated)
	fmt.Fprintf(stdout, "  CPU               %.2f s (%.2f s per 100,000 lines)\n", res.AgainCPU, res.AgainCPU*100_000/float64(max(res.Lines, 1)))
	fmt.Fprintf(stdout, "schedule            %d integrations over a day: busiest minute %d starts, mean %.1f (%.2fx)\n",
		res.Integrations, res.BusiestMinute, res.MeanPerMinute, res.BusiestOverMean)
	return nil
}

// RunSales runs the sales benchmark.
func RunSales(ctx context.Context, dbURL, dataDir string, lines, integrations int, progress io.Writer) (res SalesResult, err error) {
	res.Database, res.Lines, res.Integrations = "sqlite", lines, integrations
	if dbURL != "" {
		res.Database = "postgres"
	}
	dir, dbURL, cleanup, err := benchStorage(ctx, dataDir, dbURL, "posbridge-bench-sales-")
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// The file: about three lines a sale, 500 items, over 30 days.
	path := filepath.Join(dir, "sales.csv")
	f, err := os.Create(path)
	if err != nil {
		return res, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sale_id,sold_at,item,item_id,quantity,unit_price,total,payment_method")
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	sale := 0
	for n := 0; n < lines; sale++ {
		at := start.Add(time.Duration(sale) * 7 * time.Second).Format("2006-01-02 15:04:05")
		for k := 0; k < 1+sale%5 && n < lines; k, n = k+1, n+1 {
			item := (sale*7 + k*13) % 500
			price := 150 + item*5
			qty := 1 + (sale+k)%3
			fmt.Fprintf(w, "R%07d,%s,Item %d,P%03d,%d,%d.%02d,%d.%02d,card\n", sale, at, item, item, qty, price/100, price%100, qty*price/100, qty*price%100)
		}
	}
	if err := w.Flush(); err != nil {
		return res, err
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	res.Sales = sale
	if st, err := os.Stat(path); err == nil {
		res.FileBytes = st.Size()
	}
	a, err := app.New(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL, NoWorkers: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard})
	if err != nil {
		return res, fmt.Errorf("start posbridge: %w", err)
	}
	defer a.Close(context.Background()) //nolint:errcheck // the figures are taken
	acct, err := accounts.Create(ctx, a.Store, "Bench", "bench@example.com")
	if err != nil {
		return res, err
	}
	now := time.Now()
	in := domain.Integration{ID: auth.NewID("int"), AccountID: acct.AccountID, Type: "email", Status: domain.StatusHealthy, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateIntegration(ctx, in, "none", ""); err != nil {
		return res, err
	}
	run := func() (salesimport.Result, float64, float64, error) {
		f, err := os.Open(path)
		if err != nil {
			return salesimport.Result{}, 0, 0, err
		}
		defer f.Close()
		t0, c0 := time.Now(), cpuSeconds()
		_, r, err := a.Sales.ImportCSV(ctx, acct.AccountID, in.ID, "sales.csv", f, salesimport.Mapping{})
		if err == nil && r.Error != "" {
			err = fmt.Errorf("import: %s", r.Error)
		}
		return r, time.Since(t0).Seconds(), cpuSeconds() - c0, err
	}
	resetPeakRSS()
	fmt.Fprintf(progress, "importing %d lines (%d sales) on %s...\n", lines, sale, res.Database)
	r, secs, cpu, err := run()
	if err != nil {
		return res, err
	}
	if r.New != sale {
		return res, fmt.Errorf("imported %d new sales, want %d", r.New, sale)
	}
	res.ImportSeconds, res.ImportCPU, res.LinesPerSecond, res.PeakRSSBytes = secs, cpu, float64(lines)/secs, peakRSS()
	fmt.Fprintf(progress, "the same file again...\n")
	r, secs, cpu, err = run()
	if err != nil {
		return res, err
	}
	res.AgainSeconds, res.AgainCPU, res.AgainNew, res.AgainUpdated = secs, cpu, r.New, r.Updated

	// Scheduling: every integration's fetches (default interval) over one simulated day.
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	perMinute := map[int64]int{}
	starts := 0
	for k := 0; k < integrations; k++ {
		id := auth.NewID("int")
		for t := domain.NextSalesAt(id, domain.DefaultSalesInterval, day.Add(-time.Microsecond)); t.Before(day.Add(24 * time.Hour)); t = domain.NextSalesAt(id, domain.DefaultSalesInterval, t) {
			perMinute[t.Unix()/60]++
			starts++
		}
	}
	for _, c := range perMinute {
		res.BusiestMinute = max(res.BusiestMinute, c)
	}
	res.MeanPerMinute = float64(starts) / (24 * 60)
	if res.MeanPerMinute > 0 {
		res.BusiestOverMean = float64(res.BusiestMinute) / res.MeanPerMinute
	}
	return res, nil
}
