package catalogsync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Triggers of history entries besides the POS's own (its webhook topics, "reconciliation poll").
const (
	TriggerImport  = store.HistoryImport
	TriggerAppEdit = "app edit"
)

// CustomerPatch is an edit of a customer in the app: the fields sent change, the others keep
// their value. An empty string clears a field.
type CustomerPatch struct {
	Email     *string `json:"email"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Phone     *string `json:"phone"`
	Reference *string `json:"reference"`
}

// apply checks the patch and applies it to c.
func (p CustomerPatch) apply(c *domain.Customer) error {
	if p.Email == nil && p.FirstName == nil && p.LastName == nil && p.Phone == nil && p.Reference == nil {
		return &domain.Error{Code: domain.CodeInvalid, Message: "send at least one of email, first_name, last_name, phone and reference"}
	}
	for _, f := range []struct {
		name string
		v    *string
		kind domain.TextKind
		dst  *string
	}{
		{"email", p.Email, domain.TextEmail, &c.Email},
		{"first_name", p.FirstName, domain.TextName, &c.FirstName},
		{"last_name", p.LastName, domain.TextName, &c.LastName},
		{"phone", p.Phone, domain.TextPhone, &c.Phone},
		{"reference", p.Reference, domain.TextRef, &c.Reference},
	} {
		if f.v == nil {
			continue
		}
		v := strings.TrimSpace(*f.v)
		if err := domain.CheckText(f.name, v, f.kind); err != nil {
			return err
		}
		if f.name == "email" && v != "" {
			var err error
			if v, err = domain.NormalizeEmail("email", v); err != nil {
				return err
			}
		}
		*f.dst = v
	}
	return nil
}

// UpdateCustomer writes an edit made in the app back to the POS the customer comes from, then
// records what the POS answered (change feed, records.changed, the customer's history and the
// timeline). Customers are created in the POS only; posbridge never creates one here.
func (s *Service) UpdateCustomer(ctx context.Context, accountID, actor, id string, patch CustomerPatch) (CustomerJSON, error) {
	cur, err := s.st.GetCatalogCustomer(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return CustomerJSON{}, domain.NotFound("customer")
	}
	if err != nil {
		return CustomerJSON{}, err
	}
	if cur.Deleted {
		return CustomerJSON{}, &domain.Error{Code: domain.CodeConflict, Message: "the customer was deleted in the POS; it cannot be edited"}
	}
	next := cur.Customer
	if err := patch.apply(&next); err != nil {
		return CustomerJSON{}, err
	}
	diff := domain.CustomerDiff(cur.Customer, next)
	if len(diff) == 0 {
		return CustomerJSONOf(cur), nil
	}
	i, err := s.con.Get(ctx, accountID, cur.IntegrationID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return CustomerJSON{}, &domain.Error{Code: domain.CodeConflict, Message: "the POS this customer comes from is no longer connected"}
	}
	if err != nil {
		return CustomerJSON{}, err
	}
	if i.Status == domain.StatusInactive {
		return CustomerJSON{}, &domain.Error{Code: domain.CodeInactive, Message: s.con.DisplayName(i.Type) + " is disconnected; restore it to edit its customers"}
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return CustomerJSON{}, err
	}
	sink, err := connector.As[connector.CustomerSink](conn, domain.CapCustomers)
	if err != nil {
		return CustomerJSON{}, &domain.Error{Code: domain.CodeUnsupported, Message: s.con.DisplayName(i.Type) + " does not take edits of customers from posbridge"}
	}
	next.ID = cur.ExternalID
	got, err := sink.UpdateCustomer(ctx, next)
	if err != nil {
		name := s.con.DisplayName(i.Type)
		switch connector.KindOf(err) {
		case connector.KindConflict:
			return CustomerJSON{}, &domain.Error{Code: domain.CodeConflict, Message: "the customer changed in " + name + " meanwhile; read it again and repeat the edit"}
		case connector.KindNotFound:
			return CustomerJSON{}, &domain.Error{Code: domain.CodeConflict, Message: name + " no longer has this customer"}
		case connector.KindInvalid:
			return CustomerJSON{}, &domain.Error{Code: domain.CodeInvalid, Message: name + " refused the change: " + connector.Message(err)}
		default:
			return CustomerJSON{}, &domain.Error{Code: domain.CodeUnavailable, Message: "could not reach " + name + " to save the change: " + connector.Message(err)}
		}
	}
	if got.ID == "" {
		got = next // the POS answered without the customer: it took what was sent
	}
	got.ID = cur.ExternalID
	now := s.now()
	var words []string
	for _, d := range diff {
		words = append(words, fmt.Sprintf("%s %q -> %q", d.Field, d.From, d.To))
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		ch, err := tx.UpsertCatalogCustomer(ctx, accountID, cur.IntegrationID, got, 0, now)
		if err != nil {
			return err
		}
		if err := tx.AddCatalogHistory(ctx, accountID, []domain.HistoryEntry{{Record: domain.RecordCustomer, RecordID: id, At: now,
			Trigger: TriggerAppEdit, IntegrationID: cur.IntegrationID, Actor: actor, Changes: diff}}); err != nil {
			return err
		}
		c := changeCounts{}
		c.add(domain.RecordCustomer, ch.Action)
		if err := s.publishChanges(ctx, tx, accountID, TriggerAppEdit, c); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: now, Kind: domain.KindCatalogCustomerEdited, IntegrationID: cur.IntegrationID,
			Actor: actor, Message: "Customer " + customerName(next) + " edited in the app and saved in " + s.con.DisplayName(i.Type) + ": " + strings.Join(words, ", ")})
	})
	if err != nil {
		return CustomerJSON{}, err
	}
	out, err := s.st.GetCatalogCustomer(ctx, accountID, id)
	if err != nil {
		return CustomerJSON{}, err
	}
	return CustomerJSONOf(out), nil
}

func customerName(c domain.Customer) string {
	if n := strings.TrimSpace(c.FirstName + " " + c.LastName); n != "" {
		return n
	}
	if c.Email != "" {
		return c.Email
	}
	return c.ID
}
