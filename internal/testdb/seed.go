package testdb

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// seed is the files one fill function left in a fresh directory, read once per test process.
type seed struct {
	once  sync.Once
	files map[string][]byte
	err   error
}

var seeds sync.Map // key -> *seed

// Seed puts into dir copies of the files that fill wrote into an empty directory, unless dir
// already holds one of them (a test starting a second time on the same data). fill runs once
// per test process for each key; its files are kept in memory. Tests use it to start on a
// SQLite database that is already migrated: the result is the same file that migrating dir
// itself would give, without running the migrations again for every test (under -race the
// SQLite engine takes seconds of CPU for them).
func Seed(t testing.TB, dir, key string, fill func(dir string) error) {
	t.Helper()
	v, _ := seeds.LoadOrStore(key, &seed{})
	s := v.(*seed)
	s.once.Do(func() {
		tmp, err := os.MkdirTemp("", "posbridge-seed-")
		if err != nil {
			s.err = err
			return
		}
		defer os.RemoveAll(tmp)
		if s.err = fill(tmp); s.err != nil {
			return
		}
		entries, err := os.ReadDir(tmp)
		if err != nil {
			s.err = err
			return
		}
		s.files = map[string][]byte{}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(tmp, e.Name()))
			if err != nil {
				s.err = err
				return
			}
			s.files[e.Name()] = b
		}
	})
	if s.err != nil {
		t.Fatalf("seed %s: %v", key, s.err)
	}
	for name := range s.files {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("seed %s: %v", key, err)
	}
	for name, b := range s.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatalf("seed %s: %v", key, err)
		}
	}
}
