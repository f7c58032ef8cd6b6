package connector_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// TestLimiterMaxWait: under WithMaxWait a wait longer than the bound is a *PacedError at once
// (a worker snoozes instead of sleeping); a shorter one waits as before.
func TestLimiterMaxWait(t *testing.T) {
	l := connector.NewLimiter(1, 1)
	bounded := connector.WithMaxWait(context.Background(), 3*time.Second)
	if err := l.Wait(bounded); err != nil {
		t.Fatalf("first call: %v", err)
	}
	start := time.Now()
	err := l.Wait(connector.WithMaxWait(context.Background(), 100*time.Millisecond))
	var paced *connector.PacedError
	if !errors.As(err, &paced) || paced.Wait < 500*time.Millisecond || paced.Wait > time.Second {
		t.Fatalf("a 1 s wait with a 100 ms bound: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("the paced answer took %s; it should not wait", d)
	}
	if err := l.Wait(bounded); err != nil { // about 1 s: within the bound, it waits
		t.Fatalf("a wait within the bound: %v", err)
	}
	l.Pause(time.Minute) // a provider's Retry-After
	err = l.Wait(bounded)
	if !errors.As(err, &paced) || paced.Wait < 50*time.Second {
		t.Fatalf("after a Retry-After of a minute: %v", err)
	}
	// A connector wraps it; callers still find it.
	wrapped := &connector.Error{Kind: connector.KindTemporary, Message: "waiting for the rate limiter", Err: err}
	if !errors.As(wrapped, &paced) {
		t.Fatal("the paced error is lost in the connector's error")
	}
	var nilLimiter *connector.Limiter
	if err := nilLimiter.Wait(bounded); err != nil {
		t.Fatalf("no limiter: %v", err)
	}
}

// TestHandshakeTimeoutShorterThanReadTimeout: a host that takes the connection but never speaks
// TLS fails after the 5 s handshake bound, not after the 30 s answer timeout.
func TestHandshakeTimeoutShorterThanReadTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the handshake timeout")
	}
	if connector.DialTimeout >= 30*time.Second {
		t.Fatalf("DialTimeout %s is not shorter than the read timeout", connector.DialTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }() // silent
		}
	}()
	hc := connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 30 * time.Second})
	if tr, ok := hc.Transport.(*http.Transport); !ok || tr.TLSHandshakeTimeout != connector.DialTimeout {
		t.Fatalf("transport: %#v", hc.Transport)
	}
	start := time.Now()
	_, err = hc.Get("https://" + ln.Addr().String() + "/")
	took := time.Since(start)
	if err == nil || took < connector.DialTimeout-time.Second || took > connector.DialTimeout+10*time.Second {
		t.Fatalf("GET of a silent TLS host: %v after %s; want a failure after about %s", err, took, connector.DialTimeout)
	}
}
