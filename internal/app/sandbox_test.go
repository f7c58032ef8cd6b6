package app

import (
	"testing"
	"time"
)

// TestFlushWait: a small sandbox tenant is saved a second after a change, a big one a second per
// MiB of state, never later than maxFlushEvery.
func TestFlushWait(t *testing.T) {
	for _, c := range []struct {
		size int
		want time.Duration
	}{{0, time.Second}, {500 << 10, time.Second}, {3 << 20, 3 * time.Second}, {50 << 20, maxFlushEvery}} {
		if got := flushWait(c.size); got != c.want {
			t.Errorf("flushWait(%d) = %s, want %s", c.size, got, c.want)
		}
	}
}
