package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestWebhookIntakeAndDrain: events stored in one intake transaction are deduplicated on
// (integration, provider event id) against the table, listed for applying in arrival order and
// finished in one statement; and an intake of an integration's events does not commit while a
// drain holds that integration's lock, so a drain that finds nothing pending under the lock can
// complete its job without missing events.
func TestWebhookIntakeAndDrain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st := open(t, db)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		for _, a := range []string{"acct_a", "acct_b"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		ev := func(n int, acct, integ, peid string) store.WebhookEvent {
			return store.WebhookEvent{ID: fmt.Sprintf("whev_%s_%03d", integ, n), AccountID: acct, IntegrationID: integ, ProviderEventID: peid,
				Type: domain.ProviderOrderUpdated, Topic: "order.completed", ObjectID: "ord_1", Status: "received", Payload: "{}",
				ReceivedAt: now.Add(time.Duration(n) * time.Millisecond)}
		}
		intake := func(evs ...store.WebhookEvent) []bool {
			t.Helper()
			var fresh []bool
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				fresh, _, err = tx.IntakeWebhookEvents(ctx, evs)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return fresh
		}
		got := intake(ev(1, "acct_a", "int_a", "evt_1"), ev(2, "acct_a", "int_a", "evt_2"), ev(3, "acct_b", "int_b", "evt_1"))
		if fmt.Sprint(got) != "[true true true]" {
			t.Fatalf("first intake: %v", got)
		}
		got = intake(ev(4, "acct_a", "int_a", "evt_2"), ev(5, "acct_a", "int_a", "evt_3"))
		if fmt.Sprint(got) != "[false true]" {
			t.Fatalf("second intake (evt_2 again): %v", got)
		}
		pend, err := st.PendingWebhookEvents(ctx, "acct_a", "int_a", 10)
		if err != nil || len(pend) != 3 || pend[0].ProviderEventID != "evt_1" || pend[2].ProviderEventID != "evt_3" {
			t.Fatalf("pending of int_a: %+v %v", pend, err)
		}
		after, err := st.PendingWebhookEventsAfter(ctx, "acct_a", "int_a", pend[0].ReceivedAt, pend[0].ID, 10)
		if err != nil || len(after) != 2 || after[0].ProviderEventID != "evt_2" || after[1].ProviderEventID != "evt_3" {
			t.Fatalf("pending of int_a after evt_1: %+v %v", after, err)
		}
		// Same time, later id: after; same time, earlier id: not.
		if after, err := st.PendingWebhookEventsAfter(ctx, "acct_a", "int_a", pend[2].ReceivedAt, "whev_int_a_000", 10); err != nil || len(after) != 1 || after[0].ProviderEventID != "evt_3" {
			t.Fatalf("pending of int_a after (evt_3's time, a smaller id): %+v %v", after, err)
		}
		if after, err := st.PendingWebhookEventsAfter(ctx, "acct_a", "int_a", pend[2].ReceivedAt, pend[2].ID, 10); err != nil || len(after) != 0 {
			t.Fatalf("pending of int_a after evt_3: %+v %v", after, err)
		}
		if other, _ := st.PendingWebhookEvents(ctx, "acct_b", "int_a", 10); len(other) != 0 {
			t.Fatalf("another account lists int_a's events: %+v", other)
		}
		if err := st.FinishWebhookEvents(ctx, "acct_a", []store.EventOutcome{{ID: pend[0].ID, Status: "processed", Reason: "done"},
			{ID: pend[1].ID, Status: "ignored", Reason: "nothing"}}, now); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishWebhookEvents(ctx, "acct_b", []store.EventOutcome{{ID: pend[2].ID, Status: "processed"}}, now); err != nil {
			t.Fatal(err)
		}
		if total, pending, err := st.CountWebhookEvents(ctx, "acct_a", "int_a"); err != nil || total != 3 || pending != 1 {
			t.Fatalf("int_a: %d stored, %d pending, %v; want 3 and 1 (another account cannot finish its events)", total, pending, err)
		}

		// The sweep finds the integrations whose events wait (int_a's evt_3, int_b's evt_1), and
		// only once they waited.
		if stale, err := st.IntegrationsWithStaleWebhookEvents(ctx, now, 10); err != nil || len(stale) != 0 {
			t.Fatalf("stale before any event waited: %+v %v", stale, err)
		}
		stale, err := st.IntegrationsWithStaleWebhookEvents(ctx, now.Add(time.Hour), 10)
		if err != nil || len(stale) != 2 || !slices.Contains(stale, store.PendingWebhookIntegration{AccountID: "acct_a", IntegrationID: "int_a"}) ||
			!slices.Contains(stale, store.PendingWebhookIntegration{AccountID: "acct_b", IntegrationID: "int_b"}) {
			t.Fatalf("stale an hour later: %+v %v", stale, err)
		}

		// The drain's lock holds an intake of the same integration back until the drain ends.
		drainHolds := make(chan struct{})
		drainEnd := make(chan struct{})
		drained := make(chan error, 1)
		go func() {
			drained <- st.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockWebhookDrain(ctx, "int_c"); err != nil {
					return err
				}
				close(drainHolds)
				<-drainEnd
				more, err := tx.HasPendingWebhookEvents(ctx, "acct_a", "int_c")
				if err == nil && more {
					err = fmt.Errorf("the drain sees an event whose intake had to wait for it")
				}
				return err
			})
		}()
		<-drainHolds
		committed := make(chan error, 1)
		go func() {
			committed <- st.InTx(ctx, func(tx *store.Tx) error {
				_, _, err := tx.IntakeWebhookEvents(ctx, []store.WebhookEvent{ev(6, "acct_a", "int_c", "evt_1")})
				return err
			})
		}()
		select {
		case <-committed:
			t.Fatal("an intake committed while the drain held the integration's lock")
		case <-time.After(300 * time.Millisecond):
		}
		close(drainEnd)
		if err := <-drained; err != nil {
			t.Fatal(err)
		}
		if err := <-committed; err != nil {
			t.Fatal(err)
		}
		if more, err := st.HasPendingWebhookEvents(ctx, "acct_a", "int_c"); err != nil || !more {
			t.Fatalf("after the drain, the intake's event: pending %v %v", more, err)
		}
	})
}

