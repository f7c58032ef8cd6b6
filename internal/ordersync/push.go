package ordersync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/circuit"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Register adds the engine's workers.
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &pushWorker{s: s})
	river.AddWorker(w, &eventWorker{s: s})
	river.AddWorker(w, &applyWorker{s: s})
	river.AddWorker(w, &reconcileWorker{s: s})
}

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	s *Service
}

// Work pushes the document's latest state, looping while newer versions arrive, under a lease
// so that no two workers push one document at once.
//
// The integration's circuit is asked first: while it is open, or while the integration has its
// cap of calls in flight, the job snoozes without holding a worker (and without touching the
// document); a job queued without the integration id asks once the document names it.
func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) (err error) {
	s, a := w.s, job.Args
	defer s.Foreground.Begin()()
	var call *circuit.Call
	callErr := circuit.ErrNoCall // the outcome of the provider calls, for the circuit
	defer func() {
		if derr := call.Done(ctx, callErr); derr != nil {
			s.log.Error("record provider call outcome", "integration", call.IntegrationID, "err", derr)
		}
	}()
	// A person's Retry or Re-sync goes at once as the circuit's trial call; River's own retries
	// and automatic pushes wait for the next attempt.
	acquire := s.Circuit.Acquire
	if a.Reason != "auto" && job.Attempt <= 1 {
		acquire = s.Circuit.AcquireManual
	}
	if a.IntegrationID != "" {
		if call, err = acquire(ctx, a.AccountID, a.IntegrationID); err != nil {
			return snoozeOr(err)
		}
	}
	// A push waits for the integration's rate limiter a short while at most; a longer wait is a
	// snooze (the failed path turns connector.PacedError into one).
	ctx = connector.WithMaxWait(ctx, maxLimiterWait)
	now := s.now()
	d, target, claimed, err := s.st.ClaimDocumentWithTarget(ctx, a.AccountID, a.DocKind, a.Ref, now, now.Add(s.Lease))
	if err != nil {
		return err
	}
	if !claimed {
		if _, err := s.st.GetDocument(ctx, a.AccountID, a.DocKind, a.Ref); errors.Is(err, store.ErrNotFound) {
			return nil
		}
		// Another worker is pushing it; it re-reads the document when done, but look again soon
		// in case it crashed (its lease runs out).
		return river.JobSnooze(250 * time.Millisecond)
	}
	released := false
	defer func() {
		if released {
			return
		}
		if err := s.st.ReleaseDocument(context.WithoutCancel(ctx), a.AccountID, a.DocKind, a.Ref); err != nil {
			s.log.Error("release document lease", "ref", a.Ref, "err", err)
		}
	}()
	for round := 0; round < 10; round++ {
		if round > 0 { // the claim read it the first time
			if d, err = s.st.GetDocument(ctx, a.AccountID, a.DocKind, a.Ref); err != nil {
				return err
			}
		}
		retrying := (d.Sync.Status == domain.SyncFailed || d.Sync.Status == domain.SyncRetrying) && job.Attempt > 1
		if d.Sync.Status != domain.SyncPending && d.Sync.Status != domain.SyncSyncing && !retrying {
			return nil // synced already (a newer job coalesced into an earlier push), or not to be sent
		}
		if id := d.Sync.IntegrationID; id != "" && (call == nil || call.IntegrationID != id) {
			// Queued without the integration id, or the document names another one now.
			if derr := call.Done(ctx, circuit.ErrNoCall); derr != nil {
				s.log.Error("record provider call outcome", "integration", call.IntegrationID, "err", derr)
			}
			call = nil
			if call, err = acquire(ctx, a.AccountID, id); err != nil {
				return snoozeOr(err) // the deferred release gives the document's lease back
			}
		}
		done, err := s.pushOnce(ctx, d, target)
		callErr = err
		target = nil // read afresh in a later round
		if err != nil {
			return s.failed(ctx, d, err, job.Attempt, job.MaxAttempts)
		}
		if done {
			released = true // synced, and the lease went back in the same transaction
			return nil
		}
	}
	return nil
}

// NextRetry schedules River's next attempt of a failed push as River would (attempt^4 seconds),
// without jitter, so the time the document shows as next_attempt_at is the time it runs.
func (w *pushWorker) NextRetry(job *river.Job[PushArgs]) time.Time {
	return time.Now().Add(pushRetryDelay(job.Attempt))
}

