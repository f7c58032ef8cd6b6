package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// The owner check: a POS can lose, merge or reassign orders (a back-office delete, a restore from
// backup, a crashed POS handing an acknowledged order's id out again). Before posbridge changes a
// linked order, or lets a completed order mark a document paid, the order must still carry the
// document's reference; otherwise the document fails with a sentence naming the way out (Send as
// new) and the other order is left untouched. Through the REST API and the Sandbox POS, on SQLite
// and PostgreSQL.

// TestOrderOwnerCheck runs the owner check scenarios on both databases.
func TestOrderOwnerCheck(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		for _, sc := range []struct {
			name string
			fn   func(t *testing.T, e *env)
		}{
			{"reassigned_order", scenOwnerReassigned},
			{"two_documents_one_order", scenOwnerShared},
			{"deleted_order", scenOwnerGone},
			{"cancel_of_foreign_order", scenOwnerCancel},
			{"completion_of_foreign_order", scenOwnerCompletion},
			{"create_replayed_after_an_edit", scenCreateReplayedAfterEdit},
		} {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.fn(t, e)
			})
		}
	})
}

// sbxAPIOrder is an order as the Sandbox POS's own API shows it.
type sbxAPIOrder struct {
	ID        string           `json:"id"`
	Reference string           `json:"reference"`
	StoreID   string           `json:"store_id"`
	State     string           `json:"state"`
	Lines     []map[string]any `json:"lines"`
	Note      string           `json:"note"`
	Version   int64            `json:"version"`
}

// apiOrder reads an order through the sandbox's API with the tenant's key.
func (s *scen) apiOrder(id string) sbxAPIOrder {
	s.t.Helper()
	r := mustStatus(s.t, 200, do(s.t, s.e.url, s.sbx, "GET", "/sandbox/api/v1/orders/"+id, nil))
	var o sbxAPIOrder
	if err := json.Unmarshal(r.Body, &o); err != nil {
		s.t.Fatalf("sandbox order %s: %v %s", id, err, r.Body)
	}
	return o
}

// reassign gives a sandbox order another reference through the sandbox's API, as a POS restored
// from a backup or one that handed the id out again would show it.
func (s *scen) reassign(id, ref string) sbxAPIOrder {
	s.t.Helper()
	o := s.apiOrder(id)
	lines := []map[string]any{}
	for _, l := range o.Lines {
		lines = append(lines, map[string]any{"name": l["name"], "quantity": l["quantity"], "unit_price": l["unit_price"]})
	}
	mustStatus(s.t, 200, do(s.t, s.e.url, s.sbx, "PUT", "/sandbox/api/v1/orders/"+id,
		map[string]any{"reference": ref, "store_id": o.StoreID, "lines": lines, "note": o.Note}))
	return s.apiOrder(id)
}

// notBelongs is the merchant's sentence for an order that carries another reference.
func notBelongs(order, other, kind string) string {
	return fmt.Sprintf("The POS order %s now belongs to %s, not this %s; use Send as new to create a new order.", order, other, kind)
}

// lastFailure is the newest failed history entry.
func (s *scen) lastFailure(kind, ref string) map[string]any {
	s.t.Helper()
	for _, h := range s.history(kind, ref) {
		if h["outcome"] == "failed" {
			return h
		}
	}
	s.t.Fatalf("%s %s has no failed history entry: %v", kind, ref, s.history(kind, ref))
	return nil
}

// sendAsNew asks for a new order and waits until the document is synced to an order other than old.
func (s *scen) sendAsNew(kind, ref, old string, void bool) string {
	s.t.Helper()
	s.must(202, "POST", "/api/v1/documents/"+kind+"/"+ref+"/sync/send-as-new", map[string]any{"void_existing": void})
	var d map[string]any
	poll(s.t, kind+" "+ref+" synced to a new order", func() bool {
		d = s.doc(kind, ref)
		return syncOf(d)["status"] == "synced" && syncOf(d)["external_id"] != old
	})
	if e := syncOf(d)["last_error"]; e != "" {
		s.t.Fatalf("last_error after Send as new: %v", e)
	}
	return syncOf(d)["external_id"].(string)
}