// TestWebhookDrains: an integration's drain is open from the intake transaction that enqueued its
// apply job until the job's last look closes it; a rolled-back intake opens nothing, and opening
// twice is harmless (two committers may both have enqueued).
func TestWebhookDrains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st := open(t, db)
		drains := func() map[string]bool {
			t.Helper()
			got, err := st.OpenWebhookDrains(ctx, []string{"int_a", "int_b", "int_c"})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := drains(); len(got) != 0 {
			t.Fatalf("before any intake: %v", got)
		}
		rollback := errors.New("roll back")
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.OpenWebhookDrain(ctx, "int_c"); err != nil {
				return err
			}
			return rollback
		}); !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		for range 2 {
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.OpenWebhookDrain(ctx, "int_a"); err != nil {
					return err
				}
				return tx.OpenWebhookDrain(ctx, "int_b")
			}); err != nil {
				t.Fatal(err)
			}
		}
		if got := drains(); !got["int_a"] || !got["int_b"] || len(got) != 2 {
			t.Fatalf("after two intakes of int_a and int_b (and a rolled-back one of int_c): %v", got)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CloseWebhookDrain(ctx, "int_a") }); err != nil {
			t.Fatal(err)
		}
		if got := drains(); got["int_a"] || !got["int_b"] || len(got) != 1 {
			t.Fatalf("after int_a's last look: %v, want only int_b", got)
		}
		// The intake reads the open drains of its own events' integrations, in its transaction.
		if err := st.CreateAccount(ctx, domain.Account{ID: "acct_a", Name: "a", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		ev := func(integ string) store.WebhookEvent {
			return store.WebhookEvent{ID: "whev_" + integ, AccountID: "acct_a", IntegrationID: integ, ProviderEventID: "evt_1",
				Type: domain.ProviderOrderUpdated, Topic: "order.completed", Status: "received", ReceivedAt: time.Now()}
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			fresh, open, err := tx.IntakeWebhookEvents(ctx, []store.WebhookEvent{ev("int_a"), ev("int_b"), ev("int_c")})
			if err == nil && (fmt.Sprint(fresh) != "[true true true]" || !open["int_b"] || len(open) != 1) {
				err = fmt.Errorf("intake of int_a, int_b, int_c: new %v, open drains %v, want all new and only int_b open", fresh, open)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestIgnoredWebhookEvents: counts of events acknowledged without being stored add up per
// integration and topic, keep the latest arrival, and are listed for their account only, most
// recent first.
func TestIgnoredWebhookEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st := open(t, db)
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		add := func(counts ...store.IgnoredEvents) {
			t.Helper()
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.AddIgnoredWebhookEvents(ctx, counts) }); err != nil {
				t.Fatal(err)
			}
		}
		c := func(integ, topic string, n int64, at time.Time) store.IgnoredEvents {
			return store.IgnoredEvents{AccountID: "acct_a", IntegrationID: integ, Topic: topic, Count: n, LastAt: at}
		}
		add(c("int_a", "product.created", 100, t0.Add(2*time.Second)), c("int_a", "product.updated", 2, t0), c("int_b", "product.created", 7, t0))
		add(c("int_a", "product.created", 50, t0.Add(time.Second))) // flushed late: the last arrival stays
		add(c("int_a", "product.updated", 1, t0.Add(3*time.Second)))
		got, err := st.IgnoredWebhookEvents(ctx, "acct_a", "int_a")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.IgnoredEvents{c("int_a", "product.updated", 3, t0.Add(3*time.Second)), c("int_a", "product.created", 150, t0.Add(2*time.Second))}
		if !slices.EqualFunc(got, want, func(a, b store.IgnoredEvents) bool { return a == b }) {
			t.Fatalf("int_a's ignored events: %+v, want %+v", got, want)
		}
		if got, err := st.IgnoredWebhookEvents(ctx, "acct_b", "int_b"); err != nil || len(got) != 0 {
			t.Fatalf("another account's view of int_b: %+v, %v", got, err)
		}
	})
}