// pushRetryDelay is how long after failed attempt n (1, 2, ...) the next one runs: 1 s, 16 s,
// 81 s, 4 min 16 s, ... at most an hour.
func pushRetryDelay(attempt int) time.Duration {
	n := time.Duration(max(attempt, 1))
	return min(n*n*n*n*time.Second, time.Hour)
}

// maxLimiterWait is the longest a push waits for the integration's rate limiter in a worker;
// a longer wait snoozes the job.
const maxLimiterWait = 3 * time.Second

// snoozeOr turns the circuit's "not now" into a snooze of the job, and passes other errors on.
func snoozeOr(err error) error {
	if w := circuit.AsWait(err); w != nil {
		return river.JobSnooze(w.After)
	}
	return err
}

// idempotencyKey is the same for every retry of one logical create, and new after "Send as new".
func idempotencyKey(d domain.Document) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("posbridge/%s/%s/%s/%d", d.AccountID, d.Kind, d.Ref, d.Sync.Generation)))
	return "pb-" + hex.EncodeToString(h[:16])
}

// order maps a document to a POS order; line and order totals are overflow-checked (a total out
// of range is the document's fault: the push fails with that reason, nothing wraps).
func order(d domain.Document, storeID string) (domain.Order, error) {
	o := domain.Order{ID: d.Sync.ExternalID, Reference: d.Ref, StoreID: storeID, Note: fmt.Sprintf("%s %s", d.Kind, d.Ref)}
	for i, l := range d.Lines {
		total, err := l.LineTotal()
		if err == nil {
			o.Total.Amount, err = domain.AddAmounts(o.Total.Amount, total)
		}
		if err != nil {
			return o, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("line %d: the total is beyond what posbridge sends (%d minor units)", i+1, domain.MaxAmount), Err: err}
		}
		o.Lines = append(o.Lines, domain.OrderLine{SKU: l.ProductRef, Name: l.Description, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			Total: domain.Money{Amount: total, Currency: l.UnitPrice.Currency}, TaxRate: l.TaxRate})
		o.Total.Currency = l.UnitPrice.Currency
	}
	return o, nil
}

// pushOnce pushes one version; done says the document is synced and its lease already released.
// target is the integration and settings read with the claim, nil to read them here.
//
// Its steps: send as new (void the old order if asked, then forget it), then either take a
// cancelled document's order back or create or update its order, then finish (mark it synced).
func (s *Service) pushOnce(ctx context.Context, d domain.Document, target *store.OrderTarget) (done bool, err error) {
	if target, err = s.orderTarget(ctx, d, target); err != nil {
		return false, err
	}
	i := target.Integration
	conn, err := s.con.OpenConnector(i, target.SealedCredentials)
	if err != nil {
		return false, err
	}
	sink, err := connector.As[connector.OrderSink](conn, domain.CapOrders)
	if err != nil {
		return false, err
	}
	p := pushed{action: d.Sync.Action}
	if p.action == ActionNew || p.action == ActionNewVoid {
		if d, p.summary, err = s.sendAsNew(ctx, sink, d); err != nil {
			return false, err
		}
		p.action = "send_as_new"
	}
	if d.Cancelled() && d.Sync.ExternalID == "" {
		return false, s.skipUnsent(ctx, d, p.summary)
	}
	o, err := order(d, i.StoreID)
	if err != nil {
		return false, err
	}
	switch {
	case d.Cancelled():
		err = s.cancelOrder(ctx, sink, d, target.Settings.OnCancel, &p)
	case d.Sync.ExternalID == "":
		err = s.createOrder(ctx, sink, d, o, &p)
	default:
		err = s.updateOrder(ctx, sink, d, o, &p)
	}
	if err != nil {
		return false, err
	}
	return s.finish(ctx, d, i.ID, p)
}

// pushed is what a push did in the POS: the order the document is linked to afterwards, and
// the history entry's action and summary.
type pushed struct {
	order   domain.Order
	action  string
	summary string
}

// orderTarget answers the integration the document's orders go to with the account's settings,
// reading them unless the claim did; an integration that is gone or not scheduled is the
// document's failure (KindInvalid), not a reason to retry.
func (s *Service) orderTarget(ctx context.Context, d domain.Document, target *store.OrderTarget) (*store.OrderTarget, error) {
	if target == nil || target.Integration.ID != d.Sync.IntegrationID {
		t, err := s.st.GetOrderTarget(ctx, d.AccountID, d.Sync.IntegrationID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the integration orders go to is gone: " + domain.NotFound("integration").Error()}
		}
		if err != nil {
			return nil, err
		}
		target = &t
	}
	if i := target.Integration; !i.Status.Scheduled() {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("the %s integration is %s; nothing is sent to it",
			s.con.DisplayName(i.Type), i.Status)}
	}
	return target, nil
}