// scenOwnerReassigned: the POS gave the document's order to another reference. Re-sync and an
// edit both fail with the sentence and leave that order as it is; Send as new (asked to void the
// old order) creates the document's own order and does not void the other's.
func scenOwnerReassigned(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "FLT-0312", docBody("issued", "Service"))
	mine := syncOf(s.waitSync("invoice", "FLT-0312", "synced"))["external_id"].(string)
	s.put("invoice", "FLT-0200", docBody("issued", "Wheel"))
	theirs := syncOf(s.waitSync("invoice", "FLT-0200", "synced"))["external_id"].(string)
	before := s.reassign(mine, "FLT-0200")

	s.must(202, "POST", "/api/v1/documents/invoice/FLT-0312/sync/resync", nil)
	d := s.waitSync("invoice", "FLT-0312", "failed")
	if got, want := syncOf(d)["last_error"], notBelongs(mine, "FLT-0200", "invoice"); got != want {
		t.Fatalf("last_error %q, want %q", got, want)
	}
	if syncOf(d)["external_id"] != mine {
		t.Fatalf("the failed document lost its link: %v", syncOf(d))
	}
	h := s.lastFailure("invoice", "FLT-0312")
	if !strings.Contains(h["summary"].(string), "Send as new") || !strings.Contains(h["error"].(string), `carries reference "FLT-0200"`) {
		t.Fatalf("history entry: %v", h)
	}
	if after := s.apiOrder(mine); after.Version != before.Version || after.Reference != "FLT-0200" || len(after.Lines) != 1 {
		t.Fatalf("the other order changed: %+v -> %+v", before, after)
	}
	// An edit does not reach the order either; Retry fails the same way.
	s.put("invoice", "FLT-0312", docBody("issued", "Service", "Chain"))
	poll(t, "the edit failed", func() bool {
		d = s.doc("invoice", "FLT-0312")
		return syncOf(d)["status"] == "failed" && d["version"].(float64) == 2
	})
	s.must(202, "POST", "/api/v1/documents/invoice/FLT-0312/sync/retry", nil)
	d = s.waitSync("invoice", "FLT-0312", "failed")
	if after := s.apiOrder(mine); after.Version != before.Version || len(after.Lines) != 1 {
		t.Fatalf("the other order changed: %+v -> %+v", before, after)
	}
	if got := syncOf(d)["last_error"]; got != notBelongs(mine, "FLT-0200", "invoice") {
		t.Fatalf("last_error after retry %q", got)
	}

	// Send as new, voiding the old order: the old order is not this invoice's, so it stays open.
	fresh := s.sendAsNew("invoice", "FLT-0312", mine, true)
	if o := s.apiOrder(fresh); o.Reference != "FLT-0312" || len(o.Lines) != 2 || o.State != "open" {
		t.Fatalf("the new order: %+v", o)
	}
	if o := s.apiOrder(mine); o.State != "open" || o.Version != before.Version {
		t.Fatalf("the other document's order was touched: %+v", o)
	}
	if !strings.Contains(s.history("invoice", "FLT-0312")[0]["summary"].(string), "was not voided") {
		t.Fatalf("history: %v", s.history("invoice", "FLT-0312")[0])
	}
	if d := s.doc("invoice", "FLT-0200"); syncOf(d)["status"] != "synced" || syncOf(d)["external_id"] != theirs {
		t.Fatalf("FLT-0200 changed: %v", syncOf(d))
	}
	if n := len(s.orders()); n != 3 {
		t.Fatalf("%d sandbox orders, want 3", n)
	}
}

// scenOwnerShared: two documents point at one order (what a POS that forgot an acknowledged
// order left after a crash). The one whose reference the order does not carry fails on Re-sync
// without touching the order; the order's own document is unaffected.
func scenOwnerShared(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "MIS-A", docBody("issued", "Service"))
	ord := syncOf(s.waitSync("invoice", "MIS-A", "synced"))["external_id"].(string)
	s.put("invoice", "MIS-B", with(docBody("issued", "Tyre"), "sync_to_pos", false))
	s.misattribute("invoice", "MIS-B", ord)
	before := s.apiOrder(ord)

	s.must(202, "POST", "/api/v1/documents/invoice/MIS-B/sync/resync", nil)
	d := s.waitSync("invoice", "MIS-B", "failed")
	if got, want := syncOf(d)["last_error"], notBelongs(ord, "MIS-A", "invoice"); got != want {
		t.Fatalf("last_error %q, want %q", got, want)
	}
	if after := s.apiOrder(ord); after.Version != before.Version || after.Reference != "MIS-A" || after.Lines[0]["name"] != "Service" {
		t.Fatalf("MIS-A's order changed: %+v -> %+v", before, after)
	}
	fresh := s.sendAsNew("invoice", "MIS-B", ord, false)
	if o := s.apiOrder(fresh); o.Reference != "MIS-B" || o.Lines[0]["name"] != "Tyre" {
		t.Fatalf("the new order: %+v", o)
	}
	if d := s.doc("invoice", "MIS-A"); syncOf(d)["status"] != "synced" || syncOf(d)["external_id"] != ord {
		t.Fatalf("MIS-A: %v", syncOf(d))
	}
}

