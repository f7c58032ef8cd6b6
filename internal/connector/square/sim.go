package square

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// Simulator is a stateful simulator of the Square API subset this package uses, served as an
// http.Handler at the root of its listener (paths /v2/...). It is safe for concurrent use.
//
// It checks "Authorization: Bearer <token>", echoes Square-Version, answers Square's error body
// {"errors":[{category,code,detail,field}]}, paginates with opaque cursors, replays the first
// answer for a reused idempotency_key with the same body and refuses it with
// IDEMPOTENCY_KEY_REUSED for another body, refuses stale versions with VERSION_MISMATCH, and
// delivers webhook notifications signed the way Square signs them. Square publishes no rate
// limits, so rate limiting is a test setting (RateLimit, SetRateLimit) answering 429
// RATE_LIMITED without Retry-After, as Square does.
//
// Every webhook subscription gets a signature key of its own, answered when it is created or
// retrieved, and its deliveries are signed with that key, as Square does. The simulator's own
// key (SignatureKey, the webhook secret `posbridge sim` prints) signs only the notifications a
// test builds with SignedNotification.
//
// Deviations, kept on purpose: the catalog holds ITEM objects with nested ITEM_VARIATIONs only;
// orders may be completed without payments through CompleteOrder.
type Simulator struct {
	mu sync.Mutex

	token      string
	key        string
	merchantID string
	currency   string
	locations  []location
	now        func() time.Time
	last       time.Time
	rnd        *rand.Rand

	seq          int64
	items        map[string]*simItem
	itemOrder    []string
	varOwner     map[string]string
	catalogTime  time.Time
	counts       map[countKey]*simCount
	orders       map[string]*order
	orderOrder   []string
	customers    map[string]*customer
	custOrder    []string
	subs         map[string]*webhookSubscription
	subOrder     []string
	idem         map[string]idemEntry
	pendingEvent []webhookEvent

	// faults
	failN      int
	failStatus int
	latency    time.Duration
	rateMax    int
	rateWindow time.Duration
	winStart   time.Time
	winCount   int
	calls      atomic.Int64

	hookClient  *http.Client
	hookRetries int
	hookBackoff time.Duration
	deliveries  []Delivery

	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type simItem struct {
	seq int64
	obj catalogObject
}

type countKey struct{ variation, location string }

type simCount struct {
	qty          int64 // scaled by 10^5
	calculatedAt time.Time
}

type idemEntry struct {
	bodyHash [32]byte
	status   int
	body     []byte
}

// Delivery is one webhook notification the simulator sent.
type Delivery struct {
	URL     string
	Header  http.Header
	Body    []byte
	Status  int // the receiver's answer, 0 when it could not be reached
	Attempt int
}

// SimOption configures a Simulator.
type SimOption func(*Simulator)

// WithAccessToken sets the bearer token the simulator accepts.
func WithAccessToken(t string) SimOption { return func(s *Simulator) { s.token = t } }

// WithSignatureKey sets the webhook signature key.
func WithSignatureKey(k string) SimOption { return func(s *Simulator) { s.key = k } }

// WithCurrency sets the currency of the simulated locations (default EUR).
func WithCurrency(c string) SimOption { return func(s *Simulator) { s.currency = c } }

// WithClock sets the simulator's clock.
func WithClock(now func() time.Time) SimOption { return func(s *Simulator) { s.now = now } }

// WithWebhookClient sets the HTTP client webhook deliveries use (default: 10 s timeout, as Square
// waits 10 s for an answer), how often a failed delivery is retried and the first backoff.
func WithWebhookClient(c *http.Client, retries int, backoff time.Duration) SimOption {
	return func(s *Simulator) { s.hookClient, s.hookRetries, s.hookBackoff = c, retries, backoff }
}

// NewSimulator returns an empty simulator: two locations, no catalog, no orders.
func NewSimulator(opts ...SimOption) *Simulator {
	s := &Simulator{
		token:       "EAAAsim-square-access-token",
		key:         "sim-square-signature-key",
		merchantID:  "MLSIMMERCHANT01",
		currency:    "EUR",
		now:         time.Now,
		rnd:         rand.New(rand.NewPCG(1, 2)),
		items:       map[string]*simItem{},
		varOwner:    map[string]string{},
		counts:      map[countKey]*simCount{},
		orders:      map[string]*order{},
		customers:   map[string]*customer{},
		subs:        map[string]*webhookSubscription{},
		idem:        map[string]idemEntry{},
		hookClient:  &http.Client{Timeout: 10 * time.Second},
		hookRetries: 2,
		hookBackoff: 100 * time.Millisecond,
		closed:      make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	created := s.tick().Format(timeLayout)
	s.catalogTime = s.last
	s.locations = []location{
		{ID: "LSIMMAIN00001", Name: "Main Street", Timezone: "Europe/Dublin", Capabilities: []string{"CREDIT_CARD_PROCESSING"},
			Status: "ACTIVE", CreatedAt: created, MerchantID: s.merchantID, Country: "IE", LanguageCode: "en-IE",
			Currency: s.currency, BusinessName: "Simulated Bikes", Type: "PHYSICAL"},
		{ID: "LSIMHARBOUR02", Name: "Harbour Kiosk", Timezone: "Europe/Dublin", Capabilities: []string{"CREDIT_CARD_PROCESSING"},
			Status: "ACTIVE", CreatedAt: created, MerchantID: s.merchantID, Country: "IE", LanguageCode: "en-IE",
			Currency: s.currency, BusinessName: "Simulated Bikes", Type: "PHYSICAL"},
	}
	return s
}

// Info tells `posbridge sim` how to reach the simulator served at rootURL.
func (s *Simulator) Info(rootURL string) connector.SimInfo {
	return connector.SimInfo{
		Provider: "square",
		BaseURL:  rootURL,
		Credentials: map[string]string{
			FieldAccessToken: s.token,
			FieldEnvironment: rootURL,
			FieldLocationID:  s.locations[0].ID,
		},
		WebhookSecret: s.key,
	}
}

// AccessToken is the token the simulator accepts.
func (s *Simulator) AccessToken() string { return s.token }

// newSignatureKey makes a subscription's signature key: 16 bytes from crypto/rand (a sandbox
// store's key guards posbridge's own webhook URL) in URL-safe base64, 22 characters, the shape
// of the keys Square issues.
func (s *Simulator) newSignatureKey() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SubscriptionKey returns the signature key of a webhook subscription ("" for an unknown one).
func (s *Simulator) SubscriptionKey(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[id]; sub != nil {
		return sub.SignatureKey
	}
	return ""
}

// SignatureKey is the key SignedNotification signs with (subscriptions have keys of their own).
func (s *Simulator) SignatureKey() string { return s.key }

// LocationIDs lists the simulated locations.
func (s *Simulator) LocationIDs() []string {
	out := make([]string, len(s.locations))
	for i, l := range s.locations {
		out[i] = l.ID
	}
	return out
}

// Close releases requests held by a timeout fault and waits for webhook deliveries.
func (s *Simulator) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.wg.Wait()
}

// FailNext makes the next n API calls fail with the HTTP status and Square's error body for it;
// status 0 holds the call unanswered until the client gives up (a timeout).
func (s *Simulator) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// SetLatency delays every answer by d (slow answers).
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRateLimit allows at most n calls per window, answering 429 RATE_LIMITED (without
// Retry-After, like Square) beyond that; n 0 turns the limit off.
func (s *Simulator) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateMax, s.rateWindow, s.winStart, s.winCount = n, window, time.Time{}, 0
}

// RateLimit turns on a tight limit: 5 calls per 250 ms.
func (s *Simulator) RateLimit() { s.SetRateLimit(5, 250*time.Millisecond) }

// Calls counts the API calls the simulator answered (all statuses).
func (s *Simulator) Calls() int { return int(s.calls.Load()) }

// Deliveries returns the webhook notifications sent so far.
func (s *Simulator) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// tick returns the simulator's time, strictly later than any earlier tick, in milliseconds.
func (s *Simulator) tick() time.Time {
	t := s.now().UTC().Truncate(time.Millisecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	return t
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID returns a Square-looking id: 24 upper-case base32 characters.
func (s *Simulator) newID() string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = idAlphabet[s.rnd.IntN(len(idAlphabet))]
	}
	return string(b)
}

var versionFormat = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ServeHTTP answers one API call.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_ERROR", "BAD_REQUEST", "could not read the request body", "")
		return
	}
	s.mu.Lock()
	fail, status, latency := false, 0, s.latency
	if s.failN > 0 {
		s.failN--
		fail, status = true, s.failStatus
	}
	limited := false
	if !fail && s.rateMax > 0 {
		now := time.Now()
		if now.Sub(s.winStart) >= s.rateWindow {
			s.winStart, s.winCount = now, 0
		}
		s.winCount++
		limited = s.winCount > s.rateMax
	}
	s.mu.Unlock()

	if fail && status == 0 {
		select { // no answer until the client gives up
		case <-r.Context().Done():
		case <-s.closed:
		}
		return
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	version := r.Header.Get("Square-Version")
	if version == "" {
		version = SquareVersion
	}
	w.Header().Set("Square-Version", version)
	if fail {
		writeStatusError(w, status)
		return
	}
	if limited {
		writeError(w, http.StatusTooManyRequests, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limit exceeded.", "")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		writeError(w, http.StatusUnauthorized, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.", "")
		return
	}
	if !versionFormat.MatchString(version) {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_SQUARE_VERSION_FORMAT", "Square-Version "+version+" is not in the format YYYY-MM-DD.", "")
		return
	}
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && len(body) > 0 && !json.Valid(body) {
		writeError(w, http.StatusBadRequest, "INVALID_REQUEST_ERROR", "EXPECTED_JSON_BODY", "The request body is not valid JSON.", "")
		return
	}
	status, out := s.route(r, body)
	events := s.takeEvents()
	writeJSON(w, status, out)
	s.deliver(events)
}

