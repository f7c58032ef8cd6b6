// Package circuit keeps one merchant's slow or failing POS from holding the workers every
// merchant shares. Each integration gets two guards around its provider calls:
//
//   - a cap on the calls in flight at once in this process (Policy.MaxInFlight, 8 by default):
//     a job that finds the cap reached does not wait for a slot, it snoozes (river.JobSnooze)
//     for about as long as the oldest call in flight has been out;
//   - a circuit breaker whose state lives in the database (table integration_circuits), so every
//     worker process sees it: after Policy.Threshold consecutive timeouts, 5xx answers or
//     connection errors it opens for Policy.OpenFor (30 s), during which the integration's jobs
//     snooze until next_attempt_at instead of calling; then one trial call, claimed atomically in
//     the database (half_open), decides: an answer closes the circuit, another failure opens it
//     again for twice as long, up to Policy.MaxOpenFor (10 min).
//
// Opening and closing are timeline entries (integration.circuit_opened, integration.circuit_closed)
// written in the same transaction as the state, and the state carries a sentence for the merchant.
//
// The state machine itself (Policy.Decide, ClaimTrial, Failure, Success, Classify) is pure; Guard
// adds the storage, the in-flight counting and a short-lived cache of the shared state, so that a
// healthy integration's call costs no database round trip at all.
package circuit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Policy tunes the breaker and the in-flight cap.
type Policy struct {
	Threshold   int           // consecutive failures that open the circuit (default 3)
	OpenFor     time.Duration // the first open period (default 30 s)
	MaxOpenFor  time.Duration // the open period doubles after each failed trial, up to this (default 10 min)
	TrialLease  time.Duration // how long a half-open trial's claim holds before another job may try (default 1 min)
	MaxInFlight int           // provider calls in flight per integration in one process (default 8)
	// CapWait is how long a job over the cap waits for a slot before it snoozes, and only while
	// the integration's calls answer quickly (the oldest out for less than this; default 250 ms):
	// a burst to a fast POS goes on without a snooze of a second, a hanging POS holds no worker.
	CapWait time.Duration
	// CacheFor is how long a process trusts its last look at the shared state before it reads it
	// again (default 1 s): a healthy call costs no round trip, and another process's opening is
	// seen within this.
	CacheFor time.Duration
}

// DefaultPolicy is the policy of a posbridge process.
func DefaultPolicy() Policy {
	return Policy{Threshold: 3, OpenFor: 30 * time.Second, MaxOpenFor: 10 * time.Minute, TrialLease: time.Minute,
		MaxInFlight: 8, CapWait: 250 * time.Millisecond, CacheFor: time.Second}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.Threshold <= 0 {
		p.Threshold = d.Threshold
	}
	if p.OpenFor <= 0 {
		p.OpenFor = d.OpenFor
	}
	if p.MaxOpenFor < p.OpenFor {
		p.MaxOpenFor = max(d.MaxOpenFor, p.OpenFor)
	}
	if p.TrialLease <= 0 {
		p.TrialLease = d.TrialLease
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = d.MaxInFlight
	}
	if p.CacheFor <= 0 {
		p.CacheFor = d.CacheFor
	}
	if p.CapWait <= 0 {
		p.CapWait = d.CapWait
	}
	return p
}

// Outcome is what one call tells the breaker.
type Outcome int

// Outcomes of a call.
const (
	Neutral Outcome = iota // nothing learnt about the POS (no call made, or our own error)
	Success                // the POS answered (even with a refusal: it is there)
	Failure                // timeout, 5xx or no connection
)

// Classify tells what err, the result of a provider call, says about the POS, and for a failure
// the reason (domain.CircuitReason*).
func Classify(err error) (Outcome, string) {
	if err == nil {
		return Success, ""
	}
	var paced *connector.PacedError
	if errors.As(err, &paced) {
		return Neutral, "" // our own rate limiter held the call back: the POS was not asked
	}
	var ce *connector.Error
	if !errors.As(err, &ce) {
		if errors.Is(err, context.DeadlineExceeded) {
			return Failure, domain.CircuitReasonTimeout
		}
		return Neutral, "" // not a provider error: the database, a decryption, ...
	}
	switch {
	case ce.Kind != connector.KindTemporary:
		return Success, "" // a refusal, a rate limit, a 404: the POS answered
	case ce.Status >= 500:
		return Failure, domain.CircuitReasonServerError
	case ce.Status == 408:
		return Failure, domain.CircuitReasonTimeout
	case ce.Status != 0:
		return Success, ""
	case isTimeout(ce):
		return Failure, domain.CircuitReasonTimeout
	case ce.Err != nil:
		return Failure, domain.CircuitReasonConnection
	default:
		return Success, "" // a temporary error of an answer we could not read: the POS is there
	}
}

