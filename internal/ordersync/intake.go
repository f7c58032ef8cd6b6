package ordersync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Inbound webhooks at volume. A POS on a big sale day sends thousands of webhooks a second, and
// each must be stored durably before it is answered (a 2xx is the POS's signal that it may
// forget the event). One transaction per request makes the commit the bottleneck, so requests
// hand their verified events to the intake: a committer collects what many requests brought and
// stores it in one transaction (deduplicated on the provider's event id), enqueues one
// apply_webhook_events job per integration in the same transaction, and only then wakes each
// request, which answers 2xx. Verifying a request needs the integration's webhook secret, which
// is kept decrypted for a second (verifierTTL) instead of being read and decrypted per request.

// verifierTTL is how long an integration's webhook verifier (its row, connector and decrypted
// webhook secret) is reused: a rotated secret or a deactivation takes effect within it.
const verifierTTL = time.Second

// maxIntakeBatch bounds the events one intake transaction stores.
const maxIntakeBatch = 2000

// hookVerifier is what verifying one integration's webhooks takes.
type hookVerifier struct {
	i      domain.Integration
	rx     connector.WebhookReceiver
	secret string
	// dropOther: the events order sync does not act on are acknowledged without being stored
	// (nothing acts on them: Service.OtherEventsWanted said so).
	dropOther bool
}

type verifierEntry struct {
	mu     sync.Mutex
	v      *hookVerifier
	loaded time.Time
}

// verifierCache holds the verifiers of the integrations that received webhooks lately.
type verifierCache struct {
	mu sync.Mutex
	m  map[string]*verifierEntry
}

// verifier answers the integration's verifier, loading it at most once per verifierTTL (callers
// that find it being loaded wait for that load).
func (s *Service) verifier(ctx context.Context, integrationID string) (*hookVerifier, error) {
	c := &s.verifiers
	now := time.Now()
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*verifierEntry{}
	}
	e, ok := c.m[integrationID]
	if !ok {
		if len(c.m) >= 4096 {
			for id, old := range c.m {
				if old.mu.TryLock() {
					if now.Sub(old.loaded) > verifierTTL {
						delete(c.m, id)
					}
					old.mu.Unlock()
				}
			}
		}
		e = &verifierEntry{}
		c.m[integrationID] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.v != nil && now.Sub(e.loaded) < verifierTTL {
		return e.v, nil
	}
	v, err := s.loadVerifier(ctx, integrationID)
	if err != nil {
		e.v = nil
		c.mu.Lock()
		if c.m[integrationID] == e {
			delete(c.m, integrationID) // unknown ids must not grow the cache
		}
		c.mu.Unlock()
		return nil, err
	}
	e.v, e.loaded = v, time.Now()
	return v, nil
}

func (s *Service) loadVerifier(ctx context.Context, integrationID string) (*hookVerifier, error) {
	i, err := s.st.IntegrationByID(ctx, integrationID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, domain.NotFound("integration")
	}
	if err != nil {
		return nil, err
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return nil, err
	}
	rx, err := connector.As[connector.WebhookReceiver](conn, domain.CapWebhooks)
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeUnsupported, Message: "this provider sends no webhooks"}
	}
	secret, err := s.con.WebhookSecret(ctx, i)
	if err != nil {
		return nil, err
	}
	v := &hookVerifier{i: i, rx: rx, secret: secret}
	if s.OtherEvents != nil && s.OtherEventsWanted != nil && i.Status != domain.StatusInactive {
		wanted, err := s.OtherEventsWanted(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("whether the events of %s are wanted: %w", i.ID, err)
		}
		v.dropOther = !wanted
	}
	return v, nil
}

// droppable tells whether apply would hand an event of the type to OtherEvents (and so, for an
// integration whose other events nothing wants, ignore it).
func droppable(typ string) bool { return !appliesTo(typ) && typ != domain.ProviderOrderDeleted }