// answer is a handler's status and JSON body, kept raw for idempotent replay.
type answer struct {
	status int
	body   []byte
}

func (s *Simulator) route(r *http.Request, body []byte) (int, json.RawMessage) {
	p := r.URL.Path
	m := r.Method
	s.mu.Lock()
	defer s.mu.Unlock()
	var a answer
	switch {
	case p == "/v2/locations" && m == http.MethodGet:
		a = ok(listLocationsResponse{Locations: s.locations})
	case p == "/v2/catalog/list" && m == http.MethodGet:
		a = s.listCatalog(r)
	case p == "/v2/catalog/search" && m == http.MethodPost:
		a = s.searchCatalog(body)
	case p == "/v2/catalog/object" && m == http.MethodPost:
		a = s.idempotent(r, body, s.upsertObject)
	case p == "/v2/catalog/batch-upsert" && m == http.MethodPost:
		a = s.idempotent(r, body, s.batchUpsert)
	case p == "/v2/catalog/batch-retrieve" && m == http.MethodPost:
		a = s.batchRetrieve(body)
	case strings.HasPrefix(p, "/v2/catalog/object/") && m == http.MethodGet:
		a = s.getObject(strings.TrimPrefix(p, "/v2/catalog/object/"))
	case strings.HasPrefix(p, "/v2/catalog/object/") && m == http.MethodDelete:
		a = s.deleteObject(strings.TrimPrefix(p, "/v2/catalog/object/"))
	case p == "/v2/inventory/counts/batch-retrieve" && m == http.MethodPost:
		a = s.retrieveCounts(body)
	case p == "/v2/inventory/changes/batch-create" && m == http.MethodPost:
		a = s.idempotent(r, body, s.changeInventory)
	case p == "/v2/orders" && m == http.MethodPost:
		a = s.idempotent(r, body, s.createOrder)
	case p == "/v2/orders/search" && m == http.MethodPost:
		a = s.searchOrders(body)
	case strings.HasPrefix(p, "/v2/orders/") && m == http.MethodGet:
		a = s.getOrder(strings.TrimPrefix(p, "/v2/orders/"))
	case strings.HasPrefix(p, "/v2/orders/") && m == http.MethodPut:
		id := strings.TrimPrefix(p, "/v2/orders/")
		a = s.idempotent(r, body, func(b []byte) answer { return s.updateOrder(id, b) })
	case p == "/v2/customers" && m == http.MethodGet:
		a = s.listCustomers(r)
	case p == "/v2/customers" && m == http.MethodPost:
		a = s.idempotent(r, body, s.createCustomer)
	case p == "/v2/customers/search" && m == http.MethodPost:
		a = s.searchCustomers(body)
	case strings.HasPrefix(p, "/v2/customers/") && m == http.MethodGet:
		a = s.getCustomer(strings.TrimPrefix(p, "/v2/customers/"))
	case strings.HasPrefix(p, "/v2/customers/") && m == http.MethodPut:
		a = s.updateCustomer(strings.TrimPrefix(p, "/v2/customers/"), body)
	case p == "/v2/webhooks/subscriptions" && m == http.MethodPost:
		a = s.idempotent(r, body, s.createSubscription)
	case p == "/v2/webhooks/subscriptions" && m == http.MethodGet:
		a = s.listSubscriptions()
	case strings.HasPrefix(p, "/v2/webhooks/subscriptions/") && m == http.MethodGet:
		a = s.getSubscription(strings.TrimPrefix(p, "/v2/webhooks/subscriptions/"))
	case strings.HasPrefix(p, "/v2/webhooks/subscriptions/") && m == http.MethodDelete:
		a = s.deleteSubscription(strings.TrimPrefix(p, "/v2/webhooks/subscriptions/"))
	default:
		a = fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("API endpoint for URL path `%s` and HTTP method `%s` is not found.", p, m), "")
	}
	return a.status, a.body
}

