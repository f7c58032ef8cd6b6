package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// waitLimit bounds every wait of these tests: each ends when its condition holds, and the limit
// only stops a broken run on a busy machine.
const waitLimit = 2 * time.Minute

// received is one delivery as the app's endpoint saw it.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is the business app's webhook endpoint: it records every delivery and answers with
// the status of the path's queue (200 once the queue is empty).
type receiver struct {
	*httptest.Server
	got chan received

	mu      sync.Mutex
	answers map[string][]int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{got: make(chan received, 64), answers: map[string][]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		status := http.StatusOK
		if q := rc.answers[r.URL.Path]; len(q) > 0 {
			status, rc.answers[r.URL.Path] = q[0], q[1:]
		}
		rc.mu.Unlock()
		rc.got <- received{path: r.URL.Path, header: r.Header.Clone(), body: b}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// answer makes the next deliveries to path answer these statuses, in turn.
func (rc *receiver) answer(path string, statuses ...int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answers[path] = append(rc.answers[path], statuses...)
}

func (rc *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-rc.got:
		return r
	case <-time.After(waitLimit):
		t.Fatal("no delivery reached the endpoint")
		return received{}
	}
}

// env is an outbox on real storage; with workers, River runs its jobs.
type env struct {
	st  *store.Store
	out *outbox.Outbox
}

func newEnv(t *testing.T, db testdb.Target, workers bool) env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, db, "acct_a", "acct_b")
	box := storetest.Box(t)
	// The receiver listens on loopback, which only a server started with
	// --allow-private-provider-hosts delivers to.
	out := outbox.New(st, box, outbox.Config{AllowPrivate: true})
	if !workers {
		return env{st: st, out: out}
	}
	ws := river.NewWorkers()
	out.Register(ws)
	q, err := jobs.New(st, jobs.Config{RunWorkers: true, MaxWorkers: 4, FetchPollInterval: 20 * time.Millisecond}, ws)
	if err != nil {
		t.Fatal(err)
	}
	out.SetQueue(q)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		q.Stop(sctx) //nolint:errcheck // test teardown
	})
	return env{st: st, out: out}
}

func (e env) endpoint(t *testing.T, account, url string, events ...string) (domain.WebhookEndpoint, string) {
	t.Helper()
	ep, secret, err := e.out.CreateEndpoint(context.Background(), account, "test", url, "", events)
	if err != nil {
		t.Fatalf("create endpoint %s: %v", url, err)
	}
	return ep, secret
}

// waitDelivery waits until the endpoint's newest delivery has the status.
func (e env) waitDelivery(t *testing.T, account, endpointID, status string) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		ds, err := e.st.ListEndpointDeliveries(context.Background(), account, endpointID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].Status == status {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery of endpoint %s never became %s: %+v", endpointID, status, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPublishDeliversWhatCommits: an event published in a transaction that rolls back is never
// recorded or sent; a committed one reaches exactly the account's endpoints that want it,
// signed with the endpoint's own secret, is recorded as delivered, and is sent again on
// Redeliver with the same webhook-id and body. Another account can neither redeliver nor
// delete the endpoint.
func TestPublishDeliversWhatCommits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db, true)
		rc := newReceiver(t)
		status, secret := e.endpoint(t, "acct_a", rc.URL+"/status", domain.EventIntegrationStatusChanged)
		sales, _ := e.endpoint(t, "acct_a", rc.URL+"/sales", domain.EventSalesImported)
		e.endpoint(t, "acct_b", rc.URL+"/other-account") // every event, of its own account only

		rollback := errors.New("roll back")
		err := e.st.InTx(ctx, func(tx *store.Tx) error {
			if err := e.out.Publish(ctx, tx, "acct_a", domain.EventIntegrationStatusChanged, map[string]any{"n": 1}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("rolled-back publish: %v", err)
		}
		if ds, err := e.st.ListEndpointDeliveries(ctx, "acct_a", status.ID, 10); err != nil || len(ds) != 0 {
			t.Fatalf("deliveries after a rollback: %v %+v", err, ds)
		}

		if err := e.st.InTx(ctx, func(tx *store.Tx) error {
			return e.out.Publish(ctx, tx, "acct_a", domain.EventIntegrationStatusChanged, map[string]any{"n": 2})
		}); err != nil {
			t.Fatal(err)
		}
		got := rc.next(t)
		if got.path != "/status" {
			t.Fatalf("the event went to %s, want only the endpoint subscribed to it", got.path)
		}
		if err := notify.Verify(secret, got.header, got.body, time.Minute, time.Now()); err != nil {
			t.Fatalf("signature does not verify with the endpoint's secret: %v", err)
		}
		var ev outbox.Event
		if err := json.Unmarshal(got.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != domain.EventIntegrationStatusChanged || ev.AccountID != "acct_a" || ev.ID != got.header.Get(notify.HeaderWebhookID) {
			t.Fatalf("event %+v with webhook-id %q", ev, got.header.Get(notify.HeaderWebhookID))
		}
		if data, _ := ev.Data.(map[string]any); data["n"] != float64(2) {
			t.Fatalf("data of the committed event: %v", ev.Data)
		}
		d := e.waitDelivery(t, "acct_a", status.ID, "delivered")
		if d.Attempts != 1 || d.LastStatus != 200 || d.ID != ev.ID {
			t.Fatalf("delivery record %+v", d)
		}
		if ds, _ := e.st.ListEndpointDeliveries(ctx, "acct_a", sales.ID, 10); len(ds) != 0 {
			t.Fatalf("the sales endpoint got deliveries of an event it did not subscribe to: %+v", ds)
		}

		if _, err := e.out.Redeliver(ctx, "acct_b", status.ID, d.ID); !isCode(err, domain.CodeNotFound) {
			t.Fatalf("another account redelivers: %v, want not found", err)
		}
		if _, err := e.out.Redeliver(ctx, "acct_a", status.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		again := rc.next(t)
		if again.path != "/status" || again.header.Get(notify.HeaderWebhookID) != ev.ID || string(again.body) != string(got.body) {
			t.Fatalf("redelivery: %s id %q body %s", again.path, again.header.Get(notify.HeaderWebhookID), again.body)
		}
		e.waitDelivery(t, "acct_a", status.ID, "delivered")

		if err := e.out.DeleteEndpoint(ctx, "acct_b", "test", status.ID); !isCode(err, domain.CodeNotFound) {
			t.Fatalf("another account deletes the endpoint: %v, want not found", err)
		}
		if err := e.out.DeleteEndpoint(ctx, "acct_a", "test", status.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-rc.got:
			t.Fatalf("unexpected delivery to %s", r.path)
		default:
		}
	})
}

// TestDeliveryRetriesUntilDelivered: an endpoint answering 500 gets the same event again (same
// webhook-id) until it answers 2xx, and the delivery records every attempt; one answering 410
// Gone is not tried again.
func TestDeliveryRetriesUntilDelivered(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db, true)
		rc := newReceiver(t)
		rc.answer("/flaky", http.StatusInternalServerError)
		rc.answer("/gone", http.StatusGone)
		flaky, _ := e.endpoint(t, "acct_a", rc.URL+"/flaky", domain.EventSalesImported)
		gone, _ := e.endpoint(t, "acct_a", rc.URL+"/gone", domain.EventSalesImported)
		if err := e.st.InTx(ctx, func(tx *store.Tx) error {
			return e.out.Publish(ctx, tx, "acct_a", domain.EventSalesImported, map[string]any{"sales": 3})
		}); err != nil {
			t.Fatal(err)
		}
		d := e.waitDelivery(t, "acct_a", flaky.ID, "delivered")
		if d.Attempts != 2 || d.LastStatus != 200 {
			t.Fatalf("flaky endpoint's delivery: %+v, want delivered at the second attempt", d)
		}
		g := e.waitDelivery(t, "acct_a", gone.ID, "failed")
		if g.Attempts != 1 || g.LastStatus != http.StatusGone || g.NextAttemptAt != nil {
			t.Fatalf("gone endpoint's delivery: %+v, want failed after one attempt", g)
		}
		ids := map[string][]string{}
		for len(ids["/flaky"]) < 2 || len(ids["/gone"]) < 1 {
			r := rc.next(t)
			ids[r.path] = append(ids[r.path], r.header.Get(notify.HeaderWebhookID))
		}
		if f := ids["/flaky"]; f[0] != f[1] || f[0] != d.ID {
			t.Fatalf("the retry carried webhook-ids %v, want %s twice", f, d.ID)
		}
	})
}