// sendAsNew voids the old order first if asked (only while it still carries this document's
// reference: another document's order, or one the POS lost, is left alone), then forgets it and
// bumps the generation. That is saved before the create, so a retry after a crash replays the
// same create. It answers the document as saved and the summary so far.
func (s *Service) sendAsNew(ctx context.Context, sink connector.OrderSink, d domain.Document) (domain.Document, string, error) {
	summary := ""
	if d.Sync.Action == ActionNewVoid && d.Sync.ExternalID != "" {
		old, err := ownedOrder(ctx, sink, d)
		switch {
		case isGone(err):
			summary = "Order " + d.Sync.ExternalID + " was not voided: it was deleted or lost in the POS; "
		case isNotLinked(err):
			summary = fmt.Sprintf("Order %s was not voided: it now belongs to %s; ", d.Sync.ExternalID, old.Reference)
		case err != nil:
			return d, "", err
		default:
			if err := sink.CancelOrder(ctx, d.Sync.ExternalID, domain.CancelVoid); err != nil && connector.KindOf(err) != connector.KindNotFound {
				return d, "", fmt.Errorf("void order %s: %w", d.Sync.ExternalID, err)
			}
			summary = "Voided order " + d.Sync.ExternalID + "; "
		}
	}
	d, err := s.update(ctx, d, func(cur *domain.Document) {
		cur.Sync.Generation++
		cur.Sync.ExternalID, cur.Sync.ExternalURL, cur.Sync.Action = "", "", ""
	})
	return d, summary, err
}

// skipUnsent settles a document cancelled before it ever reached the POS (say while its first
// push waited out a rate limit): there is no order to take back, and creating one now would be
// wrong. A write that came in meanwhile leaves it pending for the push loop.
func (s *Service) skipUnsent(ctx context.Context, d domain.Document, summary string) error {
	_, err := s.update(ctx, d, func(cur *domain.Document) {
		cur.Sync.LastError = ""
		if cur.Sync.Action == d.Sync.Action {
			cur.Sync.Action = ""
		}
		if cur.Version == d.Version && cur.Sync.Action == "" {
			cur.Sync.Status = domain.SyncNotSent
		} else {
			cur.Sync.Status = domain.SyncPending // a newer write came in meanwhile: the loop looks again
		}
	}, store.HistoryEntry{Action: "skip", Outcome: "ok",
		Summary: summary + fmt.Sprintf("%s is %s and has no order in the POS; no order is created", d.Kind, d.Status)})
	return err
}

// cancelOrder takes a cancelled document's order back as the settings say (mode), after
// checking that the order still carries the document's reference. Deleting an order the POS no
// longer has (say the delete went through before a crash) counts as done.
func (s *Service) cancelOrder(ctx context.Context, sink connector.OrderSink, d domain.Document, mode domain.CancelMode, p *pushed) error {
	p.order = domain.Order{ID: d.Sync.ExternalID, URL: d.Sync.ExternalURL}
	if mode == domain.CancelNone {
		p.summary += fmt.Sprintf("%s is %s; the POS order is left as it is (on_cancel none)", d.Kind, d.Status)
		return nil
	}
	_, err := ownedOrder(ctx, sink, d)
	if isGone(err) && mode == domain.CancelDelete {
		p.summary += fmt.Sprintf("Order %s is no longer in the POS; nothing to delete (%s %s)", d.Sync.ExternalID, d.Kind, d.Status)
		p.action = "cancel"
		return nil
	}
	if err != nil {
		return err
	}
	if err := sink.CancelOrder(ctx, d.Sync.ExternalID, mode); err != nil {
		return fmt.Errorf("%s order %s: %w", mode, d.Sync.ExternalID, err)
	}
	p.summary += fmt.Sprintf("Order %s %s in the POS (%s %s)", d.Sync.ExternalID, pastTense(mode), d.Kind, d.Status)
	p.action = "cancel"
	return nil
}

