// Package outbox sends what leaves posbridge for people and apps: emails to an account's admins
// over SMTP and events to the business app's webhook endpoints, signed per Standard Webhooks.
// Both are queued as River jobs in the transaction of the change they report, so a change that
// commits is always announced and one that rolls back never is; River retries with backoff.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/store"
)

// Sealer encrypts the endpoints' signing secrets at rest (internal/secrets.Box).
type Sealer interface {
	Seal(plaintext []byte, aad string) (string, error)
	Open(sealed, aad string) ([]byte, error)
}

// Outbox queues and sends notifications.
type Outbox struct {
	st     *store.Store
	q      jobs.Enqueuer
	box    Sealer
	smtp   notify.SMTPConfig
	mailer *notify.Mailer
	client *http.Client
	open   bool // --allow-private-provider-hosts: endpoints may be on loopback and private addresses
	log    *slog.Logger
	now    func() time.Time
}

// Config for the outbox.
type Config struct {
	SMTP       notify.SMTPConfig
	HTTPClient *http.Client // for webhook deliveries; nil: a client guarded like the providers' one
	// AllowPrivate (--allow-private-provider-hosts) lets endpoints point at loopback and private
	// addresses. The zero value refuses them, at creation and at every delivery.
	AllowPrivate bool
	Logger       *slog.Logger
}

// New returns an outbox. SetQueue must be called before use (the queue needs the workers first).
func New(st *store.Store, box Sealer, cfg Config) *Outbox {
	o := &Outbox{st: st, box: box, smtp: cfg.SMTP, client: cfg.HTTPClient, open: cfg.AllowPrivate, log: cfg.Logger, now: time.Now}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.client == nil {
		o.client = connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: cfg.AllowPrivate, Timeout: 15 * time.Second})
	}
	if cfg.SMTP.Configured() {
		o.mailer = notify.NewMailer(cfg.SMTP)
	}
	return o
}

// SetQueue connects the outbox to the job queue.
func (o *Outbox) SetQueue(q jobs.Enqueuer) { o.q = q }

// EmailConfigured tells whether SMTP is set up (the console shows a banner when it is not).
func (o *Outbox) EmailConfigured() bool { return o.mailer != nil }

// EmailArgs is a queued email to an account's admins.
type EmailArgs struct {
	AccountID     string   `json:"account_id"`
	IntegrationID string   `json:"integration_id"`
	To            []string `json:"to"`
	Subject       string   `json:"subject"`
	Text          string   `json:"text"`
}

// Kind implements river.JobArgs.
func (EmailArgs) Kind() string { return "email" }

// EmailAdmins queues an email to every admin of the account. Without SMTP it says so on the
// timeline instead: a notification is never dropped silently.
func (o *Outbox) EmailAdmins(ctx context.Context, tx *store.Tx, accountID, integrationID, subject, text string) error {
	to, err := tx.AdminEmails(ctx, accountID)
	if err != nil {
		return fmt.Errorf("admin emails: %w", err)
	}
	if o.mailer == nil || len(to) == 0 {
		why := "SMTP is not configured"
		if len(to) == 0 {
			why = "the account has no admin users"
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: o.now(), Kind: domain.KindNotificationFailed,
			IntegrationID: integrationID, Actor: domain.ActorSystem,
			Message: fmt.Sprintf("Email %q to the admins was not sent: %s.", subject, why)})
	}
	return o.q.InsertTx(ctx, tx, EmailArgs{AccountID: accountID, IntegrationID: integrationID, To: to, Subject: subject, Text: text}, nil)
}

// EmailTo queues an email to one person (an invitation, a password reset) in the transaction.
// It answers false without SMTP: the caller shows the link another way.
func (o *Outbox) EmailTo(ctx context.Context, tx *store.Tx, accountID, to, subject, text string) (bool, error) {
	if o.mailer == nil {
		return false, nil
	}
	return true, o.q.InsertTx(ctx, tx, EmailArgs{AccountID: accountID, To: []string{to}, Subject: subject, Text: text}, nil)
}

