package ordersync

import (
	"context"
	"errors"
	"fmt"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// The connector.Error codes of a write refused because the document's POS order no longer
// carries the document's reference: it carries another one, or the POS has no such order.
const (
	codeReassigned = "order_reassigned"
	codeGone       = "order_gone"
)

// A POS can lose, merge or reassign orders (deleted in the back office, restored from a backup, a
// crashed POS that handed an acknowledged order's id out again). Before posbridge changes a
// linked order (update, void, archive, delete), and before a completed order marks a document
// paid or completed, it reads the order and checks that it still carries the document's
// reference. When it does not, nothing is written to that order: the document is marked failed
// with a sentence the merchant can act on (Send as new creates a new order), and the history
// keeps what the POS answered.

// ownedOrder reads the document's linked order and returns it when it still carries the
// document's reference and is not deleted. Otherwise it returns a KindConflict *connector.Error with code
// codeReassigned or codeGone whose Message is the merchant's sentence, wrapped with the technical detail. Other
// errors (the POS unreachable, rate limits) come back as they are, so the caller retries.
func ownedOrder(ctx context.Context, sink connector.OrderSink, d domain.Document) (domain.Order, error) {
	id := d.Sync.ExternalID
	o, err := sink.GetOrder(ctx, id)
	if connector.KindOf(err) == connector.KindNotFound {
		return o, fmt.Errorf("read order %s before changing it: the POS has no such order (%v): %w", id, err, notLinked(d, ""))
	}
	if err != nil {
		return o, fmt.Errorf("read order %s before changing it: %w", id, err)
	}
	if o.State == domain.OrderDeleted && o.Reference == d.Ref {
		return o, fmt.Errorf("read order %s before changing it: it is deleted in the POS: %w", id, notLinked(d, ""))
	}
	if o.Reference != d.Ref {
		return o, fmt.Errorf("read order %s before changing it: it carries reference %q (state %s), the %s is %q: %w",
			id, o.Reference, o.State, d.Kind, d.Ref, notLinked(d, o.Reference))
	}
	return o, nil
}

// notLinked is the merchant's sentence for a document whose order is gone (other == "") or
// carries the reference other.
func notLinked(d domain.Document, other string) *connector.Error {
	if other == "" {
		return &connector.Error{Kind: connector.KindConflict, Code: codeGone,
			Message: fmt.Sprintf("The POS order %s was deleted or lost in the POS; use Send as new to create a new order.", d.Sync.ExternalID)}
	}
	return &connector.Error{Kind: connector.KindConflict, Code: codeReassigned,
		Message: fmt.Sprintf("The POS order %s now belongs to %s, not this %s; use Send as new to create a new order.", d.Sync.ExternalID, other, d.Kind)}
}

// isNotLinked tells whether err is a refusal of ownedOrder.
func isNotLinked(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && (ce.Code == codeReassigned || ce.Code == codeGone)
}

// isGone tells whether err is ownedOrder's refusal because the POS has no such order.
func isGone(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && ce.Code == codeGone
}

// markNotLinked records that the synced document's order orderID is not its own any more, found
// by a webhook or the reconciliation poll: the document is marked failed with the merchant's
// sentence. It changes nothing when the document moved on meanwhile (another order, or a push
// queued or under way, which checks the order itself).
func (s *Service) markNotLinked(ctx context.Context, d domain.Document, orderID string, perr error) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockDocument(ctx, d.AccountID, d.Kind, d.Ref)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.Sync.ExternalID != orderID || cur.Sync.Status != domain.SyncSynced {
			return nil
		}
		cur.Sync.Status, cur.Sync.LastError = domain.SyncFailed, connector.Message(perr)
		if err := tx.SaveDocument(ctx, cur); err != nil {
			return err
		}
		if err := tx.AddHistory(ctx, d.AccountID, d.Kind, d.Ref, store.HistoryEntry{At: s.now(), Action: "check", Outcome: "failed",
			Summary: "The POS order is not this " + string(d.Kind) + "'s any more; use Send as new to create a new order", Error: perr.Error()}); err != nil {
			return err
		}
		return s.publish(ctx, tx, cur)
	})
}
