package app_test

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// parallelTests is how many of this package's parallel tests run at once unless -parallel is
// given. Most of a test's time here is spent waiting (on child processes, background jobs, a
// sandbox POS, PostgreSQL), not on CPU, so Go's default (GOMAXPROCS: 2 on a CI box) leaves the
// CPUs idle for most of the run. Each test has its own data directory or database schema and
// its own port; six apps at once on PostgreSQL hold well under its connection limit.
const parallelTests = 6

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if f := flag.Lookup("test.parallel"); f != nil && !explicit {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n < parallelTests {
			if err := flag.Set("test.parallel", strconv.Itoa(parallelTests)); err != nil {
				fmt.Fprintf(os.Stderr, "set -test.parallel: %v\n", err)
				os.Exit(2)
			}
		}
	}
	os.Exit(m.Run())
}
