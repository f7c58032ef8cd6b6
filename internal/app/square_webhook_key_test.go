package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSquareIssuedWebhookKey: Square makes each webhook subscription's signature key itself.
// posbridge keeps the key its subscription was issued (sealed, with the subscription) and
// verifies that subscription's deliveries with it, so a sandbox Square store's notification is
// accepted and stored as an event.
func TestSquareIssuedWebhookKey(t *testing.T) {
	t.Parallel()
	e := start(t, testdb.SQLite(t), func(c *app.Config) { c.AllowPrivate = false })
	acct := e.account("Shop", "sq@shop.test")
	key := acct.APIKey
	in := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "square", "sandbox": true})).json(t)
	id := in["id"].(string)
	e.waitStatus(key, id, "healthy")
	poll(t, "webhook subscription", func() bool {
		return bytes.Contains(e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=500&integration_id="+id, nil)).Body, []byte("Subscribed to the POS"))
	})
	// The account's Square sandbox store, reached with its own token.
	i, err := e.app.Lifecycle.Get(context.Background(), acct.AccountID, id)
	if err != nil {
		t.Fatal(err)
	}
	info, ok, err := e.app.Lifecycle.SandboxStore(context.Background(), i)
	if err != nil || !ok {
		t.Fatalf("sandbox store: %v %v", ok, err)
	}
	token, base := info.Credentials["access_token"], strings.TrimPrefix(info.BaseURL, e.url)
	// The key Square issued is stored sealed: not in the clear, and not the secret posbridge made.
	subs := e.must(200, e.call(token, "GET", base+"/v2/webhooks/subscriptions", nil)).json(t)["subscriptions"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subscriptions: %v", subs)
	}
	subID := subs[0].(map[string]any)["id"].(string)
	sub := e.must(200, e.call(token, "GET", base+"/v2/webhooks/subscriptions/"+subID, nil)).json(t)["subscription"].(map[string]any)
	issued, _ := sub["signature_key"].(string)
	_, sealed, err := e.app.Store.IntegrationSecrets(context.Background(), acct.AccountID, id)
	if err != nil || issued == "" || sealed == "" || strings.Contains(sealed, issued) {
		t.Fatalf("issued key %q stored as %q (%v)", issued, sealed, err)
	}
	// A customer created in the Square sandbox is notified (customer.created) to /hooks/{id},
	// signed with the subscription's own key.
	r := e.call(token, "POST", base+"/v2/customers",
		map[string]any{"idempotency_key": "k1", "given_name": "Ada", "email_address": "ada@example.com"})
	e.must(200, r)
	poll(t, "the Square notification stored as an event", func() bool {
		return bytes.Contains(e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id+"/webhook-events?limit=50", nil)).Body, []byte("customer.created"))
	})
}
