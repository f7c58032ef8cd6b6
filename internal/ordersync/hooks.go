package ordersync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/store"
)

// ErrBadSignature is returned when an inbound webhook's signature does not verify.
var ErrBadSignature = errors.New("the webhook signature does not verify")

// Events lists an integration's inbound webhook events ("View Webhook").
func (s *Service) Events(ctx context.Context, accountID, integrationID string, limit int) ([]store.WebhookEvent, error) {
	if _, err := s.con.Get(ctx, accountID, integrationID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.st.ListWebhookEvents(ctx, accountID, integrationID, limit)
}

// IgnoredEvents lists the counts, by topic, of the integration's inbound events acknowledged
// without being stored (see Receive).
func (s *Service) IgnoredEvents(ctx context.Context, accountID, integrationID string) ([]store.IgnoredEvents, error) {
	if _, err := s.con.Get(ctx, accountID, integrationID); err != nil {
		return nil, err
	}
	return s.st.IgnoredWebhookEvents(ctx, accountID, integrationID)
}

// applyChunk is how many pending events the apply job reads, applies and finishes at a time. A
// chunk only fills while the job is behind, and then fewer, larger chunks catch up with less of
// the database's CPU (each is a look into the pending events and an update of the batch).
const applyChunk = 500

// applyFullLook is how often the apply job looks for pending events from the start of the
// integration's events rather than from the last event it finished (see Work).
const applyFullLook = time.Second

// applyBudget is how long one run of the apply job drains before it yields its worker (and
// runs again at once).
const applyBudget = 30 * time.Second

type applyWorker struct {
	river.WorkerDefaults[ApplyArgs]
	s *Service
}

// NextRetry keeps the apply job's retries close together (1, 2, 4 ... at most 60 s apart): it is
// also retried after a crash of the process running it (River's rescue), and while it waits,
// the integration's new events wait with it.
func (w *applyWorker) NextRetry(job *river.Job[ApplyArgs]) time.Time {
	return time.Now().Add(min(time.Second<<min(max(job.Attempt-1, 0), 6), time.Minute))
}

// Work applies the integration's pending events in arrival order until none is left. It
// completes itself in the transaction that finds none under the intake lock, so that events an
// intake commits meanwhile either are found or enqueue the next job.
func (w *applyWorker) Work(ctx context.Context, job *river.Job[ApplyArgs]) error {
	s, a := w.s, job.Args
	until := time.Now().Add(applyBudget)
	if d, ok := ctx.Deadline(); ok && time.Until(d)/2 < applyBudget {
		until = time.Now().Add(time.Until(d) / 2) // yield well before River's job timeout
	}
	i, err := s.con.Get(ctx, a.AccountID, a.IntegrationID)
	gone := domain.IsCode(err, domain.CodeNotFound)
	if err != nil && !gone {
		return err
	}
	// Each look continues after the last event finished (last), so that it does not step over
	// the pending index's entries of every event finished before, which stay there until a
	// vacuum (held off by any long transaction in the database). An event that becomes visible
	// late with an earlier position (its intake committed after a later one's) is found by the
	// look from the start, made at least every applyFullLook, and by the job's last look (from the
	// start, under the intake lock), after which the job looks from the start again.
	var last *store.WebhookEvent
	fullLook := time.Now()
	for {
		var evs []store.WebhookEvent
		var err error
		if last != nil && time.Since(fullLook) < applyFullLook {
			evs, err = s.st.PendingWebhookEventsAfter(ctx, a.AccountID, a.IntegrationID, last.ReceivedAt, last.ID, applyChunk)
		} else {
			evs, err = s.st.PendingWebhookEvents(ctx, a.AccountID, a.IntegrationID, applyChunk)
			fullLook = time.Now()
		}
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			done := false
			err := s.st.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockWebhookDrain(ctx, a.IntegrationID); err != nil {
					return err
				}
				more, err := tx.HasPendingWebhookEvents(ctx, a.AccountID, a.IntegrationID)
				if err != nil || more {
					return err
				}
				done = true
				if err := tx.CloseWebhookDrain(ctx, a.IntegrationID); err != nil {
					return err
				}
				return jobs.CompleteTx(ctx, tx, job)
			})
			if err != nil || done {
				return err
			}
			last = nil // what the last look found may lie before last: look from the start
			continue
		}
		var orderIDs []string
		for _, ev := range evs {
			if appliesTo(ev.Type) && ev.ObjectID != "" {
				orderIDs = append(orderIDs, ev.ObjectID)
			}
		}
		var linked map[string]domain.Document
		if !gone {
			if linked, err = s.st.DocumentsByExternalIDs(ctx, a.AccountID, a.IntegrationID, orderIDs); err != nil {
				return err
			}
		}
		outs := make([]store.EventOutcome, 0, len(evs))
		var stop error
		for _, ev := range evs {
			status, reason := store.EventIgnored, "the integration was removed"
			if !gone {
				var err error
				status, reason, err = s.apply(ctx, i, ev, linked)
				if err != nil {
					if job.Attempt < job.MaxAttempts && connector.KindOf(err) == connector.KindTemporary {
						stop = err // later events wait: they are applied in order
						break
					}
					status, reason = store.EventFailed, err.Error()
				}
			}
			outs = append(outs, store.EventOutcome{ID: ev.ID, Status: status, Reason: reason})
		}
		if err := s.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.FinishWebhookEvents(ctx, a.AccountID, outs, s.now())
		}); err != nil {
			return err
		}
		if stop != nil {
			return stop
		}
		last = &evs[len(outs)-1]
		if time.Now().After(until) {
			return river.JobSnooze(time.Millisecond)
		}
	}
}