// Receive verifies an inbound provider webhook over its raw body and stores its events durably
// (deduplicated on the provider's event id) before the caller answers 2xx; processing happens
// in the background, in arrival order per integration. It reports how many events were new and
// how many were stored already.
//
// Events nothing would act on are the exception: the product, stock and customer events of an
// integration that is not its account's catalog source (OtherEventsWanted), which apply would
// mark ignored. A web shop that posbridge pushes a catalog to sends one back for every product
// it creates, and storing, draining and ignoring them cost more than a third of posbridge's CPU
// in a 100,000-product push. They are acknowledged without being stored (counted among the new)
// and only counted per integration and topic (IgnoredEvents), the counts written about once a
// second: an event lost with an unwritten count is one nothing acts on.
func (s *Service) Receive(ctx context.Context, integrationID string, header http.Header, body []byte, url string) (int, int, error) {
	v, err := s.verifier(ctx, integrationID)
	if err != nil {
		return 0, 0, err
	}
	if pk, ok := v.rx.(connector.WebhookPeeker); ok && v.dropOther {
		// An event nothing would act on is told by the headers: its body is not parsed.
		typ, topic, ok, err := pk.PeekWebhook(header, body, url, v.secret)
		if err != nil {
			return 0, 0, fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		if ok && droppable(typ) && utf8.ValidString(topic) && strings.IndexByte(topic, 0) < 0 {
			s.ignored.add(s, v.i.AccountID, v.i.ID, topic, s.now())
			return 1, 0, nil
		}
	}
	events, err := v.rx.ParseWebhook(header, body, url, v.secret)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	now := s.now()
	it := &hookItem{events: make([]store.WebhookEvent, 0, len(events))}
	dropped := 0
	for _, ev := range events {
		e := store.WebhookEvent{ID: auth.NewID("whev"), AccountID: v.i.AccountID, IntegrationID: v.i.ID, ProviderEventID: ev.ID,
			Type: ev.Type, Topic: ev.Topic, ObjectID: ev.ObjectID, Status: store.EventReceived, Payload: string(ev.Payload), ReceivedAt: now}
		if v.i.Status == domain.StatusInactive {
			e.Status, e.Reason = store.EventIgnored, "the integration is inactive"
		}
		for _, f := range []string{e.ProviderEventID, e.Type, e.Topic, e.ObjectID, e.Payload} {
			// A signed body can still carry text no database column takes.
			if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
				return 0, 0, domain.Invalid("body", "the webhook event holds a NUL byte or invalid UTF-8")
			}
		}
		if v.dropOther && droppable(e.Type) {
			dropped++
			continue
		}
		it.events = append(it.events, e)
	}
	if dropped > 0 {
		// Counted once the request is known good (every event checked above).
		for _, e := range events {
			if droppable(e.Type) {
				topic := e.Topic
				if topic == "" {
					topic = e.Type
				}
				s.ignored.add(s, v.i.AccountID, v.i.ID, topic, now)
			}
		}
	}
	if len(it.events) == 0 {
		return dropped, 0, nil
	}
	if s.noGroupCommit.Load() {
		err := s.commitIntake(ctx, []*hookItem{it})
		return it.fresh + dropped, it.dup, err
	}
	it.done = make(chan struct{})
	if err := s.intake().submit(it); err != nil {
		return 0, 0, err
	}
	select {
	case <-it.done:
		if it.err != nil {
			return 0, 0, it.err
		}
		return it.fresh + dropped, it.dup, nil
	case <-ctx.Done():
		// The caller went away: it gets no answer, so its provider sends the webhook again
		// (stored or not, the duplicate is recognized).
		return 0, 0, ctx.Err()
	}
}

// SetGroupCommit turns group commit of inbound webhooks on (the default) or off: off, each
// request commits its events in a transaction of its own (the baseline of `bench hooks`).
func (s *Service) SetGroupCommit(on bool) { s.noGroupCommit.Store(!on) }

// hookItem is one request's events, waiting for their commit.
type hookItem struct {
	events     []store.WebhookEvent
	done       chan struct{}
	fresh, dup int
	err        error
}

// intakeQueue feeds the committers.
type intakeQueue struct {
	in     chan *hookItem
	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

// ErrShuttingDown is returned for a webhook that arrives while the server stops.
var ErrShuttingDown = &domain.Error{Code: domain.CodeInternal, Message: "posbridge is shutting down; send the webhook again"}

func (q *intakeQueue) submit(it *hookItem) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrShuttingDown
	}
	q.in <- it
	return nil
}

// intake starts the committers the first time a webhook arrives.
func (s *Service) intake() *intakeQueue {
	s.intakeOnce.Do(func() {
		q := &intakeQueue{in: make(chan *hookItem, 8192)}
		n := s.IntakeCommitters
		if n <= 0 {
			n = 1
			if s.st.Dialect() == store.Postgres {
				n = 2 // one collects while the other waits for its commit
			}
		}
		for range n {
			q.wg.Add(1)
			go func() {
				defer q.wg.Done()
				s.commitLoop(q.in)
			}()
		}
		s.intakeQ = q
	})
	return s.intakeQ
}

// Close stops taking webhooks and waits until those taken are committed and answered.
func (s *Service) Close() {
	defer s.ignored.close(s)
	s.intakeOnce.Do(func() {}) // none started: none start now
	q := s.intakeQ
	if q == nil {
		return
	}
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.in)
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// commitLoop takes whatever requests are waiting (up to maxIntakeBatch events), commits them in
// one transaction, answers them, and goes again.
func (s *Service) commitLoop(in <-chan *hookItem) {
	for {
		it, ok := <-in
		if !ok {
			return
		}
		batch, n := []*hookItem{it}, len(it.events)
	collect:
		for n < maxIntakeBatch {
			select {
			case it, ok := <-in:
				if !ok {
					break collect
				}
				batch, n = append(batch, it), n+len(it.events)
			default:
				break collect
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.commitIntake(ctx, batch); err != nil && len(batch) > 1 {
			// One request's events may be what the database refused: each alone, so that only
			// that one fails.
			for _, it := range batch {
				s.commitIntake(ctx, []*hookItem{it}) //nolint:errcheck // the item carries its error
			}
		}
		cancel()
		for _, it := range batch {
			close(it.done)
		}
	}
}

// ApplyArgs asks for an integration's pending webhook events to be applied, in arrival order.
// One exists per integration at a time (unique while available, scheduled, running or retrying).
type ApplyArgs struct {
	AccountID     string `json:"account_id"`
	IntegrationID string `json:"integration_id"`
}

// Kind implements river.JobArgs.
func (ApplyArgs) Kind() string { return "apply_webhook_events" }

// applyOpts makes the apply job unique per integration until it completes: a completed one does
// not stop the next from being enqueued.
var applyOpts = &river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}}

