package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// Webhook headers Shopify sends with every delivery.
const (
	HeaderHmac        = "X-Shopify-Hmac-Sha256"
	HeaderTopic       = "X-Shopify-Topic"
	HeaderShopDomain  = "X-Shopify-Shop-Domain"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"
	HeaderEventID     = "X-Shopify-Event-Id"
	HeaderTriggeredAt = "X-Shopify-Triggered-At"
	HeaderAPIVersion  = "X-Shopify-API-Version"
)

// DefaultTopics are the subscriptions posbridge makes when the caller names none.
var DefaultTopics = []string{"orders/create", "orders/updated", "products/update", "inventory_levels/update", "customers/update"}

// neutralTopics maps posbridge's neutral event types to Shopify topics for Subscribe.
var neutralTopics = map[string][]string{
	domain.ProviderOrderCreated:    {"orders/create"},
	domain.ProviderOrderUpdated:    {"orders/updated", "orders/cancelled"},
	domain.ProviderOrderDeleted:    {"orders/delete"},
	domain.ProviderProductUpdated:  {"products/create", "products/update"},
	domain.ProviderProductDeleted:  {"products/delete"},
	domain.ProviderStockUpdated:    {"inventory_levels/update"},
	domain.ProviderCustomerUpdated: {"customers/create", "customers/update"},
	domain.ProviderSaleUpdated:     {"orders/paid"},
}

// eventType maps a Shopify topic to posbridge's neutral event type.
func eventType(topic string) string {
	switch topic {
	case "orders/create":
		return domain.ProviderOrderCreated
	case "orders/updated", "orders/edited", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled":
		return domain.ProviderOrderUpdated
	case "orders/paid":
		return domain.ProviderSaleUpdated
	case "orders/delete":
		return domain.ProviderOrderDeleted
	case "products/create", "products/update":
		return domain.ProviderProductUpdated
	case "products/delete":
		return domain.ProviderProductDeleted
	case "inventory_levels/update", "inventory_levels/connect", "inventory_levels/disconnect":
		return domain.ProviderStockUpdated
	case "customers/create", "customers/update", "customers/enable", "customers/disable":
		return domain.ProviderCustomerUpdated
	}
	return domain.ProviderUnknownEventType
}

// Sign returns the X-Shopify-Hmac-Sha256 value of body: base64 of HMAC-SHA256 keyed with the
// app's client secret over the raw body bytes.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a delivery's X-Shopify-Hmac-Sha256 value in constant time.
func VerifySignature(secret string, body []byte, signature string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(got) != sha256.Size || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// ParseWebhook verifies a Shopify delivery and turns it into one neutral event. secret is the
// app's client secret (the api_secret credential); url is not part of Shopify's signature.
// The event id is X-Shopify-Event-Id, the dedupe key (X-Shopify-Webhook-Id when it is absent).
func (c *Client) ParseWebhook(header http.Header, body []byte, _ string, secret string) ([]domain.ProviderEvent, error) {
	return ParseWebhook(header, body, secret)
}

// ParseWebhook is Client.ParseWebhook without a client.
func ParseWebhook(header http.Header, body []byte, secret string) ([]domain.ProviderEvent, error) {
	if secret == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "no API secret key is set to verify Shopify webhooks"}
	}
	sig := header.Get(HeaderHmac)
	if sig == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the webhook has no " + HeaderHmac + " header"}
	}
	if !VerifySignature(secret, body, sig) {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the webhook signature does not match the body"}
	}
	topic := header.Get(HeaderTopic)
	if topic == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the webhook has no " + HeaderTopic + " header"}
	}
	var obj struct {
		ID              json.Number `json:"id"`
		InventoryItemID json.Number `json:"inventory_item_id"`
		LocationID      json.Number `json:"location_id"`
	}
	if err := jsonin.CheckPayload(body); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the webhook body is not one JSON object with each key once: " + err.Error(), Err: err}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "the webhook body is not JSON: " + err.Error(), Err: err}
	}
	objectID := obj.ID.String()
	if objectID == "" && obj.InventoryItemID != "" {
		objectID = obj.InventoryItemID.String() + "@" + obj.LocationID.String()
	}
	id := header.Get(HeaderEventID)
	if id == "" {
		id = header.Get(HeaderWebhookID)
	}
	if id == "" {
		id = topic + ":" + objectID + ":" + header.Get(HeaderTriggeredAt)
	}
	at, err := time.Parse(time.RFC3339Nano, header.Get(HeaderTriggeredAt))
	if err != nil {
		at = time.Now().UTC()
	}
	return []domain.ProviderEvent{{
		ID: id, Type: eventType(topic), Topic: topic, ObjectID: objectID, OccurredAt: at,
		Payload: json.RawMessage(append([]byte(nil), body...)),
	}}, nil
}

type webhookJSON struct {
	ID      int64  `json:"id,omitempty"`
	Topic   string `json:"topic"`
	Address string `json:"address"`
	Format  string `json:"format"`
}

// Subscribe creates one subscription a topic (POST webhooks.json) and returns their ids joined by
// commas. Topics may be Shopify's ("orders/create") or posbridge's neutral types
// ("order.created"); none means DefaultTopics. Shopify signs every delivery with the app's client
// secret; it has no per-subscription secret, so secret must be empty or that same client secret.
func (c *Client) Subscribe(ctx context.Context, address, secret string, topics []string) (string, error) {
	if secret != "" && c.secret != "" && secret != c.secret {
		return "", &connector.Error{Kind: connector.KindInvalid, Message: "Shopify signs webhooks with the app's API secret key; a separate webhook secret cannot be set"}
	}
	var list []string
	seen := map[string]bool{}
	if len(topics) == 0 {
		topics = DefaultTopics
	}
	for _, t := range topics {
		ts := []string{t}
		if m, ok := neutralTopics[t]; ok {
			ts = m
		}
		for _, x := range ts {
			if !seen[x] {
				seen[x] = true
				list = append(list, x)
			}
		}
	}
	var ids []string
	for _, t := range list {
		var out struct {
			Webhook webhookJSON `json:"webhook"`
		}
		body := map[string]any{"webhook": webhookJSON{Topic: t, Address: address, Format: "json"}}
		if _, err := c.do(ctx, call{op: "subscribe to " + t, method: http.MethodPost, path: "webhooks.json", body: body, unsafe: true}, &out); err != nil {
			if len(ids) > 0 {
				_ = c.Unsubscribe(ctx, strings.Join(ids, ","))
			}
			return "", err
		}
		ids = append(ids, strconv.FormatInt(out.Webhook.ID, 10))
	}
	return strings.Join(ids, ","), nil
}

// Unsubscribe deletes the subscriptions Subscribe made (DELETE webhooks/{id}.json each); one
// already gone is not an error.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	for _, one := range strings.Split(id, ",") {
		n, err := parseID("webhook", one)
		if err != nil {
			return err
		}
		_, err = c.do(ctx, call{op: fmt.Sprintf("delete webhook %d", n), method: http.MethodDelete, path: fmt.Sprintf("webhooks/%d.json", n)}, nil)
		if err != nil && !isKind(err, connector.KindNotFound) {
			return err
		}
	}
	return nil
}

// WebhookSigningSecret is the app's API secret key, which Shopify signs every delivery with
// (connector.OwnSigningSecret).
func (c *Client) WebhookSigningSecret() string { return c.secret }
