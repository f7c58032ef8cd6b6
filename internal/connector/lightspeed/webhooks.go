package lightspeed

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// Webhook signing. Lightspeed does not document how (or whether) deliveries are signed, so the
// scheme is a setting on both sides (unsure). The default, shared with the simulator:
//
//	X-Signature: signature=<hex HMAC-SHA256(secret, raw body)>, algorithm=HMAC-SHA256
//
// The verifier also accepts the bare digest, lowercase hex or base64, in that header.
const (
	DefaultSignatureHeader = "X-Signature"
	signatureAlgorithm     = "HMAC-SHA256"
)

// Webhook types of POST /api/2.0/webhooks that posbridge subscribes to.
const (
	TopicProduct   = "product.update"
	TopicSale      = "sale.update"
	TopicInventory = "inventory.update"
	TopicCustomer  = "customer.update"
)

// AllTopics are the webhook types Subscribe uses when given none.
var AllTopics = []string{TopicProduct, TopicSale, TopicInventory, TopicCustomer}

// Sign returns the default X-Signature value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "signature=" + hex.EncodeToString(m.Sum(nil)) + ", algorithm=" + signatureAlgorithm
}

// verifySignature checks the signature header against HMAC-SHA256(secret, body). The value must
// be exactly the default form (signature=<lowercase hex>, algorithm=HMAC-SHA256), or the bare
// digest as lowercase hex or standard base64: any other text, including one with a flipped bit
// that would still decode to the same bytes, is refused.
func verifySignature(value, secret string, body []byte) bool {
	if value == "" || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	sum := m.Sum(nil)
	ok := false
	for _, want := range []string{
		"signature=" + hex.EncodeToString(sum) + ", algorithm=" + signatureAlgorithm,
		hex.EncodeToString(sum),
		base64.StdEncoding.EncodeToString(sum),
	} {
		if hmac.Equal([]byte(value), []byte(want)) {
			ok = true
		}
	}
	return ok
}

// neutralTopics maps the neutral event names a caller may pass to Lightspeed webhook types.
var neutralTopics = map[string]string{
	domain.ProviderProductUpdated:  TopicProduct,
	domain.ProviderProductDeleted:  TopicProduct,
	domain.ProviderStockUpdated:    TopicInventory,
	domain.ProviderCustomerUpdated: TopicCustomer,
	domain.ProviderSaleUpdated:     TopicSale,
	domain.ProviderOrderCreated:    TopicSale,
	domain.ProviderOrderUpdated:    TopicSale,
	domain.ProviderOrderDeleted:    TopicSale,
}

// Subscribe creates one webhook per type (POST /api/2.0/webhooks {url, active, type}); topics
// may be Lightspeed types or neutral event names, none means all four. The returned id lists
// the webhook ids, comma-separated. Lightspeed webhooks carry no per-webhook secret: deliveries
// are verified with the integration's webhook_secret. A webhook that already exists (409) is
// looked up and reused.
func (c *Client) Subscribe(ctx context.Context, target, secret string, topics []string) (string, error) {
	types, err := webhookTypes(topics)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, t := range types {
		var out struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		err := c.do(ctx, request{method: "POST", path: "/api/2.0/webhooks",
			body: map[string]any{"url": target, "active": true, "type": t}, unsafe: true}, &out)
		if isKind(err, connector.KindConflict) {
			id, ferr := c.existingWebhook(ctx, target, t)
			if ferr != nil {
				return strings.Join(ids, ","), fmt.Errorf("subscribe %s: %w", t, ferr)
			}
			ids = append(ids, id)
			continue
		}
		if err != nil {
			return strings.Join(ids, ","), fmt.Errorf("subscribe %s: %w", t, err)
		}
		ids = append(ids, out.Data.ID)
	}
	return strings.Join(ids, ","), nil
}

func webhookTypes(topics []string) ([]string, error) {
	if len(topics) == 0 {
		return AllTopics, nil
	}
	seen := map[string]bool{}
	var types []string
	for _, t := range topics {
		lt := t
		if n, ok := neutralTopics[t]; ok {
			lt = n
		}
		switch lt {
		case TopicProduct, TopicSale, TopicInventory, TopicCustomer, "register_closure.create",
			"consignment.send", "consignment.receive":
		default:
			return nil, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("Lightspeed has no webhook type %q", t)}
		}
		if !seen[lt] {
			seen[lt] = true
			types = append(types, lt)
		}
	}
	return types, nil
}