// misattribute links a document to an order in the database, as the crash the owner check
// guards against left it: synced, pointing at another document's order.
func (s *scen) misattribute(kind, ref, order string) {
	s.t.Helper()
	ctx := context.Background()
	d, err := s.e.app.Store.GetDocument(ctx, s.accountID, domain.DocKind(kind), ref)
	if err != nil {
		s.t.Fatal(err)
	}
	now := time.Now()
	d.Sync.Status, d.Sync.IntegrationID, d.Sync.ExternalID, d.Sync.SyncedVersion, d.Sync.LastSyncedAt = domain.SyncSynced, s.integration, order, d.Version, &now
	d.UpdatedAt = now
	if err := s.e.app.Store.SaveDocument(ctx, d); err != nil {
		s.t.Fatal(err)
	}
}

// scenOwnerGone: the order was deleted in the POS. Re-sync fails with the sentence, Send as new
// creates a new order.
func scenOwnerGone(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "G-1", docBody("issued", "Service"))
	ord := syncOf(s.waitSync("invoice", "G-1", "synced"))["external_id"].(string)
	mustStatus(t, 200, do(t, e.url, s.sbx, "DELETE", "/sandbox/api/v1/orders/"+ord, nil))
	s.must(202, "POST", "/api/v1/documents/invoice/G-1/sync/resync", nil)
	d := s.waitSync("invoice", "G-1", "failed")
	want := fmt.Sprintf("The POS order %s was deleted or lost in the POS; use Send as new to create a new order.", ord)
	if got := syncOf(d)["last_error"]; got != want {
		t.Fatalf("last_error %q, want %q", got, want)
	}
	fresh := s.sendAsNew("invoice", "G-1", ord, true)
	if o := s.apiOrder(fresh); o.Reference != "G-1" || o.State != "open" {
		t.Fatalf("the new order: %+v", o)
	}
}

// scenOwnerCancel: a cancelled job whose order the POS gave to another reference does not void
// that order.
func scenOwnerCancel(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"on_cancel": "void"})
	s.put("job", "J-1", docBody("open", "Fitting"))
	ord := syncOf(s.waitSync("job", "J-1", "synced"))["external_id"].(string)
	s.reassign(ord, "OTHER-7")
	s.put("job", "J-1", docBody("cancelled", "Fitting"))
	d := s.waitSync("job", "J-1", "failed")
	if got, want := syncOf(d)["last_error"], notBelongs(ord, "OTHER-7", "job"); got != want {
		t.Fatalf("last_error %q, want %q", got, want)
	}
	if o := s.apiOrder(ord); o.State != "open" {
		t.Fatalf("the other order was cancelled: %+v", o)
	}
	// Send as new on a cancelled job: there is nothing to create.
	s.must(202, "POST", "/api/v1/documents/job/J-1/sync/send-as-new", map[string]any{"void_existing": true})
	d = s.waitSync("job", "J-1", "not_sent")
	if syncOf(d)["external_id"] != "" || syncOf(d)["last_error"] != "" {
		t.Fatalf("after Send as new: %v", syncOf(d))
	}
	if o := s.apiOrder(ord); o.State != "open" {
		t.Fatalf("the other order was voided: %+v", o)
	}
}

// scenOwnerCompletion: a completion webhook for an order that no longer carries the linked
// document's reference leaves that document unpaid, records the event as ignored with the
// reason, and marks the document failed; the order's own document, when it is linked too, is
// the one marked paid.
func scenOwnerCompletion(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": true})
	s.waitSubscribed()
	s.put("invoice", "W-A", docBody("issued", "Service"))
	ord := syncOf(s.waitSync("invoice", "W-A", "synced"))["external_id"].(string)
	s.reassign(ord, "W-Z")
	ev := s.complete(ord)
	if ev["status"] != "ignored" || !strings.Contains(ev["reason"].(string), `carries reference "W-Z"`) {
		t.Fatalf("event %v", ev)
	}
	d := s.doc("invoice", "W-A")
	if d["status"] != "issued" {
		t.Fatalf("the invoice was marked %v by another reference's order", d["status"])
	}
	if got, want := syncOf(d)["last_error"], notBelongs(ord, "W-Z", "invoice"); syncOf(d)["status"] != "failed" || got != want {
		t.Fatalf("sync %v, want failed with %q", syncOf(d), want)
	}
	if n := countActions(s.history("invoice", "W-A"), "completed_in_pos"); n != 0 {
		t.Fatalf("%d completed_in_pos entries", n)
	}

	// Two documents on one order: the order's own document is paid, the other is not.
	s.put("invoice", "W-B", docBody("issued", "Wheel"))
	ordB := syncOf(s.waitSync("invoice", "W-B", "synced"))["external_id"].(string)
	s.put("invoice", "W-C", with(docBody("issued", "Tube"), "sync_to_pos", false))
	s.misattribute("invoice", "W-C", ordB) // the newest document on the order: found first
	ev = s.complete(ordB)
	if ev["status"] != "processed" {
		t.Fatalf("event %v", ev)
	}
	if d := s.doc("invoice", "W-B"); d["status"] != "paid" {
		t.Fatalf("W-B after its order completed: %v", d["status"])
	}
	d = s.doc("invoice", "W-C")
	if d["status"] != "issued" || syncOf(d)["status"] != "failed" || syncOf(d)["last_error"] != notBelongs(ordB, "W-B", "invoice") {
		t.Fatalf("W-C after W-B's order completed: %v %v", d["status"], syncOf(d))
	}
}

