package notify_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/notify"
)

// The Standard Webhooks specification's published test vector (also in Svix's docs and the
// spec's reference libraries).
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vecHeaders(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vecID)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", sig)
	return h
}

func TestSignStandardWebhooksVector(t *testing.T) {
	got, err := notify.Sign(vecSecret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecSig {
		t.Fatalf("Sign = %s, want %s", got, vecSig)
	}
	// The secret without its prefix is the same key.
	if got2, _ := notify.Sign(strings.TrimPrefix(vecSecret, "whsec_"), vecID, time.Unix(vecTS, 0), []byte(vecBody)); got2 != vecSig {
		t.Fatalf("Sign without prefix = %s", got2)
	}
}

func TestVerifyStandardWebhooksVector(t *testing.T) {
	now := time.Unix(vecTS, 0)
	tol := notify.DefaultWebhookTolerance
	if err := notify.Verify(vecSecret, vecHeaders(vecSig), []byte(vecBody), tol, now); err != nil {
		t.Fatalf("vector refused: %v", err)
	}
	// Several signatures (secret rotation), other versions skipped, one match is enough.
	multi := "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg== v1,Zm9vYmFy " + vecSig
	if err := notify.Verify(vecSecret, vecHeaders(multi), []byte(vecBody), tol, now); err != nil {
		t.Fatalf("multi-signature header refused: %v", err)
	}
	// Within tolerance either way.
	for _, d := range []time.Duration{tol, -tol, time.Minute} {
		if err := notify.Verify(vecSecret, vecHeaders(vecSig), []byte(vecBody), tol, now.Add(d)); err != nil {
			t.Fatalf("now %+v: %v", d, err)
		}
	}

	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!"))
	cases := []struct {
		name   string
		secret string
		h      http.Header
		body   string
		now    time.Time
		want   error
	}{
		{"tampered body", vecSecret, vecHeaders(vecSig), `{"test": 2432232315}`, now, notify.ErrWebhookSignature},
		{"wrong secret", otherSecret, vecHeaders(vecSig), vecBody, now, notify.ErrWebhookSignature},
		{"only other versions", vecSecret, vecHeaders("v2," + strings.TrimPrefix(vecSig, "v1,")), vecBody, now, notify.ErrWebhookSignature},
		{"too old", vecSecret, vecHeaders(vecSig), vecBody, now.Add(tol + time.Second), notify.ErrWebhookTimestamp},
		{"too new", vecSecret, vecHeaders(vecSig), vecBody, now.Add(-tol - time.Second), notify.ErrWebhookTimestamp},
		{"no signature", vecSecret, vecHeaders(""), vecBody, now, notify.ErrWebhookHeaders},
		{"no headers", vecSecret, http.Header{}, vecBody, now, notify.ErrWebhookHeaders},
		{"bad secret", "whsec_c2hvcnQ=", vecHeaders(vecSig), vecBody, now, notify.ErrWebhookSecret},
	}
	for _, c := range cases {
		err := notify.Verify(c.secret, c.h, []byte(c.body), tol, c.now)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	bad := vecHeaders(vecSig)
	bad.Set("webhook-timestamp", "yesterday")
	if err := notify.Verify(vecSecret, bad, []byte(vecBody), tol, now); !errors.Is(err, notify.ErrWebhookHeaders) {
		t.Errorf("bad timestamp: %v", err)
	}
	changedID := vecHeaders(vecSig)
	changedID.Set("webhook-id", "msg_other")
	if err := notify.Verify(vecSecret, changedID, []byte(vecBody), tol, now); !errors.Is(err, notify.ErrWebhookSignature) {
		t.Errorf("changed id: %v", err)
	}
}

func TestNewWebhookSecret(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		s := notify.NewWebhookSecret()
		rest, ok := strings.CutPrefix(s, "whsec_")
		key, err := base64.StdEncoding.DecodeString(rest)
		if !ok || err != nil || len(key) != 32 {
			t.Fatalf("secret %q: %d bytes, %v", s, len(key), err)
		}
		if seen[s] {
			t.Fatal("secret repeated")
		}
		seen[s] = true
		sig, err := notify.Sign(s, "msg_1", time.Unix(1, 0), []byte("{}"))
		if err != nil || !strings.HasPrefix(sig, "v1,") {
			t.Fatalf("Sign with a new secret: %q %v", sig, err)
		}
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	for _, s := range []string{"", "whsec_", "whsec_!!!", "whsec_c2hvcnQ="} {
		if _, err := notify.Sign(s, "msg_1", time.Now(), nil); !errors.Is(err, notify.ErrWebhookSecret) {
			t.Errorf("secret %q: %v", s, err)
		}
	}
	for _, id := range []string{"", "msg.1", "msg\n1"} {
		if _, err := notify.Sign(vecSecret, id, time.Now(), nil); err == nil {
			t.Errorf("message id %q accepted", id)
		}
	}
}

// receiver is an app developer's endpoint: it verifies every delivery with Verify.
type receiver struct {
	secret   string
	now      time.Time
	status   atomic.Int32
	hits     atomic.Int32
	verified atomic.Int32
	lastHdr  atomic.Pointer[http.Header]
	lastBody atomic.Pointer[[]byte]
}

func newReceiver(t *testing.T, secret string, now time.Time) (*receiver, *httptest.Server) {
	r := &receiver{secret: secret, now: now}
	r.status.Store(http.StatusNoContent)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		body, _ := io.ReadAll(req.Body)
		h := req.Header.Clone()
		r.lastHdr.Store(&h)
		r.lastBody.Store(&body)
		if req.Method != http.MethodPost {
			http.Error(w, "method", http.StatusMethodNotAllowed)
			return
		}
		if err := notify.Verify(r.secret, req.Header, body, notify.DefaultWebhookTolerance, r.now); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.verified.Add(1)
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func testClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

func TestDeliverSignedAndVerified(t *testing.T) {
	secret := notify.NewWebhookSecret()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rcv, srv := newReceiver(t, secret, now)
	body := []byte(`{"type":"invoice.synced","timestamp":"2026-03-04T05:06:07Z","data":{"id":"inv_1"}}`)
	for _, status := range []int{200, 202, 204, 299} {
		rcv.status.Store(int32(status))
		if err := notify.Deliver(context.Background(), testClient(), srv.URL+"/hooks", secret, "evt_01", body, now); err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
	}
	if rcv.verified.Load() != 4 {
		t.Fatalf("%d deliveries verified, want 4", rcv.verified.Load())
	}
	h := *rcv.lastHdr.Load()
	want := map[string]string{
		"Webhook-Id":        "evt_01",
		"Webhook-Timestamp": "1772600767",
		"Content-Type":      "application/json",
		"User-Agent":        "posbridge-webhooks",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
	if sig, _ := notify.Sign(secret, "evt_01", now, body); h.Get("Webhook-Signature") != sig {
		t.Errorf("signature header %q, want %q", h.Get("Webhook-Signature"), sig)
	}
	if string(*rcv.lastBody.Load()) != string(body) {
		t.Error("body changed on the way")
	}
}

func TestDeliverWrongSecretIsRefusedByReceiver(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	_, srv := newReceiver(t, notify.NewWebhookSecret(), now)
	err := notify.Deliver(context.Background(), testClient(), srv.URL, notify.NewWebhookSecret(), "evt_1", []byte("{}"), now)
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Status != 401 || !de.Retryable || !strings.Contains(de.Message, "no matching webhook signature") {
		t.Fatalf("err = %#v", err)
	}
}

func TestDeliverFailures(t *testing.T) {
	long := strings.Repeat("x", 2000)
	cases := []struct {
		name       string
		status     int
		body       string
		header     map[string]string
		retryable  bool
		retryAfter time.Duration
		message    string
	}{
		{"server error", 500, "boom", nil, true, 0, "boom"},
		{"long answer truncated", 502, long, nil, true, 0, long[:500]},
		{"gone", 410, "endpoint removed", nil, false, 0, "endpoint removed"},
		{"bad request is retried", 400, "bad", nil, true, 0, "bad"},
		{"not found is retried", 404, "", nil, true, 0, ""},
		{"rate limited", 429, "slow down", map[string]string{"Retry-After": "7"}, true, 7 * time.Second, "slow down"},
		{"unavailable with date", 503, "", map[string]string{"Retry-After": "Wed, 04 Mar 2026 05:08:07 GMT"}, true, 2 * time.Minute, ""},
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body)
			}))
			defer srv.Close()
			err := notify.Deliver(context.Background(), testClient(), srv.URL, vecSecret, "evt_1", []byte("{}"), now)
			var de *notify.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DeliveryError", err)
			}
			if de.Status != c.status || de.Retryable != c.retryable || de.RetryAfter != c.retryAfter || de.Message != c.message {
				t.Fatalf("got status %d retryable %v retryAfter %v message %q", de.Status, de.Retryable, de.RetryAfter, de.Message)
			}
			if de.Gone() != (c.status == 410) {
				t.Fatal("Gone is wrong")
			}
		})
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	client := testClient()
	err := notify.Deliver(context.Background(), client, redirect.URL, vecSecret, "evt_1", []byte("{}"), time.Now())
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Status != 307 || !de.Retryable {
		t.Fatalf("err = %v", err)
	}
	if targetHits.Load() != 0 {
		t.Fatal("redirect was followed")
	}
	if client.CheckRedirect != nil {
		t.Fatal("Deliver changed the caller's client")
	}
}

func TestDeliverTransportErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	err := notify.Deliver(context.Background(), testClient(), url, vecSecret, "evt_1", []byte("{}"), time.Now())
	var de *notify.DeliveryError
	if !errors.As(err, &de) || de.Status != 0 || !de.Retryable || de.Err == nil {
		t.Fatalf("connection refused: %#v", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	start := time.Now()
	err = notify.Deliver(context.Background(), &http.Client{Timeout: 100 * time.Millisecond}, slow.URL, vecSecret, "evt_1", []byte("{}"), time.Now())
	if !errors.As(err, &de) || de.Status != 0 || !de.Retryable {
		t.Fatalf("timeout: %#v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatal("the client timeout was not honoured")
	}

	for name, f := range map[string]func() error{
		"nil client": func() error {
			return notify.Deliver(context.Background(), nil, slow.URL, vecSecret, "evt_1", nil, time.Now())
		},
		"bad url": func() error {
			return notify.Deliver(context.Background(), testClient(), "://nope", vecSecret, "evt_1", nil, time.Now())
		},
		"bad secret": func() error {
			return notify.Deliver(context.Background(), testClient(), slow.URL, "whsec_x", "evt_1", nil, time.Now())
		},
	} {
		err := f()
		if !errors.As(err, &de) || de.Retryable {
			t.Errorf("%s: %#v, want a non-retryable DeliveryError", name, err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat(`{"id":"inv_1","total":"12.50"}`, 30))
	ts := time.Unix(vecTS, 0)
	for b.Loop() {
		if _, err := notify.Sign(vecSecret, vecID, ts, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	client := testClient()
	body := []byte(`{"type":"invoice.synced","data":{"id":"inv_1"}}`)
	for b.Loop() {
		if err := notify.Deliver(context.Background(), client, srv.URL, vecSecret, "evt_1", body, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
