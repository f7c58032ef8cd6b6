package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestHooksConcurrentBurst: a burst of concurrent inbound webhooks to two accounts' integrations,
// every event sent several times at once (and the same provider event ids used by both), is
// stored once per integration and applied once: each request is answered 200 with the right
// new/duplicate counts, the invoice the events complete is marked paid by exactly one of them,
// and neither integration sees the other's events.
func TestHooksConcurrentBurst(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		a := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": false})
		b := newScen(t, e, nil)
		a.waitSubscribed()
		a.put("invoice", "HB-1", docBody("issued", "Service"))
		ext := syncOf(a.waitSync("invoice", "HB-1", "synced"))["external_id"].(string)
		a.complete(ext) // the sandbox's own delivery: processed, but the settings leave the invoice
		if a.doc("invoice", "HB-1")["status"] != "issued" {
			t.Fatal("the invoice changed with mark_invoice_paid_on_completion off")
		}
		a.settings(map[string]any{"mark_invoice_paid_on_completion": true})

		secretOf := func(s *scen) string {
			i, err := e.app.Lifecycle.Get(context.Background(), s.accountID, s.integration)
			if err != nil {
				t.Fatal(err)
			}
			secret, err := e.app.Lifecycle.WebhookSecret(context.Background(), i)
			if err != nil {
				t.Fatal(err)
			}
			return secret
		}
		event := func(id, orderID, ref string) []byte {
			j, _ := json.Marshal(map[string]any{"id": id, "type": "order.completed", "created_at": time.Now().UTC(),
				"data": map[string]any{"object": map[string]any{"id": orderID, "reference": ref, "state": "completed"}}})
			return j
		}
		type shot struct {
			s    *scen
			body []byte
		}
		const copies = 8
		var shots []shot
		for k := range 10 { // account A: ten events on the linked order, eight copies each
			for range copies {
				shots = append(shots, shot{a, event(fmt.Sprintf("evt_burst_%d", k), ext, "HB-1")})
			}
		}
		for k := range 5 { // account B: five events with the same ids as A's first five
			for range copies {
				shots = append(shots, shot{b, event(fmt.Sprintf("evt_burst_%d", k), "ord_b_"+fmt.Sprint(k), "B-1")})
			}
		}
		secrets := map[*scen]string{a: secretOf(a), b: secretOf(b)}
		type tally struct{ fresh, dup, other int }
		got := map[*scen]*tally{a: {}, b: {}}
		var mu sync.Mutex
		var slowest time.Duration
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, sh := range shots {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				t0 := time.Now()
				r := do(t, e.url, "", "POST", "/hooks/"+sh.s.integration, sh.body, sandbox.SignatureHeader, sandbox.Sign(secrets[sh.s], time.Now(), sh.body))
				took := time.Since(t0)
				var out struct{ Received, Duplicates int }
				ok := r.Status == 200 && json.Unmarshal(r.Body, &out) == nil
				mu.Lock()
				defer mu.Unlock()
				slowest = max(slowest, took)
				if !ok {
					got[sh.s].other++
					t.Errorf("webhook answered %d %s", r.Status, r.Body)
					return
				}
				got[sh.s].fresh += out.Received
				got[sh.s].dup += out.Duplicates
			}()
		}
		close(gate)
		wg.Wait()
		t.Logf("%d concurrent webhooks; slowest answer %s", len(shots), slowest)
		if g := got[a]; g.fresh != 10 || g.dup != 10*copies-10 {
			t.Errorf("account A: %d new, %d duplicates; want 10 and %d", g.fresh, g.dup, 10*copies-10)
		}
		if g := got[b]; g.fresh != 5 || g.dup != 5*copies-5 {
			t.Errorf("account B: %d new, %d duplicates; want 5 and %d", g.fresh, g.dup, 5*copies-5)
		}

		burst := func(s *scen, want int) []map[string]any {
			var evs []map[string]any
			poll(t, "every burst event applied", func() bool {
				evs = nil
				for _, ev := range s.events() {
					if id, _ := ev["provider_event_id"].(string); strings.HasPrefix(id, "evt_burst_") {
						evs = append(evs, ev)
					}
				}
				for _, ev := range evs {
					if ev["status"] == "received" {
						return false
					}
				}
				return len(evs) >= want
			})
			seen := map[string]bool{}
			for _, ev := range evs {
				id := ev["provider_event_id"].(string)
				if seen[id] {
					t.Errorf("event %s stored twice for %s", id, s.integration)
				}
				seen[id] = true
			}
			if len(evs) != want {
				t.Errorf("%s: %d burst events stored, want %d", s.integration, len(evs), want)
			}
			return evs
		}
		for _, ev := range burst(a, 10) {
			if ev["status"] != "processed" {
				t.Errorf("A's event %v: %v (%v)", ev["provider_event_id"], ev["status"], ev["reason"])
			}
		}
		for _, ev := range burst(b, 5) {
			if ev["status"] != "ignored" || !strings.HasPrefix(ev["object_id"].(string), "ord_b_") {
				t.Errorf("B's event %v: %v on %v (%v)", ev["provider_event_id"], ev["status"], ev["object_id"], ev["reason"])
			}
		}
		if d := a.doc("invoice", "HB-1"); d["status"] != "paid" {
			t.Fatalf("invoice after the burst: %v", d["status"])
		}
		if n := countActions(a.history("invoice", "HB-1"), "completed_in_pos"); n != 1 {
			t.Fatalf("%d completed_in_pos history entries; want 1", n)
		}
	})
}
