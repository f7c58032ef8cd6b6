package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook header names.
const (
	SignatureHeader = "Sandbox-Signature"
	EventIDHeader   = "Sandbox-Event-Id"
)

// SignatureTolerance is how far a signature's timestamp may be from the receiver's clock.
const SignatureTolerance = 5 * time.Minute

// Sign returns the Sandbox-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifySignature.
var (
	ErrNoSignature       = errors.New("no usable Sandbox-Signature header")
	ErrStaleSignature    = errors.New("the signature timestamp is outside the tolerance")
	ErrSignatureMismatch = errors.New("the signature does not match the body")
)

// VerifySignature checks a Sandbox-Signature header against the raw body: the HMAC of one of its
// v1 values (lower-case hex) must match, compared in constant time, and its timestamp must be
// within tolerance of now. The header is parsed strictly: any change to it fails.
func VerifySignature(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no webhook secret is set", ErrNoSignature)
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%w: malformed element %q", ErrNoSignature, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two timestamps", ErrNoSignature)
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%w: need t= and v1=", ErrNoSignature)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts[0] == '+' || ts[0] == '-' {
		return fmt.Errorf("%w: bad timestamp %q", ErrNoSignature, ts)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w (%s off)", ErrStaleSignature, d.Round(time.Second))
	}
	want := []byte(signature(secret, ts, body))
	ok := 0
	for _, sig := range sigs {
		ok |= subtle.ConstantTimeCompare(want, []byte(sig))
	}
	if ok != 1 {
		return ErrSignatureMismatch
	}
	return nil
}

// newEventID returns a random event id.
func newEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// emit sends an event to every webhook of the tenant subscribed to its type, in the background.
// hooks is a snapshot taken under the tenant's lock.
func (s *Server) emit(t *tenant, hooks []hookRec, evType string, object any) {
	var ev wireEvent[any]
	ev.ID, ev.Type, ev.CreatedAt = newEventID(), evType, s.now()
	ev.Data.Object = object
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("encode sandbox webhook event", "err", err)
		return
	}
	for _, h := range hooks {
		if !wants(h.W.Topics, evType) {
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.deliver(t, h, ev.ID, evType, body)
	}
}

func wants(topics []string, evType string) bool {
	if len(topics) == 0 {
		return true
	}
	for _, tp := range topics {
		if tp == evType || tp == "*" {
			return true
		}
	}
	return false
}

func (s *Server) hooksOf(st *state) []hookRec {
	out := make([]hookRec, 0, len(st.Webhooks))
	for _, h := range st.Webhooks {
		out = append(out, *h)
	}
	return out
}

// deliver posts one event to one webhook, retrying with backoff, and records every attempt.
func (s *Server) deliver(t *tenant, h hookRec, eventID, evType string, body []byte) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	secret := h.Secret
	if secret == "" {
		secret = s.opts.WebhookSecret
	}
	backoff := s.opts.WebhookBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		status, err := s.post(ctx, h, secret, eventID, body)
		d := Delivery{EventID: eventID, EventType: evType, WebhookID: h.W.ID, URL: h.W.URL, Attempt: attempt,
			Status: status, Delivered: err == nil, At: s.now(), DurationMS: time.Since(start).Milliseconds()}
		if err != nil {
			d.Error = err.Error()
		}
		t.mu.Lock()
		t.deliveries = append(t.deliveries, d)
		if n := len(t.deliveries); n > maxDeliveries {
			t.deliveries = append([]Delivery(nil), t.deliveries[n-maxDeliveries:]...)
		}
		t.mu.Unlock()
		if err == nil {
			return
		}
		if attempt >= s.opts.WebhookAttempts {
			s.log.Warn("sandbox webhook not delivered", "webhook", h.W.ID, "event", eventID, "attempts", attempt, "err", err)
			return
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		backoff = min(2*backoff, max(time.Minute, s.opts.WebhookBackoff))
	}
}

// post makes one delivery attempt; a non-2xx answer is an error.
func (s *Server) post(ctx context.Context, h hookRec, secret, eventID string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.W.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "posbridge-sandbox/1")
	req.Header.Set(EventIDHeader, eventID)
	req.Header.Set("Sandbox-Webhook-Id", h.W.ID)
	req.Header.Set(SignatureHeader, Sign(secret, s.now(), body))
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