// idempotent runs a write once per idempotency_key: the same key with the same body replays the
// first answer; with another body it is refused with IDEMPOTENCY_KEY_REUSED.
func (s *Simulator) idempotent(r *http.Request, body []byte, write func([]byte) answer) answer {
	var k struct {
		IdempotencyKey *string `json:"idempotency_key"`
	}
	_ = json.Unmarshal(body, &k)
	if k.IdempotencyKey == nil {
		if r.Method == http.MethodPut { // UpdateOrder's key is optional
			return write(body)
		}
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "idempotency_key")
	}
	if *k.IdempotencyKey == "" {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_SHORT", "Field must have a length of at least 1.", "idempotency_key")
	}
	scope := r.Method + " " + r.URL.Path + " " + *k.IdempotencyKey
	sum := sha256.Sum256(body)
	if e, ok := s.idem[scope]; ok {
		if e.bodyHash != sum {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "IDEMPOTENCY_KEY_REUSED",
				"The idempotency key can only be retried with the same request data.", "idempotency_key")
		}
		return answer{status: e.status, body: e.body}
	}
	a := write(body)
	s.idem[scope] = idemEntry{bodyHash: sum, status: a.status, body: a.body}
	return a
}

func ok(v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(http.StatusInternalServerError, "API_ERROR", "INTERNAL_SERVER_ERROR", err.Error(), "")
	}
	return answer{status: http.StatusOK, body: b}
}