func isTimeout(ce *connector.Error) bool {
	var ne net.Error
	if errors.As(ce.Err, &ne) && ne.Timeout() || errors.Is(ce.Err, context.DeadlineExceeded) {
		return true
	}
	return strings.Contains(ce.Message, "did not answer in time")
}

// Decision is whether a call may go now.
type Decision struct {
	Go    bool      // call now
	Trial bool      // as the half-open trial (the caller must claim it first: ClaimTrial)
	Until time.Time // !Go: not before this
}

// Decide tells whether a call may go with the circuit in state c.
func (p Policy) Decide(c domain.Circuit, now time.Time) Decision {
	switch c.State {
	case domain.CircuitOpen, domain.CircuitHalfOpen:
		if c.NextAttemptAt != nil && now.Before(*c.NextAttemptAt) {
			return Decision{Until: *c.NextAttemptAt}
		}
		return Decision{Go: true, Trial: true}
	}
	return Decision{Go: true}
}

// DecideManual is Decide for a call a person asked for (Retry, Re-sync in the console or the
// API): an open circuit lets it go at once as the trial, without waiting for the next attempt;
// while another trial is out it waits like any call.
func (p Policy) DecideManual(c domain.Circuit, now time.Time) Decision {
	if c.State == domain.CircuitOpen {
		return Decision{Go: true, Trial: true}
	}
	return p.Decide(c, now)
}

// ClaimTrial turns a due open circuit into a half-open one whose trial is out until the lease runs
// out (a trial whose process died is claimed again after that).
func (p Policy) ClaimTrial(c domain.Circuit, now time.Time) domain.Circuit {
	p = p.withDefaults()
	next := now.Add(p.TrialLease)
	c.State, c.NextAttemptAt, c.UpdatedAt = domain.CircuitHalfOpen, &next, now
	c.Message = "posbridge is trying the POS again with one call; your other documents wait for its answer and are then sent."
	return c
}

// Failure counts a failed call. opened says the circuit went from closed to open (a timeline
// entry); a failed trial opens it again for twice as long.
func (p Policy) Failure(c domain.Circuit, now time.Time, reason string, trial bool) (next domain.Circuit, opened bool) {
	p = p.withDefaults()
	c.ConsecutiveFailures++
	c.UpdatedAt = now
	switch c.State {
	case domain.CircuitOpen:
		return c, false // a call that was already out when the circuit opened
	case domain.CircuitHalfOpen:
		if !trial {
			return c, false
		}
		c.OpenFor = min(max(2*c.OpenFor, p.OpenFor), p.MaxOpenFor)
	default:
		if c.ConsecutiveFailures < p.Threshold {
			return c, false
		}
		c.OpenFor, opened = p.OpenFor, true
		c.OpenedAt = &now
	}
	at := now.Add(c.OpenFor)
	c.State, c.NextAttemptAt, c.Reason = domain.CircuitOpen, &at, reason
	if c.OpenedAt == nil {
		c.OpenedAt = &now
	}
	c.Message = OpenMessage(reason, c.ConsecutiveFailures)
	return c, opened
}

// Success records an answer of the POS: the circuit closes (closed says it was not closed, a
// timeline entry) and its backoff starts over.
func (p Policy) Success(c domain.Circuit, now time.Time) (next domain.Circuit, closed bool) {
	closed = c.State == domain.CircuitOpen || c.State == domain.CircuitHalfOpen
	c.State, c.Reason, c.Message = domain.CircuitClosed, "", ""
	c.ConsecutiveFailures, c.OpenedAt, c.NextAttemptAt, c.OpenFor = 0, nil, nil, 0
	c.UpdatedAt = now
	return c, closed
}

// why is the reason as a clause of a sentence.
func why(reason string, failures int) string {
	switch reason {
	case domain.CircuitReasonTimeout:
		return fmt.Sprintf("the POS did not answer the last %d calls in time", failures)
	case domain.CircuitReasonServerError:
		return fmt.Sprintf("the POS answered the last %d calls with a server error", failures)
	}
	return fmt.Sprintf("posbridge could not connect to the POS for the last %d calls", failures)
}

// OpenMessage is the sentence a merchant reads while the circuit is open.
func OpenMessage(reason string, failures int) string {
	return "Sending to the POS is paused because " + why(reason, failures) +
		"; posbridge tries again automatically at the next attempt, and your documents wait until then without being lost."
}

// TimelineMessage is the timeline entry of an opening (opened) or a closing.
func TimelineMessage(c domain.Circuit, opened bool) string {
	if !opened {
		return "The POS answers again; sending to it resumed."
	}
	msg := "Sending to the POS paused because " + why(c.Reason, c.ConsecutiveFailures)
	if c.NextAttemptAt != nil {
		msg += fmt.Sprintf("; next attempt at %s UTC", c.NextAttemptAt.UTC().Format("15:04:05"))
	}
	return msg + "."
}
