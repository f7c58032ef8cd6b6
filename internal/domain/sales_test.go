package domain

import (
	"fmt"
	"testing"
	"time"
)

func TestNextSalesAtSpreads(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	perMinute := map[int64]int{}
	const n = 10000
	for i := 0; i < n; i++ {
		next := NextSalesAt(fmt.Sprintf("int_%020d", i), DefaultSalesInterval, now)
		if !next.After(now) || next.Sub(now) > DefaultSalesInterval {
			t.Fatalf("next %v not within one interval after %v", next, now)
		}
		// Stable: asked again later within the same slot, the same time.
		if again := NextSalesAt(fmt.Sprintf("int_%020d", i), DefaultSalesInterval, next.Add(-time.Second)); !again.Equal(next) {
			t.Fatalf("unstable: %v then %v", next, again)
		}
		perMinute[next.Unix()/60]++
	}
	mean := float64(n) / DefaultSalesInterval.Minutes()
	busiest := 0
	for _, c := range perMinute {
		busiest = max(busiest, c)
	}
	t.Logf("10,000 integrations over 6 h: busiest minute %d, mean %.1f", busiest, mean)
	if float64(busiest) > 2*mean+3 {
		t.Fatalf("busiest minute starts %d fetches, mean %.1f", busiest, mean)
	}
}

func TestApplySalesFetch(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	i := Integration{Status: StatusHealthy}
	if tr := i.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{OK: true}}, 3, now); tr != nil || i.LastSalesCheckAt == nil || i.LastSaleImportedAt != nil || i.LastCheckAt != nil {
		t.Fatalf("no new sale: %+v %+v", i, tr)
	}
	i.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{OK: true}, NewSales: true}, 3, now)
	if i.LastSaleImportedAt == nil {
		t.Fatal("new sale did not move last_sale_imported_at")
	}
	later := now.Add(time.Hour)
	tr := i.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{Message: "500"}}, 3, later)
	if tr == nil || i.Status != StatusFailed || !i.LastSalesCheckAt.Equal(later) || !i.LastSaleImportedAt.Equal(now) {
		t.Fatalf("failure: %+v %+v", i, tr)
	}
	i.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{Message: "500"}}, 3, later)
	if tr := i.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{Message: "500"}}, 3, later); tr == nil || i.Status != StatusCalledOff {
		t.Fatalf("third failure: %+v", i)
	}
	// A fetch that comes before the credentials check leaves a new integration Initializing: the
	// check makes it Healthy, with its default store.
	n := Integration{Status: StatusInitializing}
	if tr := n.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{OK: true}, NewSales: true}, 3, now); tr != nil || n.Status != StatusInitializing || n.LastSaleImportedAt == nil {
		t.Fatalf("a fetch before the check: %+v %+v", n, tr)
	}
	if tr := n.ApplySalesFetch(SalesFetchOutcome{CheckOutcome: CheckOutcome{Message: "500"}}, 3, now); tr == nil || n.Status != StatusFailed {
		t.Fatalf("a failed fetch before the check: %+v %+v", n, tr)
	}
}