// createOrder creates the document's order under the generation's idempotency key. When the POS
// says the key was used with another body, an earlier attempt created the order with an older
// version and the process died before recording it: the order (found by its reference) is
// brought up to date instead of creating a second one.
func (s *Service) createOrder(ctx context.Context, sink connector.OrderSink, d domain.Document, o domain.Order, p *pushed) error {
	result, err := sink.CreateOrder(ctx, o, idempotencyKey(d))
	switch {
	case keyReused(err):
		found, ferr := sink.FindOrderByReference(ctx, d.Ref)
		if ferr != nil {
			return fmt.Errorf("create order: %w (and the order of the earlier attempt was not found: %v)", err, ferr)
		}
		o.ID = found.ID
		if result, err = sink.UpdateOrder(ctx, o, fmt.Sprintf("%s-v%d", idempotencyKey(d), d.Version)); err != nil {
			return fmt.Errorf("update order %s of an earlier attempt: %w", found.ID, err)
		}
		p.summary += fmt.Sprintf("Created order %s (by an earlier attempt) and brought it up to date: %d line(s), total %s", result.ID, len(o.Lines), money(o.Total))
	case err != nil:
		return fmt.Errorf("create order: %w", err)
	default:
		p.summary += fmt.Sprintf("Created order %s: %d line(s), total %s", result.ID, len(o.Lines), money(o.Total))
	}
	p.order = result
	if p.action == "" || p.action == ActionResync {
		p.action = "create"
	}
	return nil
}

// updateOrder brings the document's order up to date, after one GET (never before a create)
// that checks the order still carries the document's reference.
func (s *Service) updateOrder(ctx context.Context, sink connector.OrderSink, d domain.Document, o domain.Order, p *pushed) error {
	if _, err := ownedOrder(ctx, sink, d); err != nil {
		return err
	}
	result, err := sink.UpdateOrder(ctx, o, fmt.Sprintf("%s-v%d", idempotencyKey(d), d.Version))
	if err != nil {
		return fmt.Errorf("update order %s: %w", d.Sync.ExternalID, err)
	}
	p.order = result
	p.summary += fmt.Sprintf("Updated order %s: %d line(s), total %s", result.ID, len(o.Lines), money(o.Total))
	if p.action == "" {
		p.action = "update"
	}
	return nil
}

// finish records the push: the document synced at the version pushed, linked to p.order, with
// its history entry. done says it is synced and its lease released; a newer write or manual
// action that came in meanwhile leaves it pending for the push loop.
func (s *Service) finish(ctx context.Context, d domain.Document, integrationID string, p pushed) (done bool, err error) {
	pushedVersion, result := d.Version, p.order
	hist := store.HistoryEntry{Action: p.action, Outcome: "ok", Summary: p.summary}
	// Nothing changed meanwhile (the common case): the document is marked synced, the history
	// written and the webhook endpoints read in one round trip.
	var fast bool
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		hist.At = now
		f, err := tx.FinishPush(ctx, d.AccountID, d.Kind, d.Ref, store.Synced{Version: pushedVersion, Action: d.Sync.Action,
			IntegrationID: integrationID, ExternalID: result.ID, ExternalURL: result.URL, At: now}, hist)
		if fast = f.Synced; err != nil || !fast {
			return err
		}
		return s.out.PublishTo(ctx, tx, f.Endpoints, d.AccountID, domain.EventDocumentUpdated, DocumentJSONOf(f.Document))
	})
	if err != nil || fast {
		return err == nil, err
	}
	// A newer write or another manual action came in meanwhile: merge under the row's lock.
	final, err := s.updateTx(ctx, d, true, func(cur *domain.Document) {
		now := s.now()
		cur.Sync.ExternalID, cur.Sync.IntegrationID = result.ID, integrationID
		if result.URL != "" {
			cur.Sync.ExternalURL = result.URL
		}
		cur.Sync.SyncedVersion, cur.Sync.LastSyncedAt, cur.Sync.LastError = pushedVersion, &now, ""
		if cur.Sync.Action == d.Sync.Action {
			cur.Sync.Action = ""
		}
		if cur.Version == pushedVersion && cur.Sync.Action == "" {
			cur.Sync.Status = domain.SyncSynced
		} else {
			cur.Sync.Status = domain.SyncPending // a newer write came in meanwhile: the loop pushes it
		}
	}, hist)
	return err == nil && final.Sync.Status == domain.SyncSynced, err
}

// keyReused tells whether the POS refused a create because its idempotency key was used with
// another body (the sandbox's idempotency_key_reused, Square's IDEMPOTENCY_KEY_REUSED).
func keyReused(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && strings.EqualFold(ce.Code, "idempotency_key_reused")
}

func pastTense(mode domain.CancelMode) string {
	switch mode {
	case domain.CancelVoid:
		return "voided"
	case domain.CancelArchive:
		return "archived"
	case domain.CancelDelete:
		return "deleted"
	}
	return string(mode)
}

