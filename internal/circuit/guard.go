package circuit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// A job held back by an open circuit comes back at its next attempt, but after a minute at most
// (a person's Retry may have closed it meanwhile); one held back by another job's trial looks
// again after a few seconds (the trial usually answers in moments).
const (
	maxOpenWait  = time.Minute
	maxTrialWait = 5 * time.Second
)

// WaitError says a call must not go now: the job snoozes for After instead of holding a worker.
type WaitError struct {
	After  time.Duration
	Reason string // "circuit_open", "trial_out" (another job is the half-open trial) or "in_flight_cap"
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("provider calls held back (%s); try again in %s", e.Reason, e.After.Round(time.Millisecond))
}

// ErrNoCall is the outcome to report (Call.Done) when the job made no provider call after all
// (the document was synced already, say): it tells the breaker nothing.
var ErrNoCall = errors.New("no provider call was made")

// AsWait returns err's *WaitError, or nil.
func AsWait(err error) *WaitError {
	var w *WaitError
	if errors.As(err, &w) {
		return w
	}
	return nil
}

// Guard is the breaker and in-flight cap of every integration, for one process.
type Guard struct {
	st  *store.Store
	p   Policy
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	ints map[string]*local // by integration id
}

// local is what this process knows of one integration.
type local struct {
	inFlight map[*Call]time.Time // start of each call out
	freed    chan struct{}       // closed (and replaced) when a slot comes back
	quick    bool                // the last call that ended was answered within Policy.CapWait
	waiters  int                 // jobs waiting for a slot
	known    domain.Circuit      // the shared state as last read or written
	knownAt  time.Time           // zero: never read
}

// NewGuard returns a guard over the store's shared state. A zero policy is DefaultPolicy.
func NewGuard(st *store.Store, p Policy, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.Default()
	}
	return &Guard{st: st, p: p.withDefaults(), log: log, now: time.Now, ints: map[string]*local{}}
}

// SetClock replaces the guard's clock (tests that move the app's time); call it before any call.
func (g *Guard) SetClock(now func() time.Time) {
	if now != nil {
		g.now = now
	}
}

// Policy is the guard's policy.
func (g *Guard) Policy() Policy { return g.p }

// Call is one provider call (or the few calls of one job) that may go; Done reports how it went.
type Call struct {
	g             *Guard
	accountID     string
	IntegrationID string
	Trial         bool // the half-open trial: its outcome decides the circuit
	done          bool
}

func (g *Guard) entry(id string) *local {
	l := g.ints[id]
	if l == nil {
		l = &local{inFlight: map[*Call]time.Time{}, freed: make(chan struct{})}
		g.ints[id] = l
	}
	return l
}

// jitter spreads a wait over [d, 1.25 d) so that the jobs of one integration do not all come
// back at once.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// Acquire asks whether a call to the integration may go now. It answers a *WaitError when the
// circuit is open (until its next attempt), when another job's trial is out, or when the
// integration has its cap of calls in flight in this process; the caller snoozes its job.
func (g *Guard) Acquire(ctx context.Context, accountID, integrationID string) (*Call, error) {
	return g.acquire(ctx, accountID, integrationID, false)
}

// AcquireManual is Acquire for a call a person asked for (Policy.DecideManual): an open circuit
// lets it go at once as the trial.
func (g *Guard) AcquireManual(ctx context.Context, accountID, integrationID string) (*Call, error) {
	return g.acquire(ctx, accountID, integrationID, true)
}

