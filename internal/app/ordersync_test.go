package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// syncEnv is an account with a healthy Sandbox POS and automatic sync configured.
type syncEnv struct {
	*env
	key, sbx, integration string
}

func newSyncEnv(t *testing.T, db testdb.Target, settings map[string]any) *syncEnv {
	e := start(t, db, nil)
	owner := e.account("Spoke & Chain", "owner@spoke.test")
	sbx := e.sandboxKey(owner.AccountID)
	in := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)
	id := in["id"].(string)
	e.waitStatus(owner.APIKey, id, "healthy")
	body := map[string]any{"integration_id": id, "auto_sync": true}
	for k, v := range settings {
		body[k] = v
	}
	e.must(200, e.call(owner.APIKey, "PUT", "/api/v1/order-sync", body))
	return &syncEnv{env: e, key: owner.APIKey, sbx: sbx, integration: id}
}

func invoice(status string, lines ...string) map[string]any {
	var ls []map[string]any
	for _, l := range lines {
		ls = append(ls, map[string]any{"description": l, "quantity": "1", "unit_price": map[string]any{"amount": 2500, "currency": "EUR"}})
	}
	return map[string]any{"status": status, "lines": ls}
}

type sbxOrder struct {
	ID, Reference, State string
	Lines                []map[string]any
}

func (s *syncEnv) orders() []sbxOrder {
	s.t.Helper()
	r := s.must(200, s.call("", "GET", "/sandbox/admin/orders?api_key="+s.sbx, nil))
	var out []sbxOrder
	if err := json.Unmarshal(r.Body, &out); err != nil {
		s.t.Fatalf("sandbox orders: %v %s", err, r.Body)
	}
	return out
}

func (s *syncEnv) doc(kind, ref string) map[string]any {
	return s.must(200, s.call(s.key, "GET", "/api/v1/documents/"+kind+"/"+ref, nil)).json(s.t)
}

func (s *syncEnv) waitSync(kind, ref, status string) map[string]any {
	s.t.Helper()
	var last map[string]any
	waitFor(s.t, kind+" "+ref+" sync "+status, func() bool {
		last = s.doc(kind, ref)
		return last["sync"].(map[string]any)["status"] == status
	})
	return last
}

func TestOrderSyncBasics(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		s := newSyncEnv(t, db, nil)
		r := s.must(201, s.call(s.key, "PUT", "/api/v1/documents/invoice/INV-7", invoice("issued", "Brake service")))
		if st := r.json(t)["sync"].(map[string]any)["status"]; st != "pending" {
			t.Fatalf("new invoice sync status %v", st)
		}
		d := s.waitSync("invoice", "INV-7", "synced")
		sy := d["sync"].(map[string]any)
		if sy["external_id"] == "" || !strings.Contains(sy["external_url"].(string), "/sandbox/orders/") {
			t.Fatalf("sync %v", sy)
		}
		// The same body twice changes nothing.
		again := s.must(200, s.call(s.key, "PUT", "/api/v1/documents/invoice/INV-7", invoice("issued", "Brake service"))).json(t)
		if again["version"] != d["version"] {
			t.Fatalf("same body bumped the version: %v -> %v", d["version"], again["version"])
		}
		// A burst of edits ends as the latest state, in one order.
		for i := 1; i <= 8; i++ {
			lines := []string{"Brake service"}
			for j := 0; j < i; j++ {
				lines = append(lines, fmt.Sprintf("Part %d", j))
			}
			s.must(200, s.call(s.key, "PUT", "/api/v1/documents/invoice/INV-7", invoice("issued", lines...)))
		}
		s.waitSync("invoice", "INV-7", "synced")
		os := s.orders()
		if len(os) != 1 || len(os[0].Lines) != 9 || os[0].Reference != "INV-7" {
			t.Fatalf("sandbox orders after burst: %+v", os)
		}
		h := s.must(200, s.call(s.key, "GET", "/api/v1/documents/invoice/INV-7/sync-history", nil)).json(t)["data"].([]any)
		if len(h) < 2 {
			t.Fatalf("history %v", h)
		}
	})
}