// TestReconcileOwnerCheck: the reconciliation poll (no webhook arrives) neither marks a
// document paid by an order that now carries another reference nor leaves its broken link
// unseen: the document fails with the sentence.
func TestReconcileOwnerCheck(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, func(c *app.Config) { c.ReconcileInterval = time.Second })
		s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": true})
		// Take the webhook subscription away, so that only the poll can see the completion.
		var sub string
		poll(t, "webhook subscription", func() bool {
			sub, _ = e.app.Store.WebhookSubscription(context.Background(), s.accountID, s.integration)
			return sub != ""
		})
		mustStatus(t, 204, do(t, e.url, s.sbx, "DELETE", "/sandbox/api/v1/webhooks/"+sub, nil))
		s.put("invoice", "RC-A", docBody("issued", "Service"))
		ord := syncOf(s.waitSync("invoice", "RC-A", "synced"))["external_id"].(string)
		s.reassign(ord, "RC-Z")
		mustStatus(t, 200, do(t, e.url, s.sbx, "POST", "/sandbox/admin/orders/"+ord+"/complete?api_key="+s.sbx, nil))
		d := s.waitSync("invoice", "RC-A", "failed")
		if d["status"] != "issued" || syncOf(d)["last_error"] != notBelongs(ord, "RC-Z", "invoice") {
			t.Fatalf("after the poll: %v %v", d["status"], syncOf(d))
		}
		if evs := s.events(); len(evs) != 0 {
			t.Fatalf("a webhook arrived after all: %v", evs)
		}
	})
}

// scenCreateReplayedAfterEdit: a create reached the POS and the process died before it recorded
// the order; the document was edited meanwhile, so the retry's body differs and the POS refuses
// the idempotency key. The push finds the order by its reference and brings it up to date: one
// order, at the latest version.
func scenCreateReplayedAfterEdit(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "KR-1", with(docBody("issued", "Service"), "sync_to_pos", false))
	// The dead process's create, with the key posbridge uses for this document's first order.
	h := sha256.Sum256([]byte(fmt.Sprintf("posbridge/%s/invoice/KR-1/0", s.accountID)))
	key := "pb-" + hex.EncodeToString(h[:16])
	stores := mustStatus(t, 200, do(t, e.url, s.sbx, "GET", "/sandbox/api/v1/stores", nil)).json(t)["data"].([]any)
	body := map[string]any{"reference": "KR-1", "store_id": stores[0].(map[string]any)["id"], "note": "invoice KR-1",
		"lines": []map[string]any{{"name": "Service", "quantity": "1", "unit_price": map[string]any{"amount": 2500, "currency": "EUR"}}}}
	first := mustStatus(t, 201, do(t, e.url, s.sbx, "POST", "/sandbox/api/v1/orders", body, "Idempotency-Key", key)).json(t)["id"].(string)

	s.put("invoice", "KR-1", docBody("issued", "Service", "Chain")) // its auto-sync is off: not sent
	s.must(202, "POST", "/api/v1/documents/invoice/KR-1/sync/resync", nil)
	d := s.waitSync("invoice", "KR-1", "synced")
	if syncOf(d)["external_id"] != first {
		t.Fatalf("linked to %v, want the earlier attempt's order %s", syncOf(d)["external_id"], first)
	}
	if o := s.apiOrder(first); len(o.Lines) != 2 || o.Reference != "KR-1" {
		t.Fatalf("the order: %+v", o)
	}
	if n := len(s.orders()); n != 1 {
		t.Fatalf("%d sandbox orders, want 1", n)
	}
}
