package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestReconcileWithoutWebhook: a POS completion whose webhook never arrives is found by the
// periodic reconciliation poll all the same.
func TestReconcileWithoutWebhook(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	e := start(t, db, func(c *app.Config) { c.ReconcileInterval = time.Second })
	owner := e.account("Bar", "owner@bar.test")
	s := &syncEnv{env: e, key: owner.APIKey, sbx: e.sandboxKey(owner.AccountID)}
	in := e.must(201, e.call(s.key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": s.sbx}})).json(t)
	s.integration = in["id"].(string)
	e.waitStatus(s.key, s.integration, "healthy")
	e.must(200, e.call(s.key, "PUT", "/api/v1/order-sync", map[string]any{"integration_id": s.integration, "auto_sync": true}))
	// Take the webhook subscription away, as a provider that drops deliveries would.
	var sub string
	waitFor(t, "webhook subscription", func() bool {
		sub, _ = e.app.Store.WebhookSubscription(context.Background(), owner.AccountID, s.integration)
		return sub != ""
	})
	req, _ := http.NewRequest("DELETE", e.url+"/sandbox/api/v1/webhooks/"+sub, nil)
	req.Header.Set("Authorization", "Bearer "+s.sbx)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode >= 300 {
		t.Fatalf("unsubscribe: %v %v", err, res)
	}
	res.Body.Close()

	e.must(201, e.call(s.key, "PUT", "/api/v1/documents/invoice/INV-R1", invoice("issued", "Pint")))
	d := s.waitSync("invoice", "INV-R1", "synced")
	id := d["sync"].(map[string]any)["external_id"].(string)
	e.must(200, e.call("", "POST", "/sandbox/admin/orders/"+id+"/complete?api_key="+s.sbx, nil))
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(e.logs.String())
		}
	})
	waitFor(t, "invoice paid by reconciliation", func() bool { return s.doc("invoice", "INV-R1")["status"] == "paid" })
	evs := e.must(200, e.call(s.key, "GET", "/api/v1/integrations/"+s.integration+"/webhook-events", nil)).json(t)["data"].([]any)
	if len(evs) != 0 {
		t.Fatalf("a webhook arrived after all: %v", evs)
	}
}
