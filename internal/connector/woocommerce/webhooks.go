package woocommerce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// Webhook headers WooCommerce sends with every delivery.
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderResource   = "X-WC-Webhook-Resource"
	HeaderEvent      = "X-WC-Webhook-Event"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderSource     = "X-WC-Webhook-Source"
)

// ErrSignature is wrapped by ParseWebhook when a delivery is unsigned or its signature does not match.
var ErrSignature = errors.New("the WooCommerce webhook signature does not match")

// DefaultTopics are subscribed when Subscribe is given none.
var DefaultTopics = []string{
	"product.created", "product.updated", "product.deleted", "product.restored",
	"order.created", "order.updated", "order.deleted", "order.restored",
	"customer.created", "customer.updated", "customer.deleted",
}

// Sign computes X-WC-Webhook-Signature: standard base64 of HMAC-SHA256 of the exact body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	_, _ = m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

var pingBody = regexp.MustCompile(`^webhook_id=[0-9]+$`)

// PeekWebhook implements connector.WebhookPeeker: a signed delivery's type and topic come from
// its X-WC-Webhook-Topic (or Resource and Event) header. An unsigned one (the ping, or a refusal)
// is left to ParseWebhook.
func (c *Client) PeekWebhook(header http.Header, body []byte, _ string, secret string) (string, string, bool, error) {
	sig := header.Get(HeaderSignature)
	if sig == "" || secret == "" {
		return "", "", false, nil
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, body))) {
		return "", "", false, &connector.Error{Kind: connector.KindInvalid, Code: "bad_signature", Message: ErrSignature.Error(), Err: ErrSignature}
	}
	topic := webhookTopic(header)
	if topic == "" {
		return "", "", false, nil
	}
	return neutralType(topic), topic, true, nil
}

// webhookTopic is a delivery's topic: X-WC-Webhook-Topic, or Resource.Event.
func webhookTopic(header http.Header) string {
	topic := header.Get(HeaderTopic)
	if topic == "" && header.Get(HeaderResource) != "" {
		topic = header.Get(HeaderResource) + "." + header.Get(HeaderEvent)
	}
	return topic
}

// ParseWebhook verifies a delivery and parses it into neutral events. The unsigned ping that
// WooCommerce sends when a webhook is saved (form body webhook_id=N) gives no event and no error;
// anything else must carry a valid signature. url is not signed by WooCommerce and is unused.
func (c *Client) ParseWebhook(header http.Header, body []byte, _ string, secret string) ([]domain.ProviderEvent, error) {
	return ParseWebhook(header, body, secret, time.Now)
}

// ParseWebhook is the client-free form of Client.ParseWebhook; now stamps events without a date.
func ParseWebhook(header http.Header, body []byte, secret string, now func() time.Time) ([]domain.ProviderEvent, error) {
	sig := header.Get(HeaderSignature)
	if sig == "" {
		if len(header.Values(HeaderSignature)) == 0 && pingBody.Match(body) {
			return nil, nil
		}
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "unsigned", Message: "the webhook delivery carries no X-WC-Webhook-Signature", Err: ErrSignature}
	}
	if secret == "" {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "no_secret", Message: "no webhook secret is set for this integration", Err: ErrSignature}
	}
	// Compare the header's exact text with the canonical encoding: a lenient base64 decoder would
	// accept variants that differ in the unused bits of the last character.
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, body))) {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_signature", Message: ErrSignature.Error(), Err: ErrSignature}
	}
	topic := webhookTopic(header)
	var obj struct {
		ID              json.Number `json:"id"`
		DateModifiedGMT string      `json:"date_modified_gmt"`
	}
	if err := jsonin.CheckPayload(body); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_body", Message: "the webhook body is not one JSON object with each key once", Err: err}
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, &connector.Error{Kind: connector.KindInvalid, Code: "bad_body", Message: "the webhook body is not a JSON object", Err: err}
	}
	at := parseWCTime(obj.DateModifiedGMT)
	if at.IsZero() {
		at = now().UTC()
	}
	// X-WC-Webhook-Delivery-ID is a hash of the webhook id and the current second, so two events
	// of one webhook in one second share it: the event id adds the topic, object and its date.
	id := strings.Join([]string{header.Get(HeaderWebhookID), header.Get(HeaderDeliveryID), topic, obj.ID.String(), obj.DateModifiedGMT}, "/")
	return []domain.ProviderEvent{{
		ID: id, Type: neutralType(topic), Topic: topic, ObjectID: obj.ID.String(),
		OccurredAt: at, Payload: json.RawMessage(append([]byte(nil), body...)),
	}}, nil
}

// neutralType maps a WooCommerce topic to the neutral event type.
func neutralType(topic string) string {
	res, ev, _ := strings.Cut(topic, ".")
	switch res {
	case "product":
		if ev == "deleted" {
			return domain.ProviderProductDeleted
		}
		return domain.ProviderProductUpdated
	case "order":
		switch ev {
		case "created":
			return domain.ProviderOrderCreated
		case "deleted":
			return domain.ProviderOrderDeleted
		}
		return domain.ProviderOrderUpdated
	case "customer":
		return domain.ProviderCustomerUpdated
	}
	return domain.ProviderUnknownEventType
}

// wcWebhook is the webhook resource.
type wcWebhook struct {
	ID          int64  `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Status      string `json:"status,omitempty"`
	Topic       string `json:"topic,omitempty"`
	DeliveryURL string `json:"delivery_url,omitempty"`
	Secret      string `json:"secret,omitempty"`
}

// Subscribe creates one WooCommerce webhook per topic (a webhook has exactly one topic) that
// delivers to url signed with secret. The id returned lists the webhook ids, comma-separated.
func (c *Client) Subscribe(ctx context.Context, deliveryURL, secret string, topics []string) (string, error) {
	if len(topics) == 0 {
		topics = DefaultTopics
	}
	var ids []string
	for _, t := range topics {
		body := wcWebhook{Name: "posbridge " + t, Status: "active", Topic: t, DeliveryURL: deliveryURL, Secret: secret}
		var got wcWebhook
		if _, err := c.call(ctx, http.MethodPost, "/webhooks", nil, body, &got); err != nil {
			if len(ids) > 0 {
				_ = c.Unsubscribe(ctx, strings.Join(ids, ","))
			}
			return "", fmt.Errorf("subscribe to %s: %w", t, err)
		}
		ids = append(ids, strconv.FormatInt(got.ID, 10))
	}
	return strings.Join(ids, ","), nil
}

// Unsubscribe deletes the webhooks Subscribe created (DELETE /webhooks/{id}?force=true).
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	for _, one := range strings.Split(id, ",") {
		n, err := intID("webhook", one)
		if err != nil {
			return err
		}
		_, err = c.call(ctx, http.MethodDelete, fmt.Sprintf("/webhooks/%d", n), url.Values{"force": {"true"}}, nil, nil)
		if err != nil && connector.KindOf(err) != connector.KindNotFound {
			return fmt.Errorf("unsubscribe webhook %d: %w", n, err)
		}
	}
	return nil
}
