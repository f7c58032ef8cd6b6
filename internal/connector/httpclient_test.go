package connector

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestGuardRefusesAtDial: the guard works on the resolved address, so every spelling of
// loopback, the metadata address and a redirect to them are refused before a byte is sent.
func TestGuardRefusesAtDial(t *testing.T) {
	hit := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit++ }))
	defer target.Close()
	port := target.URL[strings.LastIndex(target.URL, ":")+1:]
	c := NewHTTPClient(HTTPOptions{Timeout: 2 * time.Second})
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]", "0.0.0.0", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "10.0.0.1", "169.254.169.254"} {
		// The guard refuses before dialling, so this bound is never reached when it works; it is
		// generous so that a busy machine cannot turn a refusal into a timeout.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+host+":"+port+"/", nil)
		_, err := c.Do(req)
		cancel()
		if err == nil {
			t.Errorf("%s was called", host)
			continue
		}
		if !errors.Is(err, ErrForbiddenHost) && !strings.Contains(err.Error(), "no such host") {
			t.Errorf("%s: refused for another reason: %v", host, err)
		}
	}
	if hit != 0 {
		t.Fatalf("the loopback server was reached %d times", hit)
	}
	// A redirect from an allowed server to loopback is refused too (here: another host).
	open := NewHTTPClient(HTTPOptions{AllowPrivate: true, Timeout: 2 * time.Second})
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer redir.Close()
	if _, err := open.Get(redir.URL); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirect to the metadata address followed: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"3": 3 * time.Second, "2.0": 2 * time.Second, "0.5": 500 * time.Millisecond, "": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	}
	for in, want := range cases {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{First: 100 * time.Millisecond, Max: time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 64: time.Second} {
		if got := b.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	j := Backoff{First: time.Second, Max: 10 * time.Second, Jitter: 0.25}
	for range 100 {
		if d := j.Delay(2); d < 2*time.Second || d >= 2500*time.Millisecond {
			t.Fatalf("Delay(2) with 25%% jitter = %v, want in [2s, 2.5s)", d)
		}
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a done context = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0) = %v", err)
	}
}