func (g *Guard) acquire(ctx context.Context, accountID, integrationID string, manual bool) (*Call, error) {
	decide := g.p.Decide
	if manual {
		decide = g.p.DecideManual
	}
	c := &Call{g: g, accountID: accountID, IntegrationID: integrationID}
	var waitUntil time.Time // real time; zero until the first look finds the cap full
	g.mu.Lock()
	for {
		now := g.now()
		l := g.entry(integrationID)
		if len(l.inFlight) < g.p.MaxInFlight {
			break
		}
		oldest := now
		for _, at := range l.inFlight {
			if at.Before(oldest) {
				oldest = at
			}
		}
		if waitUntil.IsZero() {
			waitUntil = time.Now().Add(g.p.CapWait)
		}
		if left := time.Until(waitUntil); left > 0 && l.quick && l.waiters < g.p.MaxInFlight && now.Sub(oldest) < g.p.CapWait {
			// The POS answers quickly and its calls out are young: a slot is about to come
			// back. A POS that hangs or fails (its last call was slow or failed) holds no
			// worker, and at most MaxInFlight jobs wait for one integration.
			freed := l.freed
			l.waiters++
			g.mu.Unlock()
			t := time.NewTimer(left)
			select {
			case <-freed:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			g.mu.Lock()
			g.entry(integrationID).waiters--
			if err := ctx.Err(); err != nil {
				g.mu.Unlock()
				return nil, err
			}
			continue
		}
		// Come back after about as long as the oldest call has been out: soon for a POS that
		// answers in milliseconds, rarely for one that hangs.
		wait := min(max(now.Sub(oldest), time.Second), 15*time.Second)
		if l.known.NextAttemptAt != nil && l.known.State == domain.CircuitOpen {
			wait = max(wait, min(l.known.NextAttemptAt.Sub(now), maxOpenWait))
		}
		g.mu.Unlock()
		return nil, &WaitError{After: jitter(wait), Reason: "in_flight_cap"}
	}
	now := g.now()
	l := g.entry(integrationID)
	l.inFlight[c] = now // the slot is taken before the look at the state: the cap holds under races
	known, fresh := l.known, !l.knownAt.IsZero() && now.Sub(l.knownAt) < g.p.CacheFor
	g.mu.Unlock()

	if !fresh {
		cur, err := g.st.GetCircuit(ctx, accountID, integrationID)
		if err != nil {
			g.release(c)
			return nil, err
		}
		known = g.remember(integrationID, cur, now)
	}
	d := decide(known, now)
	if d.Go && d.Trial {
		var err error
		if d, known, err = g.claimTrial(ctx, accountID, integrationID, decide); err != nil {
			g.release(c)
			return nil, err
		}
	}
	if !d.Go {
		g.release(c)
		wait, reason := min(d.Until.Sub(now), maxOpenWait), "circuit_open"
		if known.State == domain.CircuitHalfOpen {
			// The trial usually answers in moments: look again soon rather than at the end
			// of its lease.
			wait, reason = min(wait, maxTrialWait), "trial_out"
		}
		return nil, &WaitError{After: jitter(max(wait, 100*time.Millisecond)), Reason: reason}
	}
	c.Trial = d.Trial
	return c, nil
}

// claimTrial makes this call the half-open trial, if no other job of any process claimed it first.
func (g *Guard) claimTrial(ctx context.Context, accountID, integrationID string, decide func(domain.Circuit, time.Time) Decision) (Decision, domain.Circuit, error) {
	var d Decision
	var cur domain.Circuit
	now := g.now()
	err := g.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if cur, err = tx.LockCircuit(ctx, accountID, integrationID, now); err != nil {
			return err
		}
		if d = decide(cur, now); !d.Go || !d.Trial {
			return nil // closed meanwhile (go), or another job holds the trial (wait)
		}
		cur = g.p.ClaimTrial(cur, now)
		return tx.SaveCircuit(ctx, cur)
	})
	if errors.Is(err, store.ErrNotFound) {
		return Decision{Go: true}, cur, nil // the integration is gone: the push finds out and says so
	}
	if err != nil {
		return d, cur, fmt.Errorf("claim the trial call of %s: %w", integrationID, err)
	}
	g.remember(integrationID, cur, now)
	if d.Go && d.Trial {
		g.log.Info("circuit half-open: one trial call", "integration", integrationID)
	}
	return d, cur, nil
}

func (g *Guard) remember(integrationID string, c domain.Circuit, at time.Time) domain.Circuit {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.entry(integrationID)
	if !at.Before(l.knownAt) {
		l.known, l.knownAt = c, at
	}
	return l.known
}

func (g *Guard) release(c *Call) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.ints[c.IntegrationID]; l != nil {
		if _, ok := l.inFlight[c]; ok {
			delete(l.inFlight, c)
			close(l.freed) // wake the jobs waiting for a slot
			l.freed = make(chan struct{})
		}
		if len(l.inFlight) == 0 && !l.quick && g.now().Sub(l.knownAt) >= g.p.CacheFor {
			// Idle and stale: the next call reads the state again. (An integration whose
			// last call was answered quickly keeps its entry, and with it the short wait.)
			delete(g.ints, c.IntegrationID)
		}
	}
}

// InFlight is how many calls to the integration are out in this process.
func (g *Guard) InFlight(integrationID string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.ints[integrationID]; l != nil {
		return len(l.inFlight)
	}
	return 0
}