func fail(status int, category, code, detail, field string) answer {
	b, _ := json.Marshal(errorsBody{Errors: []sqError{{Category: category, Code: code, Detail: detail, Field: field}}})
	return answer{status: status, body: b}
}

func badValue(detail, field string) answer {
	return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_VALUE", detail, field)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, category, code, detail, field string) {
	a := fail(status, category, code, detail, field)
	writeJSON(w, a.status, a.body)
}

// writeStatusError answers an injected fault with the body Square gives for that status.
func writeStatusError(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusUnauthorized:
		writeError(w, status, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.", "")
	case status == http.StatusForbidden:
		writeError(w, status, "AUTHENTICATION_ERROR", "INSUFFICIENT_SCOPES", "The merchant has not given your application sufficient permissions to do that.", "")
	case status == http.StatusTooManyRequests:
		writeError(w, status, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Rate limit exceeded.", "")
	case status == http.StatusServiceUnavailable:
		writeError(w, status, "API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable.", "")
	case status == http.StatusGatewayTimeout:
		writeError(w, status, "API_ERROR", "GATEWAY_TIMEOUT", "Gateway timeout.", "")
	case status >= 500:
		writeError(w, status, "API_ERROR", "INTERNAL_SERVER_ERROR", "An internal error has occurred, and the API was unable to service your request.", "")
	case status == http.StatusNotFound:
		writeError(w, status, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found.", "")
	default:
		writeError(w, status, "INVALID_REQUEST_ERROR", "BAD_REQUEST", http.StatusText(status), "")
	}
}

// Cursors of the simulator are opaque base64 strings.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return string(b), err == nil && len(b) > 0
}

func invalidCursor() answer {
	return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_CURSOR", "The pagination cursor is not valid.", "cursor")
}

// emit queues a webhook event; it is delivered after the answer is written.
func (s *Simulator) emit(eventType, dataType, id string, object any) {
	raw, _ := json.Marshal(object)
	s.pendingEvent = append(s.pendingEvent, webhookEvent{
		MerchantID: s.merchantID, Type: eventType, EventID: newUUID(s.rnd),
		CreatedAt: s.last.Format(timeLayout), Data: webhookEventData{Type: dataType, ID: id, Object: raw},
	})
}

func (s *Simulator) takeEvents() []webhookEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.pendingEvent
	s.pendingEvent = nil
	return ev
}

func newUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SignedNotification builds a notification exactly as Square sends it to notificationURL: the
// JSON body and the headers, signed with the simulator's key.
func (s *Simulator) SignedNotification(notificationURL, eventType, objectID string, object any) (http.Header, []byte) {
	s.mu.Lock()
	s.tick()
	s.emit(eventType, strings.SplitN(eventType, ".", 2)[0], objectID, object)
	ev := s.pendingEvent[len(s.pendingEvent)-1]
	s.pendingEvent = s.pendingEvent[:len(s.pendingEvent)-1]
	key := s.key
	s.mu.Unlock()
	body, _ := json.Marshal(ev)
	return notificationHeader(key, notificationURL, body, ev.CreatedAt, 0), body
}

func notificationHeader(key, notificationURL string, body []byte, initial string, retry int) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Square Connect v2")
	h.Set(SignatureHeader, Sign(key, notificationURL, body))
	h.Set("square-initial-delivery-timestamp", initial)
	h.Set("square-environment", "Sandbox")
	if retry > 0 {
		h.Set("square-retry-number", fmt.Sprint(retry))
		h.Set("square-retry-reason", "http_error")
	}
	return h
}

// deliver posts the events to every enabled subscription that asked for their type.
func (s *Simulator) deliver(events []webhookEvent) {
	if len(events) == 0 {
		return
	}
	s.mu.Lock()
	type target struct{ url, key string }
	var jobs []func()
	for _, ev := range events {
		body, _ := json.Marshal(ev)
		for _, id := range s.subOrder {
			sub := s.subs[id]
			if sub == nil || (sub.Enabled != nil && !*sub.Enabled) || !wants(sub.EventTypes, ev.Type) {
				continue
			}
			t := target{sub.NotificationURL, sub.SignatureKey}
			created := ev.CreatedAt
			jobs = append(jobs, func() { s.post(t.url, t.key, body, created) })
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			j()
		}()
	}
}

func wants(types []string, t string) bool {
	for _, x := range types {
		if x == t || x == "*" {
			return true
		}
	}
	return false
}

// post delivers one notification, retrying a failed one a few times (Square retries for 72 h).
func (s *Simulator) post(url, key string, body []byte, initial string) {
	backoff := s.hookBackoff
	for attempt := 0; attempt <= s.hookRetries; attempt++ {
		h := notificationHeader(key, url, body, initial, attempt)
		status := 0
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err == nil {
			req.Header = h
			go func() {
				select {
				case <-s.closed:
					cancel()
				case <-ctx.Done():
				}
			}()
			if resp, err := s.hookClient.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				status = resp.StatusCode
			}
		}
		cancel()
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{URL: url, Header: h, Body: body, Status: status, Attempt: attempt})
		s.mu.Unlock()
		if status >= 200 && status < 300 {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-s.closed:
			t.Stop()
			return
		case <-t.C:
		}
		backoff *= 2
	}
}

// SetDeliveryClient sets the client webhooks are delivered with. posbridge serves this simulator
// as a sandbox store and passes a client that may only call its own /hooks/ URLs, since the
// delivery URLs are anyone's input. Call it before the simulator serves.
func (s *Simulator) SetDeliveryClient(hc *http.Client) {
	if hc == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookClient = hc
}
