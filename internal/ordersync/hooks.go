package ordersync

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// ErrBadSignature is returned when an inbound webhook's signature does not verify.
var ErrBadSignature = errors.New("the webhook signature does not verify")

// Receive verifies an inbound provider webhook over its raw body and stores its events durably
// (deduplicated on the provider's event id) before the caller answers 2xx; processing happens
// in the background. It reports how many events were new.
func (s *Service) Receive(ctx context.Context, integrationID string, header http.Header, body []byte, url string) (int, int, error) {
	i, err := s.st.IntegrationByID(ctx, integrationID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0, domain.NotFound("integration")
	}
	if err != nil {
		return 0, 0, err
	}
	conn, err := s.lc.Connector(ctx, i)
	if err != nil {
		return 0, 0, err
	}
	rx, err := connector.As[connector.WebhookReceiver](conn, domain.CapWebhooks)
	if err != nil {
		return 0, 0, &domain.Error{Code: domain.CodeUnsupported, Message: "this provider sends no webhooks"}
	}
	secret, err := s.lc.WebhookSecret(ctx, i)
	if err != nil {
		return 0, 0, err
	}
	events, err := rx.ParseWebhook(header, body, url, secret)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	fresh, dup := 0, 0
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		for _, ev := range events {
			e := store.WebhookEvent{ID: auth.NewID("whev"), AccountID: i.AccountID, IntegrationID: i.ID, ProviderEventID: ev.ID,
				Type: ev.Type, Topic: ev.Topic, ObjectID: ev.ObjectID, Status: "received", Payload: string(ev.Payload), ReceivedAt: s.now()}
			if i.Status == domain.StatusInactive {
				e.Status, e.Reason = "ignored", "the integration is inactive"
			}
			isNew, err := tx.InsertWebhookEvent(ctx, e)
			if err != nil {
				return err
			}
			if !isNew {
				dup++
				continue
			}
			fresh++
			if e.Status == "received" {
				if err := s.q.InsertTx(ctx, tx, EventArgs{AccountID: i.AccountID, EventID: e.ID}, &river.InsertOpts{MaxAttempts: 10}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return fresh, dup, err
}

// Events lists an integration's inbound webhook events ("View Webhook").
func (s *Service) Events(ctx context.Context, accountID, integrationID string, limit int) ([]store.WebhookEvent, error) {
	if _, err := s.lc.Get(ctx, accountID, integrationID); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.st.ListWebhookEvents(ctx, accountID, integrationID, limit)
}

// EventArgs asks for one stored webhook event to be applied.
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
	if ev.Status != "received" {
		return nil
	}
	status, reason, err := s.apply(ctx, ev)
	if err != nil {
		if job.Attempt < job.MaxAttempts && connector.KindOf(err) == connector.KindTemporary {
			return err
		}
		status, reason = "failed", err.Error()
	}
	return s.st.FinishWebhookEvent(ctx, ev.AccountID, ev.ID, status, reason, s.now())
}

// apply brings one event's effect about; it answers the event's final status and why.
func (s *Service) apply(ctx context.Context, ev store.WebhookEvent) (string, string, error) {
	switch ev.Type {
	case domain.ProviderOrderCreated, domain.ProviderOrderUpdated:
	default:
		return "ignored", "posbridge does not act on " + ev.Topic + " events yet", nil
	}
	i, err := s.lc.Get(ctx, ev.AccountID, ev.IntegrationID)
	if err != nil {
		return "", "", err
	}
	d, err := s.st.DocumentByExternalID(ctx, ev.AccountID, i.ID, ev.ObjectID)
	if errors.Is(err, store.ErrNotFound) {
		return "ignored", "no document is linked to order " + ev.ObjectID, nil
	}
	if err != nil {
		return "", "", err
	}
	conn, err := s.lc.Connector(ctx, i)
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
			return "ignored", fmt.Sprintf("order %s carries reference %q, not %s %s's: the %s is left as it is (its sync is marked failed; Send as new gives it an order of its own)",
				o.ID, o.Reference, d.Kind, d.Ref, d.Kind), nil
		}
		if err != nil {
			return "", "", err
		}
		d = other
	}
	if o.State != domain.OrderCompleted {
		return "ignored", fmt.Sprintf("order %s is %s; nothing to do", o.ID, o.State), nil
	}
	changed, err := s.Complete(ctx, d)
	if err != nil {
		return "", "", err
	}
	if changed == "" {
		return "processed", "order completed; the documents were already up to date or the settings leave them", nil
	}
	return "processed", "order completed: " + changed, nil
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