// commitIntake stores the items' events in one transaction and enqueues the apply job of every
// integration that got a new event to apply. Each item learns its counts, or the error.
func (s *Service) commitIntake(ctx context.Context, items []*hookItem) error {
	type slot struct{ item, pos int } // where an event to insert came from
	var evs []store.WebhookEvent
	var from []slot
	fresh, dup := make([]int, len(items)), make([]int, len(items))
	first := map[string]bool{}
	for k, it := range items {
		for _, e := range it.events {
			key := e.IntegrationID + "\x00" + e.ProviderEventID
			if first[key] { // the same event twice in this batch: the later one is a duplicate
				dup[k]++
				continue
			}
			first[key] = true
			evs = append(evs, e)
			from = append(from, slot{k, len(evs) - 1})
		}
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		isNew, open, err := tx.IntakeWebhookEvents(ctx, evs)
		if err != nil {
			return err
		}
		apply := map[string]ApplyArgs{}
		var order []string
		for j, e := range evs {
			if !isNew[j] {
				dup[from[j].item]++
				continue
			}
			fresh[from[j].item]++
			if _, ok := apply[e.IntegrationID]; !ok && e.Status == store.EventReceived {
				apply[e.IntegrationID] = ApplyArgs{AccountID: e.AccountID, IntegrationID: e.IntegrationID}
				order = append(order, e.IntegrationID)
			}
		}
		// An integration whose drain is open needs no job: River's unique insert would skip it
		// anyway, but on PostgreSQL only after waiting for the other committer's transaction.
		for _, id := range order {
			if open[id] {
				continue
			}
			if err := s.q.InsertTx(ctx, tx, apply[id], applyOpts); err != nil {
				return err
			}
			if err := tx.OpenWebhookDrain(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	for k, it := range items {
		if err != nil {
			it.fresh, it.dup, it.err = 0, 0, err
			continue
		}
		it.fresh, it.dup, it.err = fresh[k], dup[k], nil
	}
	return err
}

// ignoredFlush is how often the counts of events acknowledged without being stored are written.
const ignoredFlush = time.Second

// ignoredCounts gathers the counts of events acknowledged without being stored until a flusher
// (started with the first) writes them.
type ignoredCounts struct {
	mu      sync.Mutex
	m       map[[2]string]*store.IgnoredEvents // by integration and topic
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

func (c *ignoredCounts) add(s *Service, accountID, integrationID, topic string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]*store.IgnoredEvents{}
	}
	k := [2]string{integrationID, topic}
	e := c.m[k]
	if e == nil {
		e = &store.IgnoredEvents{AccountID: accountID, IntegrationID: integrationID, Topic: topic}
		c.m[k] = e
	}
	e.Count++
	if at.After(e.LastAt) {
		e.LastAt = at
	}
	if !c.started && !c.closed {
		c.started = true
		c.stop, c.done = make(chan struct{}), make(chan struct{})
		go c.loop(s)
	}
}

func (c *ignoredCounts) loop(s *Service) {
	defer close(c.done)
	t := time.NewTicker(ignoredFlush)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.flush(s)
		}
	}
}

// flush writes the counts gathered; on an error they are kept for the next.
func (c *ignoredCounts) flush(s *Service) {
	c.mu.Lock()
	m := c.m
	c.m = nil
	c.mu.Unlock()
	if len(m) == 0 {
		return
	}
	counts := make([]store.IgnoredEvents, 0, len(m))
	for _, e := range m {
		counts = append(counts, *e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.AddIgnoredWebhookEvents(ctx, counts) })
	if err == nil {
		return
	}
	s.log.Warn("count ignored webhook events", "err", err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]*store.IgnoredEvents{}
	}
	for k, e := range m {
		if cur := c.m[k]; cur != nil {
			cur.Count += e.Count
			if e.LastAt.After(cur.LastAt) {
				cur.LastAt = e.LastAt
			}
		} else {
			c.m[k] = e
		}
	}
}

// close stops the flusher and writes what is left.
func (c *ignoredCounts) close(s *Service) {
	c.mu.Lock()
	started := c.started && !c.closed
	c.closed = true
	c.mu.Unlock()
	if started {
		close(c.stop)
		<-c.done
	}
	c.flush(s)
}