// TestCreateEndpointRefuses: an endpoint that could never be delivered to, or asks for events
// that do not exist, is refused with the field named; a server that does not allow private
// hosts refuses loopback.
func TestCreateEndpointRefuses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db, false)
		cases := []struct {
			url, field string
			events     []string
		}{
			{url: "ftp://example.com/hook", field: "url"},
			{url: "/relative", field: "url"},
			{url: "https://shop.invalid/hook", field: "url"},
			{url: "https://example.com:0/hook", field: "url"},
			{url: "https://example.com/" + strings.Repeat("a", 2100), field: "url"},
			{url: "https://example.com/hook", field: "events", events: []string{"order.teleported"}},
		}
		for _, c := range cases {
			_, _, err := e.out.CreateEndpoint(ctx, "acct_a", "test", c.url, "", c.events)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != c.field {
				t.Errorf("%.60s %v: %v, want invalid %s", c.url, c.events, err, c.field)
			}
		}
		guarded := outbox.New(e.st, nil, outbox.Config{})
		_, _, err := guarded.CreateEndpoint(ctx, "acct_a", "test", "http://127.0.0.1:8080/hook", "", nil)
		var de *domain.Error
		if !errors.As(err, &de) || de.Field != "url" || !strings.Contains(de.Message, "public address") {
			t.Errorf("loopback endpoint on a guarded server: %v", err)
		}
		if eps, err := e.st.ListWebhookEndpoints(ctx, "acct_a"); err != nil || len(eps) != 0 {
			t.Fatalf("refused endpoints were stored: %v %+v", err, eps)
		}
	})
}

// TestEmailAdminsWithoutSMTP: without SMTP an email to the admins is not dropped silently: the
// account's timeline says it was not sent, in the transaction of the change (so a rollback
// leaves nothing).
func TestEmailAdminsWithoutSMTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db, false)
		if e.out.EmailConfigured() {
			t.Fatal("email configured without SMTP settings")
		}
		rollback := errors.New("roll back")
		send := func(subject string, end error) error {
			return e.st.InTx(ctx, func(tx *store.Tx) error {
				if err := e.out.EmailAdmins(ctx, tx, "acct_a", "", subject, "text"); err != nil {
					return err
				}
				return end
			})
		}
		if err := send("Rolled back", rollback); !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if err := send("Called off", nil); err != nil {
			t.Fatal(err)
		}
		tl, err := e.st.ListTimeline(ctx, "acct_a", store.TimelineFilter{Kinds: []string{domain.KindNotificationFailed}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 1 || !strings.Contains(tl[0].Message, `"Called off"`) {
			t.Fatalf("timeline %+v, want one entry for the committed email", tl)
		}
		if other, _ := e.st.ListTimeline(ctx, "acct_b", store.TimelineFilter{}); len(other) != 0 {
			t.Fatalf("another account's timeline got %+v", other)
		}
	})
}

func isCode(err error, code domain.Code) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == code
}
