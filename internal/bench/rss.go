package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// cpuSeconds is the user and system CPU this process has used so far; 0 where getrusage fails.
// On a shared machine it is the fair measure of work: wall-clock rates depend on the load.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakRSS reads this process's peak resident set size (VmHWM) in bytes; 0 where /proc has none.
func peakRSS() int64 { return peakRSSOf("/proc/self/status") }

// peakRSSOf reads the peak resident set size (VmHWM) in bytes of the process whose
// /proc/<pid>/status is path; 0 where it has none.
func peakRSSOf(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: "5" written to /proc/self/clear_refs),
// so the sync phases' peak is not the River measurement's. It reports whether that worked.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// loadAvg reads the machine's 1-minute load average; 0 where /proc has none.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// benchStorage makes a run's storage: a temporary data directory below dataDir and, when dbURL
// is a PostgreSQL URL, a fresh schema there (the URL answered names it; "" is SQLite). cleanup
// removes both.
func benchStorage(ctx context.Context, dataDir, dbURL, prefix string) (dir, url string, cleanup func() error, err error) {
	dir, err = os.MkdirTemp(dataDir, prefix)
	if err != nil {
		return "", "", nil, fmt.Errorf("create the bench data dir: %w", err)
	}
	if dbURL == "" {
		return dir, "", func() error { return os.RemoveAll(dir) }, nil
	}
	u, drop, err := freshSchema(ctx, dbURL)
	if err != nil {
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	return dir, u, func() error { return errors.Join(drop(), os.RemoveAll(dir)) }, nil
}
