package square

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// SignatureHeader is the header Square signs notifications with.
const SignatureHeader = "x-square-hmacsha256-signature"

// DefaultEventTypes are the events Subscribe asks for when the caller names none.
var DefaultEventTypes = []string{
	"order.created", "order.updated", "inventory.count.updated",
	"catalog.version.updated", "customer.created", "customer.updated",
}

// Sign returns Square's signature of a notification: the standard base64 of
// HMAC-SHA256(key = signature key, message = notification URL + raw body).
func Sign(signatureKey, notificationURL string, body []byte) string {
	m := hmac.New(sha256.New, []byte(signatureKey))
	m.Write([]byte(notificationURL))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySignature tells, in constant time, whether signature is Square's signature of body
// sent to notificationURL.
func VerifySignature(signature, signatureKey, notificationURL string, body []byte) bool {
	if signatureKey == "" || notificationURL == "" || signature == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(signatureKey))
	m.Write([]byte(notificationURL))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// ParseWebhook verifies a notification and parses it into one neutral event. notificationURL is
// the URL Square posted to, exactly as registered (the integration's webhook_url setting when
// empty); secret is the key of the subscription posbridge made. A notification signed with the
// key the merchant entered (webhook_signature_key, for a subscription made in the Developer
// Console) verifies too.
func (c *Client) ParseWebhook(header http.Header, body []byte, notificationURL, secret string) ([]domain.ProviderEvent, error) {
	if notificationURL == "" {
		notificationURL = c.webhookURL
	}
	if (secret == "" && c.signatureKey == "") || notificationURL == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "webhook_not_configured",
			Message: "the Square webhook signature key and notification URL are needed to verify notifications"}
	}
	sig := header.Get(SignatureHeader)
	if !VerifySignature(sig, secret, notificationURL, body) && !VerifySignature(sig, c.signatureKey, notificationURL, body) {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "invalid_signature",
			Message: "the " + SignatureHeader + " header does not match the notification URL and body"}
	}
	return ParseEvent(body)
}

// ParseEvent parses a verified notification body into a neutral event.
func ParseEvent(body []byte) ([]domain.ProviderEvent, error) {
	if err := jsonin.CheckPayload(body); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "invalid_body", Message: "the notification body is not one JSON object with each key once: " + err.Error(), Err: err}
	}
	var ev webhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "invalid_body", Message: "the notification body is not JSON: " + err.Error(), Err: err}
	}
	if ev.EventID == "" || ev.Type == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "invalid_body", Message: "the notification has no event_id or type"}
	}
	out := domain.ProviderEvent{ID: ev.EventID, Type: eventType(ev.Type), Topic: ev.Type, ObjectID: ev.Data.ID, Payload: json.RawMessage(body)}
	if t, err := time.Parse(time.RFC3339Nano, ev.CreatedAt); err == nil {
		out.OccurredAt = t
	}
	if len(ev.Data.Object) > 0 && string(ev.Data.Object) != "null" {
		out.Payload = append(json.RawMessage(nil), ev.Data.Object...)
	}
	return []domain.ProviderEvent{out}, nil
}

// eventType maps Square's event type to the neutral one.
func eventType(t string) string {
	switch t {
	case "order.created":
		return domain.ProviderOrderCreated
	case "order.updated", "order.fulfillment.updated":
		return domain.ProviderOrderUpdated
	case "catalog.version.updated":
		return domain.ProviderProductUpdated
	case "inventory.count.updated":
		return domain.ProviderStockUpdated
	case "customer.created", "customer.updated", "customer.deleted":
		return domain.ProviderCustomerUpdated
	case "payment.created", "payment.updated":
		return domain.ProviderSaleUpdated
	}
	return domain.ProviderUnknownEventType
}

// Subscribe creates a webhook subscription (POST /v2/webhooks/subscriptions) for the event types
// (DefaultEventTypes when none). Square generates the signature key itself, so secret cannot be
// chosen: it is ignored. Callers that keep the key use SubscribeIssuingKey.
// Square wants the application's own (personal) access token here.
func (c *Client) Subscribe(ctx context.Context, notificationURL, secret string, topics []string) (string, error) {
	id, _, err := c.CreateSubscription(ctx, notificationURL, topics)
	return id, err
}

// SubscribeIssuingKey creates a webhook subscription and returns its id and the signature key
// Square issued for it (connector.KeyIssuingSubscriber).
func (c *Client) SubscribeIssuingKey(ctx context.Context, notificationURL string, topics []string) (string, string, error) {
	return c.CreateSubscription(ctx, notificationURL, topics)
}

var _ connector.KeyIssuingSubscriber = (*Client)(nil)

// CreateSubscription creates a webhook subscription and returns its id and signature key.
func (c *Client) CreateSubscription(ctx context.Context, notificationURL string, topics []string) (id, signatureKey string, err error) {
	u, perr := url.Parse(notificationURL)
	if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", &connector.Error{Kind: connector.KindInvalid, Code: "INVALID_VALUE", Message: fmt.Sprintf("notification URL %q is not an http(s) URL", notificationURL)}
	}
	if len(topics) == 0 {
		topics = DefaultEventTypes
	}
	enabled := true
	req := createSubscriptionRequest{IdempotencyKey: newKey(), Subscription: webhookSubscription{
		Name: "posbridge", Enabled: &enabled, EventTypes: topics, NotificationURL: notificationURL, APIVersion: SquareVersion,
	}}
	var resp subscriptionResponse
	if err := c.call(ctx, "create webhook subscription", http.MethodPost, "/v2/webhooks/subscriptions", nil, req, &resp); err != nil {
		return "", "", err
	}
	if resp.Subscription == nil || resp.Subscription.ID == "" {
		return "", "", &connector.Error{Kind: connector.KindTemporary, Message: "create webhook subscription: Square answered without the subscription"}
	}
	return resp.Subscription.ID, resp.Subscription.SignatureKey, nil
}

// SubscriptionSignatureKey reads a subscription's signature key.
func (c *Client) SubscriptionSignatureKey(ctx context.Context, id string) (string, error) {
	var resp subscriptionResponse
	if err := c.call(ctx, "retrieve webhook subscription "+id, http.MethodGet, "/v2/webhooks/subscriptions/"+url.PathEscape(id), nil, nil, &resp); err != nil {
		return "", err
	}
	if resp.Subscription == nil {
		return "", errNotFound("webhook subscription", id)
	}
	return resp.Subscription.SignatureKey, nil
}

// Unsubscribe deletes a webhook subscription; one already gone counts as deleted.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return errNotFound("webhook subscription", id)
	}
	err := c.call(ctx, "delete webhook subscription "+id, http.MethodDelete, "/v2/webhooks/subscriptions/"+url.PathEscape(id), nil, nil, nil)
	if isKind(err, connector.KindNotFound) {
		return nil
	}
	return err
}
