package app_test

import (
	"bytes"
	"testing"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSquareIssuedWebhookKey: Square makes each webhook subscription's signature key itself.
// posbridge keeps the key its subscription was issued (sealed, with the subscription) and
// verifies that subscription's deliveries with it, so a sandbox Square store's notification is
// accepted and stored as an event.
func TestSquareIssuedWebhookKey(t *testing.T) {
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false })
	key := e.account("Shop", "sq@shop.test").APIKey
	in := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "square", "sandbox": true})).json(t)
	id := in["id"].(string)
	e.waitStatus(key, id, "healthy")
	poll(t, "webhook subscription", func() bool {
		return bytes.Contains(e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=500&integration_id="+id, nil)).Body, []byte("Subscribed to the POS"))
	})
	// A customer created in the Square sandbox is notified (customer.created) to /hooks/{id},
	// signed with the subscription's own key.
	r := e.call("EAAAsim-square-access-token", "POST", "/sandbox/square/v2/customers",
		map[string]any{"idempotency_key": "k1", "given_name": "Ada", "email_address": "ada@example.com"})
	e.must(200, r)
	poll(t, "the Square notification stored as an event", func() bool {
		return bytes.Contains(e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id+"/webhook-events?limit=50", nil)).Body, []byte("customer.created"))
	})
}