// DeliverArgs is one event to one endpoint.
type DeliverArgs struct {
	AccountID  string          `json:"account_id"`
	DeliveryID string          `json:"delivery_id"`
	EndpointID string          `json:"endpoint_id"`
	EventType  string          `json:"event_type"`
	Body       json.RawMessage `json:"body"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "deliver_webhook" }

// Event is the envelope every outbound webhook carries.
type Event struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	AccountID string    `json:"account_id"`
	Data      any       `json:"data"`
}

// Publish queues the event for every endpoint of the account that wants it.
func (o *Outbox) Publish(ctx context.Context, tx *store.Tx, accountID, eventType string, data any) error {
	eps, err := tx.ListWebhookEndpoints(ctx, accountID)
	if err != nil {
		return fmt.Errorf("list endpoints: %w", err)
	}
	return o.PublishTo(ctx, tx, eps, accountID, eventType, data)
}

// PublishTo is Publish with the account's endpoints already read in the transaction.
func (o *Outbox) PublishTo(ctx context.Context, tx *store.Tx, eps []domain.WebhookEndpoint, accountID, eventType string, data any) error {
	now := o.now()
	for _, ep := range eps {
		if !ep.Wants(eventType) {
			continue
		}
		msgID := auth.NewID("msg")
		body, err := json.Marshal(Event{ID: msgID, Type: eventType, CreatedAt: now, AccountID: accountID, Data: data})
		if err != nil {
			return fmt.Errorf("encode event %s: %w", eventType, err)
		}
		if err := tx.CreateDelivery(ctx, store.Delivery{ID: msgID, AccountID: accountID, EndpointID: ep.ID, EventType: eventType,
			Status: "pending", CreatedAt: now, UpdatedAt: now, Body: body}); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		if err := o.q.InsertTx(ctx, tx, DeliverArgs{AccountID: accountID, DeliveryID: msgID, EndpointID: ep.ID, EventType: eventType, Body: body},
			&river.InsertOpts{MaxAttempts: 12}); err != nil {
			return err
		}
	}
	return nil
}

// CreateEndpoint validates and stores a webhook endpoint; the signing secret is returned once.
func (o *Outbox) CreateEndpoint(ctx context.Context, accountID, actor, rawURL, description string, events []string) (domain.WebhookEndpoint, string, error) {
	if err := domain.CheckText("url", rawURL, domain.TextURL); err != nil {
		return domain.WebhookEndpoint{}, "", err
	}
	if err := domain.CheckText("description", description, domain.TextDescription); err != nil {
		return domain.WebhookEndpoint{}, "", err
	}
	if len(events) > 50 {
		return domain.WebhookEndpoint{}, "", domain.Invalid("events", "at most 50 event types")
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return domain.WebhookEndpoint{}, "", domain.Invalid("url", "url must be an absolute http or https URL")
	}
	if len(rawURL) > 2000 {
		return domain.WebhookEndpoint{}, "", domain.Invalid("url", "url is longer than 2000 characters")
	}
	if why := undeliverable(u, o.open); why != "" {
		return domain.WebhookEndpoint{}, "", domain.Invalid("url", "url can never be delivered to: %s", why)
	}
	if !o.open {
		if err := connector.CheckHost(ctx, u.Hostname()); err != nil {
			return domain.WebhookEndpoint{}, "", domain.Invalid("url",
				"url must point at a public address: %s (a server started with --allow-private-provider-hosts accepts it)",
				strings.TrimPrefix(err.Error(), connector.ErrForbiddenHost.Error()+": "))
		}
	}
	for _, e := range events {
		if !knownEvent(e) {
			return domain.WebhookEndpoint{}, "", domain.Invalid("events", "unknown event type %q", e)
		}
	}
	if events == nil {
		events = []string{}
	}
	ep := domain.WebhookEndpoint{ID: auth.NewID("whe"), AccountID: accountID, URL: u.String(), Description: description, Events: events, CreatedAt: o.now()}
	secret := notify.NewWebhookSecret()
	sealed, err := o.box.Seal([]byte(secret), ep.ID)
	if err != nil {
		return ep, "", fmt.Errorf("seal endpoint secret: %w", err)
	}
	err = o.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateWebhookEndpoint(ctx, ep, sealed); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: ep.CreatedAt, Kind: domain.KindWebhookEndpoint,
			Actor: actor, Message: "Webhook endpoint " + ep.URL + " added"})
	})
	return ep, secret, err
}

// DeleteEndpoint removes an endpoint of the account.
func (o *Outbox) DeleteEndpoint(ctx context.Context, accountID, actor, id string) error {
	return o.st.InTx(ctx, func(tx *store.Tx) error {
		ep, _, err := tx.GetWebhookEndpoint(ctx, accountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return domain.NotFound("webhook endpoint")
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookEndpoint(ctx, accountID, id); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: o.now(), Kind: domain.KindWebhookEndpoint,
			Actor: actor, Message: "Webhook endpoint " + ep.URL + " removed"})
	})
}

// EventTypes lists the outbound events an endpoint may subscribe to.
var EventTypes = []string{domain.EventIntegrationStatusChanged, domain.EventDocumentUpdated, domain.EventRecordsChanged, domain.EventSalesImported}

func knownEvent(e string) bool {
	if e == "*" {
		return true
	}
	for _, k := range EventTypes {
		if k == e {
			return true
		}
	}
	return false
}

// Register adds the outbox's workers.
func (o *Outbox) Register(w *river.Workers) {
	river.AddWorker(w, &emailWorker{o: o})
	river.AddWorker(w, &deliverWorker{o: o})
}

type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	o *Outbox
}

func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	a := job.Args
	if w.o.mailer == nil {
		return river.JobCancel(errors.New("SMTP is not configured"))
	}
	err := w.o.mailer.Send(ctx, notify.Message{To: a.To, Subject: a.Subject, Text: a.Text})
	if err == nil {
		return w.o.timeline(ctx, a.AccountID, a.IntegrationID, domain.KindNotification,
			fmt.Sprintf("Email %q sent to %s.", a.Subject, strings.Join(a.To, ", ")))
	}
	final := notify.IsPermanent(err) || job.Attempt >= job.MaxAttempts
	if final {
		_ = w.o.timeline(ctx, a.AccountID, a.IntegrationID, domain.KindNotificationFailed,
			fmt.Sprintf("Email %q could not be sent: %v", a.Subject, err))
		return river.JobCancel(err)
	}
	return err
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	o *Outbox
}

// NextRetry schedules a failed delivery's next attempt as River would (attempt^4 seconds),
// without jitter, so the delivery's next_attempt_at is when it runs.
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(deliveryRetryDelay(job.Attempt))
}

func deliveryRetryDelay(attempt int) time.Duration {
	n := time.Duration(max(attempt, 1))
	return min(n*n*n*n*time.Second, 6*time.Hour)
}

// TestEventType is the event "send test event" sends, whatever the endpoint subscribed to.
const TestEventType = "webhook.test"

// SendTest queues a test event to one endpoint of the account and returns its delivery as
// queued (pending): a worker may already be sending it by the time the caller reads it again.
func (o *Outbox) SendTest(ctx context.Context, accountID, endpointID string) (store.Delivery, error) {
	var d store.Delivery
	err := o.st.InTx(ctx, func(tx *store.Tx) error {
		ep, _, err := tx.GetWebhookEndpoint(ctx, accountID, endpointID)
		if errors.Is(err, store.ErrNotFound) {
			return domain.NotFound("webhook endpoint")
		}
		if err != nil {
			return err
		}
		ep.Events = nil // a test goes whatever the endpoint subscribed to
		if err := o.PublishTo(ctx, tx, []domain.WebhookEndpoint{ep}, accountID, TestEventType,
			map[string]any{"message": "A test event from posbridge: your endpoint receives and verifies its webhooks."}); err != nil {
			return err
		}
		ds, err := tx.ListEndpointDeliveries(ctx, accountID, endpointID, 1)
		if err != nil || len(ds) == 0 {
			return fmt.Errorf("read the test delivery: %v", err)
		}
		d = ds[0]
		return nil
	})
	return d, err
}

// Redeliver sends a delivery of the account's endpoint again, with the same body and webhook-id
// (so an app that already took it can tell), as a new series of attempts.
func (o *Outbox) Redeliver(ctx context.Context, accountID, endpointID, deliveryID string) (store.Delivery, error) {
	var d store.Delivery
	err := o.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = tx.GetDelivery(ctx, accountID, endpointID, deliveryID)
		if errors.Is(err, store.ErrNotFound) {
			return domain.NotFound("delivery")
		}
		if err != nil {
			return err
		}
		if len(d.Body) == 0 {
			return domain.Errorf(domain.CodeConflict, "this delivery is from before posbridge kept what it sent, so it cannot be sent again")
		}
		if d.Status == "pending" || d.Status == "retrying" {
			return domain.Errorf(domain.CodeConflict, "this delivery is still being sent (%s); wait for its outcome", d.Status)
		}
		if err := tx.RequeueDelivery(ctx, accountID, deliveryID, o.now()); err != nil {
			return err
		}
		d.Status, d.NextAttemptAt = "pending", nil
		return o.q.InsertTx(ctx, tx, DeliverArgs{AccountID: accountID, DeliveryID: deliveryID, EndpointID: endpointID, EventType: d.EventType, Body: d.Body},
			&river.InsertOpts{MaxAttempts: 12})
	})
	return d, err
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	a := job.Args
	ep, sealed, err := w.o.st.GetWebhookEndpoint(ctx, a.AccountID, a.EndpointID)
	if errors.Is(err, store.ErrNotFound) {
		_ = w.o.st.RecordDeliveryAttempt(ctx, a.AccountID, a.DeliveryID, "cancelled", 0, "endpoint removed", w.o.now(), nil)
		return river.JobCancel(errors.New("endpoint removed"))
	}
	if err != nil {
		return err
	}
	secret, err := w.o.box.Open(sealed, ep.ID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("open endpoint secret: %w", err))
	}
	err = notify.Deliver(ctx, w.o.client, ep.URL, string(secret), a.DeliveryID, a.Body, w.o.now())
	if err == nil {
		return w.o.st.RecordDeliveryAttempt(ctx, a.AccountID, a.DeliveryID, "delivered", 200, "", w.o.now(), nil)
	}
	var de *notify.DeliveryError
	status, retryable := 0, true
	if errors.As(err, &de) {
		status, retryable = de.Status, de.Retryable
	}
	if errors.Is(err, connector.ErrForbiddenHost) {
		retryable = false // the endpoint's address is not public (an endpoint from before the check at creation, or DNS that changed): no retry helps
	}
	final := !retryable || job.Attempt >= job.MaxAttempts
	state := "retrying"
	var next *time.Time
	if final {
		state = "failed"
	} else {
		t := w.o.now().Add(deliveryRetryDelay(job.Attempt))
		next = &t
	}
	if rerr := w.o.st.RecordDeliveryAttempt(ctx, a.AccountID, a.DeliveryID, state, status, err.Error(), w.o.now(), next); rerr != nil {
		w.o.log.Error("record delivery attempt", "delivery", a.DeliveryID, "err", rerr)
	}
	if final {
		return river.JobCancel(err)
	}
	return err
}

func (o *Outbox) timeline(ctx context.Context, accountID, integrationID, kind, msg string) error {
	return o.st.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: o.now(), Kind: kind, IntegrationID: integrationID,
		Actor: domain.ActorSystem, Message: msg})
}

// reservedSuffixes are top-level names that never resolve on the public internet (RFC 2606,
// 6761, 6762, 9476 and ICANN's .internal); .invalid never resolves anywhere.
var reservedSuffixes = []string{".invalid", ".test", ".example", ".local", ".internal", ".home.arpa", ".onion", ".alt"}

// undeliverable says why a webhook endpoint URL could never be delivered to, or "": a port no
// server listens on, a name reserved never to resolve, and (unless private hosts are allowed) a
// name of one label, which only a private network can resolve. Addresses are judged by the
// SSRF guard (connector.CheckHost) after this.
func undeliverable(u *url.URL, open bool) string {
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is not a port a server can listen on (1 to 65535)", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "the port after the colon is empty"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if _, ok := connector.ParseHostAddr(host); ok {
		return ""
	}
	if host == "invalid" || strings.HasSuffix(host, ".invalid") {
		return host + " is a reserved name that never resolves"
	}
	if open {
		return ""
	}
	for _, suf := range reservedSuffixes {
		if host == suf[1:] || strings.HasSuffix(host, suf) {
			return host + " is under " + suf + ", a name reserved never to resolve on the public internet"
		}
	}
	if !strings.Contains(host, ".") && host != "localhost" {
		return host + " is a name of one label, which only a private network resolves (use the full name, such as app.example.com)"
	}
	return ""
}