func money(m domain.Money) string {
	return fmt.Sprintf("%s %d.%02d", m.Currency, m.Amount/100, abs(m.Amount%100))
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// update applies fn to the current row in a transaction, with optional history, and publishes
// document.updated when the sync status changed.
func (s *Service) update(ctx context.Context, d domain.Document, fn func(*domain.Document), hist ...store.HistoryEntry) (domain.Document, error) {
	return s.updateTx(ctx, d, false, fn, hist...)
}

// updateTx is update; with release, a document that ends synced also gives its push lease back
// in the same transaction (one commit less per push).
func (s *Service) updateTx(ctx context.Context, d domain.Document, release bool, fn func(*domain.Document), hist ...store.HistoryEntry) (domain.Document, error) {
	var cur domain.Document
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if cur, err = tx.LockDocument(ctx, d.AccountID, d.Kind, d.Ref); err != nil {
			return err
		}
		before := cur.Sync.Status
		fn(&cur)
		save := tx.SaveDocument
		if release && cur.Sync.Status == domain.SyncSynced {
			save = tx.SaveDocumentReleasing
		}
		if err := save(ctx, cur); err != nil {
			return err
		}
		for _, h := range hist {
			h.At = s.now()
			if err := tx.AddHistory(ctx, d.AccountID, d.Kind, d.Ref, h); err != nil {
				return err
			}
		}
		if before != cur.Sync.Status && cur.Sync.Status != domain.SyncSyncing {
			return s.publish(ctx, tx, cur)
		}
		return nil
	})
	return cur, err
}

// failed records a failed push. Rate limits wait as the provider asks without spending an
// attempt; errors a retry cannot fix fail at once with the provider's message.
func (s *Service) failed(ctx context.Context, d domain.Document, perr error, attempt, maxAttempts int) error {
	lastAttempt := attempt >= maxAttempts
	kind := connector.KindOf(perr)
	msg := connector.Message(perr)
	var paced *connector.PacedError
	if errors.As(perr, &paced) {
		// Our own limiter would hold the call longer than a worker waits: snooze, with no
		// history entry (this is pacing, not a failure) and the document pending again.
		if _, err := s.update(ctx, d, func(cur *domain.Document) {
			if cur.Sync.Status == domain.SyncSyncing {
				cur.Sync.Status = domain.SyncPending
			}
		}); err != nil {
			return err
		}
		return river.JobSnooze(paced.Wait)
	}
	if kind == connector.KindRateLimited {
		wait := 2 * time.Second
		var ce *connector.Error
		if errors.As(perr, &ce) && ce.RetryAfter > 0 {
			wait = ce.RetryAfter
		}
		_, err := s.update(ctx, d, func(cur *domain.Document) { cur.Sync.Status = domain.SyncPending },
			store.HistoryEntry{Action: "push", Outcome: "waiting", Summary: fmt.Sprintf("The POS asked to slow down; trying again in %s", wait), Error: msg})
		if err != nil {
			return err
		}
		return river.JobSnooze(wait)
	}
	permanent := kind == connector.KindInvalid || kind == connector.KindNotFound || kind == connector.KindUnsupported ||
		kind == connector.KindCredentials || kind == connector.KindConflict
	next := s.now().Add(pushRetryDelay(attempt))
	summary := fmt.Sprintf("Sync failed; retrying automatically at %s (attempt %d of %d)", next.UTC().Format("15:04:05 UTC"), attempt+1, maxAttempts)
	switch {
	case isNotLinked(perr):
		summary = "Nothing was sent: the POS order is not this " + string(d.Kind) + "'s any more; use Send as new to create a new order"
	case permanent || lastAttempt:
		summary = "Sync failed; use Retry once the cause is fixed"
	}
	if _, err := s.update(ctx, d, func(cur *domain.Document) {
		cur.Sync.Status, cur.Sync.LastError = domain.SyncFailed, msg
		if !permanent && !lastAttempt && !isNotLinked(perr) {
			cur.Sync.Status = domain.SyncRetrying
			cur.Sync.NextAttemptAt, cur.Sync.Attempt, cur.Sync.MaxAttempts = &next, attempt+1, maxAttempts
		}
	}, store.HistoryEntry{Action: "push", Outcome: "failed", Summary: summary, Error: perr.Error()}); err != nil {
		return err
	}
	if permanent || lastAttempt {
		return river.JobCancel(perr)
	}
	return perr
}

// publish tells the app's webhook endpoints that the document changed.
func (s *Service) publish(ctx context.Context, tx *store.Tx, d domain.Document) error {
	return s.out.Publish(ctx, tx, d.AccountID, domain.EventDocumentUpdated, DocumentJSONOf(d))
}