// Done gives the call's slot back and records its outcome (err is the provider call's result)
// in the shared state when it changes something: any failure, and an answer while the circuit
// is not plainly closed. It reports a storage error; the caller logs it.
func (c *Call) Done(ctx context.Context, err error) error {
	if c == nil || c.done {
		return nil
	}
	c.done = true
	g := c.g
	ctx = context.WithoutCancel(ctx)
	outcome, reason := Classify(err)
	g.mu.Lock()
	known := g.entry(c.IntegrationID).known
	g.mu.Unlock()
	var serr error
	switch {
	case outcome == Failure:
		serr = g.record(ctx, c.accountID, c.IntegrationID, g.failure(reason, c.Trial))
	case outcome == Neutral && c.Trial:
		// The trial told nothing (no call made): let the next job try at once rather than
		// after the trial's lease.
		serr = g.record(ctx, c.accountID, c.IntegrationID, func(cur domain.Circuit, now time.Time) (domain.Circuit, string) {
			if cur.State == domain.CircuitHalfOpen {
				cur.State, cur.NextAttemptAt, cur.UpdatedAt = domain.CircuitOpen, &now, now
				cur.Message = OpenMessage(cur.Reason, cur.ConsecutiveFailures)
			}
			return cur, ""
		})
	case outcome == Success && (c.Trial || known.State != domain.CircuitClosed || known.ConsecutiveFailures > 0):
		serr = g.record(ctx, c.accountID, c.IntegrationID, g.success)
	}
	if outcome != Neutral {
		g.mu.Lock()
		if l := g.ints[c.IntegrationID]; l != nil {
			if start, ok := l.inFlight[c]; ok {
				l.quick = outcome == Success && g.now().Sub(start) < g.p.CapWait
			}
		}
		g.mu.Unlock()
	}
	g.release(c)
	return serr
}

// failure and success are the changes of a failed call and of an answer.
func (g *Guard) failure(reason string, trial bool) func(domain.Circuit, time.Time) (domain.Circuit, string) {
	return func(cur domain.Circuit, now time.Time) (domain.Circuit, string) {
		next, opened := g.p.Failure(cur, now, reason, trial)
		if opened {
			return next, domain.KindCircuitOpened
		}
		return next, ""
	}
}

func (g *Guard) success(cur domain.Circuit, now time.Time) (domain.Circuit, string) {
	if cur.State == domain.CircuitClosed && cur.ConsecutiveFailures == 0 {
		return cur, ""
	}
	next, closed := g.p.Success(cur, now)
	if closed {
		return next, domain.KindCircuitClosed
	}
	return next, ""
}

// Observe records the outcome of a provider call made outside the guard (an integration check,
// which must run whatever the circuit says): an answer closes an open circuit ("Check now" is
// how a merchant tells posbridge the POS is back), a timeout or 5xx counts as a failure.
func (g *Guard) Observe(ctx context.Context, accountID, integrationID string, err error) error {
	ctx = context.WithoutCancel(ctx)
	switch outcome, reason := Classify(err); outcome {
	case Failure:
		return g.record(ctx, accountID, integrationID, g.failure(reason, false))
	case Success:
		cur, err := g.st.GetCircuit(ctx, accountID, integrationID)
		if err != nil || cur.State == domain.CircuitClosed && cur.ConsecutiveFailures == 0 {
			return err
		}
		return g.record(ctx, accountID, integrationID, g.success)
	}
	return nil
}

// record applies fn to the locked shared state and saves it, with a timeline entry when fn
// names one.
func (g *Guard) record(ctx context.Context, accountID, integrationID string, fn func(domain.Circuit, time.Time) (domain.Circuit, string)) error {
	now := g.now()
	var next domain.Circuit
	var event string
	err := g.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCircuit(ctx, accountID, integrationID, now)
		if err != nil {
			return err
		}
		if next, event = fn(cur, now); next == cur {
			return nil
		}
		if err := tx.SaveCircuit(ctx, next); err != nil {
			return err
		}
		if event == "" {
			return nil
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: now, Kind: event, IntegrationID: integrationID,
			Actor: domain.ActorSystem, Message: TimelineMessage(next, event == domain.KindCircuitOpened)})
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // the integration is gone
	}
	if err != nil {
		return fmt.Errorf("record the outcome of a call to %s: %w", integrationID, err)
	}
	g.remember(integrationID, next, now)
	switch event {
	case domain.KindCircuitOpened:
		g.log.Warn("circuit opened", "integration", integrationID, "reason", next.Reason, "failures", next.ConsecutiveFailures, "next_attempt_at", next.NextAttemptAt)
	case domain.KindCircuitClosed:
		g.log.Info("circuit closed", "integration", integrationID)
	}
	return nil
}
