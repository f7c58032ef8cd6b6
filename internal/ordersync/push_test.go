package ordersync

import (
	"testing"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// TestIdempotencyKey: every retry of one logical create sends the same key; Send as new (a new
// generation) and another document or account send another.
func TestIdempotencyKey(t *testing.T) {
	d := domain.Document{AccountID: "acct_1", Kind: domain.KindInvoice, Ref: "INV-1", Version: 1}
	k := idempotencyKey(d)
	d.Version = 7 // a newer version of the same create
	if idempotencyKey(d) != k {
		t.Error("the key changed with the version; a retry after a crash would create a second order")
	}
	for name, other := range map[string]domain.Document{
		"generation": {AccountID: "acct_1", Kind: domain.KindInvoice, Ref: "INV-1", Sync: domain.DocSync{Generation: 1}},
		"ref":        {AccountID: "acct_1", Kind: domain.KindInvoice, Ref: "INV-2"},
		"kind":       {AccountID: "acct_1", Kind: domain.KindJob, Ref: "INV-1"},
		"account":    {AccountID: "acct_2", Kind: domain.KindInvoice, Ref: "INV-1"},
	} {
		if idempotencyKey(other) == k {
			t.Errorf("another %s sends the same key", name)
		}
	}
}

// TestOrderTotals: the order carries the document's lines and an overflow-checked total; a total
// out of range fails the push as the document's fault (KindInvalid), never wraps.
func TestOrderTotals(t *testing.T) {
	eur := func(a int64) domain.Money { return domain.Money{Amount: a, Currency: "EUR"} }
	d := domain.Document{Kind: domain.KindInvoice, Ref: "INV-1", Sync: domain.DocSync{ExternalID: "ord_1"},
		DocContent: domain.DocContent{Lines: []domain.DocLine{
			{ProductRef: "SKU-1", Description: "Tube", Quantity: "2", UnitPrice: eur(899)},
			{Description: "Labour", Quantity: "1.5", UnitPrice: eur(4000)},
		}}}
	o, err := order(d, "store_1")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "ord_1" || o.Reference != "INV-1" || o.StoreID != "store_1" || len(o.Lines) != 2 || o.Total != eur(1798+6000) {
		t.Fatalf("order = %+v", o)
	}
	d.Lines = append(d.Lines, domain.DocLine{Description: "Too much", Quantity: "1", UnitPrice: eur(domain.MaxAmount)})
	if _, err := order(d, "store_1"); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("a total beyond MaxAmount: %v (kind %v), want KindInvalid", err, connector.KindOf(err))
	}
}

func TestPastTense(t *testing.T) {
	for mode, want := range map[domain.CancelMode]string{domain.CancelVoid: "voided", domain.CancelArchive: "archived", domain.CancelDelete: "deleted"} {
		if got := pastTense(mode); got != want {
			t.Errorf("pastTense(%s) = %q, want %q", mode, got, want)
		}
	}
}
