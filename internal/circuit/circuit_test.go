package circuit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/circuit"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func timeoutErr() error {
	return &connector.Error{Kind: connector.KindTemporary, Message: "POST orders: the provider did not answer in time", Err: context.DeadlineExceeded}
}

// TestBreakerStateMachine walks the breaker through its states with the pure functions.
func TestBreakerStateMachine(t *testing.T) {
	p := circuit.DefaultPolicy()
	c := domain.Circuit{AccountID: "acct", IntegrationID: "int", State: domain.CircuitClosed}
	now := t0
	if d := p.Decide(c, now); !d.Go || d.Trial {
		t.Fatalf("closed: %+v", d)
	}
	// Two failures keep it closed; a success in between starts the count over.
	var opened bool
	c, opened = p.Failure(c, now, domain.CircuitReasonTimeout, false)
	c, _ = p.Failure(c, now, domain.CircuitReasonTimeout, false)
	if opened || c.State != domain.CircuitClosed || c.ConsecutiveFailures != 2 {
		t.Fatalf("after two failures: %+v", c)
	}
	c, closed := p.Success(c, now)
	if closed || c.ConsecutiveFailures != 0 {
		t.Fatalf("a success of a closed circuit: closed=%v %+v", closed, c)
	}
	for i := 1; i <= 3; i++ {
		c, opened = p.Failure(c, now, domain.CircuitReasonTimeout, false)
		if opened != (i == 3) {
			t.Fatalf("failure %d: opened=%v", i, opened)
		}
	}
	if c.State != domain.CircuitOpen || c.Reason != domain.CircuitReasonTimeout || c.OpenFor != 30*time.Second ||
		c.OpenedAt == nil || !c.OpenedAt.Equal(now) || c.NextAttemptAt == nil || !c.NextAttemptAt.Equal(now.Add(30*time.Second)) {
		t.Fatalf("opened: %+v", c)
	}
	if !strings.Contains(c.Message, "did not answer the last 3 calls in time") || !strings.HasSuffix(c.Message, ".") {
		t.Fatalf("merchant message: %q", c.Message)
	}
	// Open: calls wait until the next attempt; a call already out that fails changes nothing else.
	if d := p.Decide(c, now.Add(29*time.Second)); d.Go || !d.Until.Equal(*c.NextAttemptAt) {
		t.Fatalf("open before the next attempt: %+v", d)
	}
	straggler, opened := p.Failure(c, now.Add(time.Second), domain.CircuitReasonTimeout, false)
	if opened || straggler.State != domain.CircuitOpen || !straggler.NextAttemptAt.Equal(*c.NextAttemptAt) || straggler.ConsecutiveFailures != 4 {
		t.Fatalf("a straggler's failure: %+v", straggler)
	}
	// Due: one trial, claimed; the others wait for its lease.
	now = now.Add(30 * time.Second)
	d := p.Decide(c, now)
	if !d.Go || !d.Trial {
		t.Fatalf("due: %+v", d)
	}
	c = p.ClaimTrial(c, now)
	if c.State != domain.CircuitHalfOpen || !c.NextAttemptAt.Equal(now.Add(p.TrialLease)) {
		t.Fatalf("half-open: %+v", c)
	}
	if d := p.Decide(c, now.Add(time.Second)); d.Go {
		t.Fatalf("a second trial while the first is out: %+v", d)
	}
	if d := p.Decide(c, now.Add(p.TrialLease)); !d.Go || !d.Trial {
		t.Fatalf("a trial whose lease ran out is claimed again: %+v", d)
	}
	// A non-trial failure while half-open does not reopen it.
	if x, _ := p.Failure(c, now, domain.CircuitReasonTimeout, false); x.State != domain.CircuitHalfOpen {
		t.Fatalf("a straggler reopened it: %+v", x)
	}
	// Failed trials double the open period up to 10 minutes; no new "opened" entry for them.
	want := []time.Duration{60 * time.Second, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		c, opened = p.Failure(c, now, domain.CircuitReasonServerError, true)
		if opened || c.State != domain.CircuitOpen || c.OpenFor != w || !c.NextAttemptAt.Equal(now.Add(w)) {
			t.Fatalf("failed trial %d: opened=%v %+v, want open for %s", i+1, opened, c, w)
		}
		if !c.OpenedAt.Equal(t0) {
			t.Fatalf("opened_at moved: %v", c.OpenedAt)
		}
		if !strings.Contains(c.Message, "server error") {
			t.Fatalf("message after a 5xx trial: %q", c.Message)
		}
		now = *c.NextAttemptAt
		c = p.ClaimTrial(c, now)
	}
	// A successful trial closes it and the backoff starts over.
	c, closed = p.Success(c, now)
	if !closed || c.State != domain.CircuitClosed || c.ConsecutiveFailures != 0 || c.OpenFor != 0 || c.NextAttemptAt != nil || c.OpenedAt != nil || c.Message != "" {
		t.Fatalf("closed: %v %+v", closed, c)
	}
	for range 3 {
		c, _ = p.Failure(c, now, domain.CircuitReasonConnection, false)
	}
	if c.OpenFor != 30*time.Second || !strings.Contains(c.Message, "could not connect") {
		t.Fatalf("opened again after closing: %+v", c)
	}
}

func TestClassify(t *testing.T) {
	// A real timeout of the shared client against a server that does not answer.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	hc := connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 100 * time.Millisecond})
	_, err := hc.Get(hang.URL)
	realTimeout := connector.TransportError("GET /", err)
	// A refused connection.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	_, err = hc.Get("http://" + addr)
	refused := connector.TransportError("GET /", err)

	for _, tc := range []struct {
		name    string
		err     error
		outcome circuit.Outcome
		reason  string
	}{
		{"nil", nil, circuit.Success, ""},
		{"timeout of the client", realTimeout, circuit.Failure, domain.CircuitReasonTimeout},
		{"timeout wrapped", fmt.Errorf("create order: %w", timeoutErr()), circuit.Failure, domain.CircuitReasonTimeout},
		{"connection refused", refused, circuit.Failure, domain.CircuitReasonConnection},
		{"503", &connector.Error{Kind: connector.KindTemporary, Status: 503}, circuit.Failure, domain.CircuitReasonServerError},
		{"500", &connector.Error{Kind: connector.KindTemporary, Status: 500}, circuit.Failure, domain.CircuitReasonServerError},
		{"429", &connector.Error{Kind: connector.KindRateLimited, Status: 429}, circuit.Success, ""},
		{"401", &connector.Error{Kind: connector.KindCredentials, Status: 401}, circuit.Success, ""},
		{"422", &connector.Error{Kind: connector.KindInvalid, Status: 422}, circuit.Success, ""},
		{"paced by our limiter", &connector.Error{Kind: connector.KindTemporary, Err: &connector.PacedError{Wait: time.Minute}}, circuit.Neutral, ""},
		{"database error", errors.New("database is locked"), circuit.Neutral, ""},
		{"no call", circuit.ErrNoCall, circuit.Neutral, ""},
	} {
		o, r := circuit.Classify(tc.err)
		if o != tc.outcome || r != tc.reason {
			t.Errorf("%s: got %v %q, want %v %q (%v)", tc.name, o, r, tc.outcome, tc.reason, tc.err)
		}
	}
}
