package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (https://www.standardwebhooks.com) header names and secret prefix.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
	WebhookSecretPrefix    = "whsec_"
	// WebhookUserAgent is the User-Agent of every delivery.
	WebhookUserAgent = "posbridge-webhooks"
	// DefaultWebhookTolerance is the usual allowed clock difference for Verify.
	DefaultWebhookTolerance = 5 * time.Minute
)

// Errors of Verify and Sign. Verify wraps them, so use errors.Is.
var (
	ErrWebhookSecret    = errors.New("webhook secret is not whsec_ + base64 of 24 to 64 bytes")
	ErrWebhookHeaders   = errors.New("webhook-id, webhook-timestamp or webhook-signature header missing or malformed")
	ErrWebhookTimestamp = errors.New("webhook timestamp outside the tolerance")
	ErrWebhookSignature = errors.New("no matching webhook signature")
	errWebhookMessageID = errors.New("webhook message id must be non-empty and contain no '.'")
)

// maxDeliveryErrorBody is how much of a failed delivery's answer is kept.
const maxDeliveryErrorBody = 500

// NewWebhookSecret returns a new endpoint secret: "whsec_" + base64 of 32 random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// webhookKey decodes a secret: the part after "whsec_" (the prefix may be left off) in
// standard base64; the spec asks for 24 to 64 bytes.
func webhookKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(strings.TrimSpace(secret), WebhookSecretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrWebhookSecret
	}
	return key, nil
}

func signWithKey(key []byte, msgID string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the Standard Webhooks signature of a message:
// "v1," + base64(HMAC-SHA256(key, "{msgID}.{unix seconds}.{body}")), where key is the
// base64-decoded part of secret after "whsec_".
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	if msgID == "" || strings.ContainsAny(msgID, ".\r\n") {
		return "", errWebhookMessageID
	}
	key, err := webhookKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(signWithKey(key, msgID, ts.Unix(), body)), nil
}

// Verify checks a delivery as a receiver would: the three webhook-* headers are present, the
// timestamp is within tolerance of now (either way), and one of the space-separated "v1,..."
// signatures matches (compared in constant time). Other signature versions are skipped.
func Verify(secret string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	key, err := webhookKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrWebhookHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrWebhookHeaders, tsText)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s off, tolerance %s", ErrWebhookTimestamp, d.Round(time.Second), tolerance)
	}
	want := signWithKey(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrWebhookSignature
}

// DeliveryError is a failed delivery: an answer other than 2xx (Status set) or no answer at
// all (Status 0: connection refused, timeout, TLS failure).
type DeliveryError struct {
	Status     int           // HTTP status, 0 when there was no answer
	Message    string        // the first 500 bytes of the answer body, or the transport error
	Retryable  bool          // false only for 410 Gone (disable the endpoint) and unusable input
	RetryAfter time.Duration // from a Retry-After header, 0 when none
	Err        error         // the transport error, when there was one
}

func (e *DeliveryError) Error() string {
	if e.Status == 0 {
		return "webhook delivery failed: " + e.Message
	}
	s := fmt.Sprintf("webhook delivery failed: HTTP %d", e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Gone tells whether the receiver answered 410 Gone: per Standard Webhooks the endpoint should
// be disabled.
func (e *DeliveryError) Gone() bool { return e.Status == http.StatusGone }

// Deliver POSTs one signed message to url: headers webhook-id (msgID, the same on every retry
// of one event), webhook-timestamp (now), webhook-signature, Content-Type application/json and
// User-Agent posbridge-webhooks. A 2xx answer is success. Redirects are not followed (a 3xx is
// a failure: the endpoint URL should be updated). Any other outcome is a *DeliveryError,
// retryable except 410 Gone. client should be the guarded outbound client (SSRF protection,
// timeouts); it is required.
func Deliver(ctx context.Context, client *http.Client, url, secret, msgID string, body []byte, now time.Time) error {
	if client == nil {
		return &DeliveryError{Message: "no HTTP client given", Err: errors.New("notify: Deliver needs an http.Client")}
	}
	sig, err := Sign(secret, msgID, now, body)
	if err != nil {
		return &DeliveryError{Message: "sign: " + err.Error(), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Message: "bad endpoint URL: " + err.Error(), Err: err}
	}
	req.Header.Set(HeaderWebhookID, msgID)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", WebhookUserAgent)

	c := *client // shallow copy: same transport, our redirect policy
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return &DeliveryError{Message: err.Error(), Retryable: true, Err: err}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, int64(maxDeliveryErrorBody)))
	// Drain a little more so the connection can be reused; give up on big answers.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return &DeliveryError{
		Status:     resp.StatusCode,
		Message:    strings.ToValidUTF8(string(head), "\uFFFD"),
		Retryable:  resp.StatusCode != http.StatusGone,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now),
	}
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