func (c *Client) existingWebhook(ctx context.Context, target, typ string) (string, error) {
	var out struct {
		Data []struct {
			ID   string `json:"id"`
			URL  string `json:"url"`
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := c.get(ctx, "/api/2.0/webhooks", nil, &out); err != nil {
		return "", err
	}
	for _, w := range out.Data {
		if w.URL == target && w.Type == typ {
			return w.ID, nil
		}
	}
	return "", &connector.Error{Kind: connector.KindConflict, Message: "a webhook of this type and URL exists but is not listed"}
}

// Unsubscribe deletes the webhooks Subscribe created (DELETE /api/2.0/webhooks/{id}); one that
// is already gone counts as deleted.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	for _, one := range strings.Split(id, ",") {
		one = strings.TrimSpace(one)
		if one == "" {
			continue
		}
		err := c.do(ctx, request{method: "DELETE", path: "/api/2.0/webhooks/" + url.PathEscape(one)}, nil)
		if err != nil && !isKind(err, connector.KindNotFound) {
			return fmt.Errorf("unsubscribe webhook %s: %w", one, err)
		}
	}
	return nil
}

// ParseWebhook verifies a delivery over the raw body and parses it. Deliveries are
// application/x-www-form-urlencoded with a JSON `payload` field (other fields such as type or
// domain_prefix may be present but are not guaranteed, so the type is read from `type` when
// there and guessed from the payload otherwise). Lightspeed gives no event id: the id is
// type:object-id:version (or a hash of the body when the payload has no version).
func (c *Client) ParseWebhook(header http.Header, body []byte, _ string, secret string) ([]domain.ProviderEvent, error) {
	if secret == "" {
		secret = c.webhookSecret
	}
	if secret == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "no webhook secret is set for this integration, so deliveries cannot be verified"}
	}
	if !verifySignature(header.Get(c.o.sigHeader), secret, body) {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "webhook signature does not match"}
	}
	return parseDelivery(body, c.o.now())
}

func parseDelivery(body []byte, now time.Time) ([]domain.ProviderEvent, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "webhook body is not form-encoded: " + err.Error()}
	}
	raw := form.Get("payload")
	if raw == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "webhook body has no payload field"}
	}
	if err := jsonin.CheckPayload([]byte(raw)); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "webhook payload is not one JSON object with each key once: " + err.Error()}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Message: "webhook payload is not a JSON object: " + err.Error()}
	}
	typ := form.Get("type")
	if typ == "" {
		typ = guessType(obj)
	}
	id := textOf(obj["id"])
	ver := textOf(obj["version"])
	occurred := parseTime(textOf(obj["updated_at"]))
	if occurred.IsZero() {
		occurred = now.UTC()
	}
	evID := typ + ":" + id + ":" + ver
	if ver == "" {
		sum := sha256.Sum256(body)
		evID = typ + ":" + id + ":" + hex.EncodeToString(sum[:8])
	}
	ev := domain.ProviderEvent{ID: evID, Topic: typ, ObjectID: id, OccurredAt: occurred, Payload: json.RawMessage(raw)}
	switch typ {
	case TopicProduct:
		ev.Type = domain.ProviderProductUpdated
		if d := textOf(obj["deleted_at"]); d != "" {
			ev.Type = domain.ProviderProductDeleted
		}
	case TopicInventory:
		ev.Type = domain.ProviderStockUpdated
		if pid := textOf(obj["product_id"]); pid != "" {
			ev.ObjectID = pid
		}
	case TopicCustomer:
		ev.Type = domain.ProviderCustomerUpdated
	case TopicSale:
		// A Lightspeed sale is both what posbridge calls an order (a parked sale it created)
		// and an imported sale: one delivery gives both events, with their own ids.
		order := ev
		order.ID += "#order"
		order.Type = domain.ProviderOrderUpdated
		ev.ID += "#sale"
		ev.Type = domain.ProviderSaleUpdated
		return []domain.ProviderEvent{order, ev}, nil
	default:
		ev.Type = domain.ProviderUnknownEventType
	}
	return []domain.ProviderEvent{ev}, nil
}

// guessType infers a delivery's type from its payload's fields.
func guessType(obj map[string]json.RawMessage) string {
	has := func(k string) bool { _, ok := obj[k]; return ok }
	switch {
	case has("register_sale_products") || has("invoice_number") || has("line_items"):
		return TopicSale
	case has("inventory_level") || has("current_amount") || (has("outlet_id") && has("product_id")):
		return TopicInventory
	case has("customer_code") || has("first_name") || has("customer_group_id"):
		return TopicCustomer
	case has("handle") || has("sku") || has("price_including_tax") || has("price_excluding_tax"):
		return TopicProduct
	}
	return "unknown"
}

// WebhookSigningSecret is the webhook secret of the integration's credentials, which Lightspeed
// signs every delivery with (connector.OwnSigningSecret); "" when none was given.
func (c *Client) WebhookSigningSecret() string { return c.webhookSecret }