// EventArgs asks for one stored webhook event to be applied (the jobs of posbridge versions
// before apply_webhook_events; still worked so that none queued by them is lost).
type EventArgs struct {
	AccountID string `json:"account_id"`
	EventID   string `json:"event_id"`
}

// Kind implements river.JobArgs.
func (EventArgs) Kind() string { return "process_webhook_event" }

type eventWorker struct {
	river.WorkerDefaults[EventArgs]
	s *Service
}

func (w *eventWorker) Work(ctx context.Context, job *river.Job[EventArgs]) error {
	s := w.s
	ev, err := s.st.GetWebhookEvent(ctx, job.Args.AccountID, job.Args.EventID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ev.Status != store.EventReceived {
		return nil
	}
	i, err := s.con.Get(ctx, ev.AccountID, ev.IntegrationID)
	if err != nil {
		return err
	}
	status, reason, err := s.apply(ctx, i, ev, nil)
	if err != nil {
		if job.Attempt < job.MaxAttempts && connector.KindOf(err) == connector.KindTemporary {
			return err
		}
		status, reason = store.EventFailed, err.Error()
	}
	return s.st.FinishWebhookEvent(ctx, ev.AccountID, ev.ID, status, reason, s.now())
}

// appliesTo tells whether apply acts on events of the type (and reads their linked document).
func appliesTo(typ string) bool {
	return typ == domain.ProviderOrderCreated || typ == domain.ProviderOrderUpdated
}

// apply brings one event of integration i about; it answers the event's final status and why.
// linked, when not nil, holds the documents linked to the chunk's orders, read in one query.
func (s *Service) apply(ctx context.Context, i domain.Integration, ev store.WebhookEvent, linked map[string]domain.Document) (store.EventStatus, string, error) {
	if !appliesTo(ev.Type) {
		if s.OtherEvents != nil && ev.Type != domain.ProviderOrderDeleted {
			return s.OtherEvents(ctx, i, ev.Topic)
		}
		return store.EventIgnored, "posbridge does not act on " + ev.Topic + " events yet", nil
	}
	var d domain.Document
	var err error
	if linked != nil {
		var ok bool
		if d, ok = linked[ev.ObjectID]; !ok {
			err = store.ErrNotFound
		}
	} else {
		d, err = s.st.DocumentByExternalID(ctx, ev.AccountID, i.ID, ev.ObjectID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.EventIgnored, "no document is linked to order " + ev.ObjectID, nil
	}
	if err != nil {
		return "", "", err
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return "", "", err
	}
	sink, err := connector.As[connector.OrderSink](conn, domain.CapOrders)
	if err != nil {
		return "", "", err
	}
	o, err := sink.GetOrder(ctx, ev.ObjectID) // the event says something changed; the POS says what
	if err != nil {
		return "", "", fmt.Errorf("read order %s: %w", ev.ObjectID, err)
	}
	if o.Reference != d.Ref {
		// The order is not (or no longer) the linked document's: it must not mark that
		// document paid or completed, and the merchant sees the broken link. The document
		// the order does carry, when it is linked to it too, is the one to complete.
		perr := fmt.Errorf("order %s carries reference %q, the linked %s is %q: %w", o.ID, o.Reference, d.Kind, d.Ref, notLinked(d, o.Reference))
		if err := s.markNotLinked(ctx, d, ev.ObjectID, perr); err != nil {
			return "", "", err
		}
		other, err := s.st.DocumentByExternalRef(ctx, ev.AccountID, i.ID, ev.ObjectID, o.Reference)
		if errors.Is(err, store.ErrNotFound) {
			return store.EventIgnored, fmt.Sprintf("order %s carries reference %q, not %s %s's: the %s is left as it is (its sync is marked failed; Send as new gives it an order of its own)",
				o.ID, o.Reference, d.Kind, d.Ref, d.Kind), nil
		}
		if err != nil {
			return "", "", err
		}
		d = other
	}
	if o.State != domain.OrderCompleted {
		return store.EventIgnored, fmt.Sprintf("order %s is %s; nothing to do", o.ID, o.State), nil
	}
	changed, err := s.Complete(ctx, d)
	if err != nil {
		return "", "", err
	}
	if changed == "" {
		return store.EventProcessed, "order completed; the documents were already up to date or the settings leave them", nil
	}
	return store.EventProcessed, "order completed: " + changed, nil
}

// Complete applies "When to mark as completed": the invoice is set to paid and/or the job to
// completed (and a job's linked invoice to paid), each by its setting. It says what changed.
func (s *Service) Complete(ctx context.Context, d domain.Document) (string, error) {
	changed := ""
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		settings, err := tx.GetOrderSyncSettings(ctx, d.AccountID)
		if err != nil {
			return err
		}
		mark := func(kind domain.DocKind, ref, status string) error {
			cur, err := tx.LockDocument(ctx, d.AccountID, kind, ref)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil || cur.Status == status {
				return err
			}
			cur.Status = status
			cur.Version++
			cur.Hash = hashContent(cur.DocContent)
			cur.UpdatedAt = s.now()
			if cur.Sync.SyncedVersion == cur.Version-1 {
				cur.Sync.SyncedVersion = cur.Version // the POS already holds this state
			}
			if err := tx.SaveDocument(ctx, cur); err != nil {
				return err
			}
			if err := tx.AddHistory(ctx, d.AccountID, kind, ref, store.HistoryEntry{At: s.now(), Action: "completed_in_pos", Outcome: "ok",
				Summary: fmt.Sprintf("Order completed in the POS: %s set to %s", kind, status)}); err != nil {
				return err
			}
			if changed != "" {
				changed += ", "
			}
			changed += fmt.Sprintf("%s %s set to %s", kind, ref, status)
			return s.publish(ctx, tx, cur)
		}
		switch d.Kind {
		case domain.KindInvoice:
			if settings.MarkInvoicePaidOnCompletion {
				return mark(domain.KindInvoice, d.Ref, "paid")
			}
		case domain.KindJob, domain.KindBooking:
			if settings.MarkJobCompletedOnCompletion {
				if err := mark(d.Kind, d.Ref, "completed"); err != nil {
					return err
				}
			}
			if settings.MarkInvoicePaidOnCompletion {
				for _, l := range d.Links {
					if l.Kind == domain.KindInvoice {
						if err := mark(domain.KindInvoice, l.Ref, "paid"); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	})
	return changed, err
}
