package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/testdb"
)

// The order sync scenarios, through the REST API with the
// Sandbox POS, on SQLite and PostgreSQL. One posbridge runs per database; every scenario has an
// account, a Sandbox POS tenant and an integration of its own, so the scenarios run in parallel
// and only wait for what they caused.

// Every test of the package starts an app (whose first start makes an account) and the
// scenarios make one or two accounts each, all with bcrypt-hashed passwords: cheap hashes keep
// the package fast under -race, as the console tests do.
func init() { auth.Cost = bcrypt.MinCost }

// scenarioWait bounds every wait of a scenario. Waits end as soon as their condition holds (in
// milliseconds on a quiet machine), so the bound costs nothing when the test passes; it is
// generous because a machine running parallel builds or CPU-bound processes beside the suite
// under -race (load 16 and more on 2 cores) is slower by two orders of magnitude.
const scenarioWait = 3 * time.Minute

// catalogOnly is the Sandbox POS declared without the orders capability: a real connector that
// order sync must refuse as a target.
var catalogOnly = func() connector.Provider {
	p := sandbox.Provider
	p.Type, p.DisplayName = "sandbox_catalog", "Sandbox POS (catalogue only)"
	p.Capabilities = []domain.Capability{domain.CapProducts, domain.CapStock, domain.CapCustomers}
	return p
}()

// scen is one scenario's account with a healthy Sandbox POS and order sync settings.
type scen struct {
	t                *testing.T
	e                *env
	key, accountID   string
	sbx, integration string
}

var scenSeq atomic.Int64

// do sends a request with the API key and reads the answer; body is JSON-encoded unless it is
// a string or []byte.
func do(t *testing.T, base, key, method, path string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return resp{Status: res.StatusCode, Body: b}
}

func mustStatus(t *testing.T, status int, r resp) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want HTTP %d, got %d: %s", status, r.Status, r.Body)
	}
	return r
}

// poll checks cond until it holds, or fails after scenarioWait.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(scenarioWait)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", scenarioWait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newAccount makes a fresh account on the shared posbridge.
func newAccount(t *testing.T, e *env) accounts.Created {
	t.Helper()
	n := scenSeq.Add(1)
	c, err := accounts.Create(context.Background(), e.app.Store, fmt.Sprintf("Shop %d", n), fmt.Sprintf("owner%d@scenario.test", n))
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return c
}

// newScen makes an account with a healthy Sandbox POS and saves the settings (merged over
// integration_id and auto_sync true).
func newScen(t *testing.T, e *env, settings map[string]any) *scen {
	t.Helper()
	c := newAccount(t, e)
	s := &scen{t: t, e: e, key: c.APIKey, accountID: c.AccountID, sbx: e.sandboxKey(c.AccountID)}
	in := mustStatus(t, 201, s.call("POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": s.sbx}})).json(t)
	s.integration = in["id"].(string)
	poll(t, "integration healthy", func() bool {
		return mustStatus(t, 200, s.call("GET", "/api/v1/integrations/"+s.integration, nil)).json(t)["status"] == "healthy"
	})
	body := map[string]any{"integration_id": s.integration, "auto_sync": true}
	for k, v := range settings {
		body[k] = v
	}
	s.settings(body)
	return s
}

func (s *scen) call(method, path string, body any) resp {
	s.t.Helper()
	return do(s.t, s.e.url, s.key, method, path, body)
}

func (s *scen) must(status int, method, path string, body any) map[string]any {
	s.t.Helper()
	return mustStatus(s.t, status, s.call(method, path, body)).json(s.t)
}

func (s *scen) settings(body map[string]any) map[string]any {
	s.t.Helper()
	return s.must(200, "PUT", "/api/v1/order-sync", body)
}

// put writes a document and answers it; status is 200 or 201.
func (s *scen) put(kind, ref string, body map[string]any) map[string]any {
	s.t.Helper()
	r := s.call("PUT", "/api/v1/documents/"+kind+"/"+ref, body)
	if r.Status != 200 && r.Status != 201 {
		s.t.Fatalf("PUT %s %s: HTTP %d %s", kind, ref, r.Status, r.Body)
	}
	return r.json(s.t)
}

func (s *scen) doc(kind, ref string) map[string]any {
	s.t.Helper()
	return s.must(200, "GET", "/api/v1/documents/"+kind+"/"+ref, nil)
}

func syncOf(d map[string]any) map[string]any { return d["sync"].(map[string]any) }

func (s *scen) waitSync(kind, ref, status string) map[string]any {
	s.t.Helper()
	var last map[string]any
	poll(s.t, kind+" "+ref+" sync "+status, func() bool {
		last = s.doc(kind, ref)
		if st := syncOf(last)["status"]; st == "failed" && status != "failed" {
			s.t.Fatalf("%s %s failed to sync: %v", kind, ref, syncOf(last))
		}
		return syncOf(last)["status"] == status
	})
	return last
}

func (s *scen) history(kind, ref string) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for _, h := range s.must(200, "GET", "/api/v1/documents/"+kind+"/"+ref+"/sync-history", nil)["data"].([]any) {
		out = append(out, h.(map[string]any))
	}
	return out
}

func countActions(h []map[string]any, action string) int {
	n := 0
	for _, x := range h {
		if x["action"] == action {
			n++
		}
	}
	return n
}

func (s *scen) orders() []sbxOrder {
	s.t.Helper()
	r := mustStatus(s.t, 200, do(s.t, s.e.url, "", "GET", "/sandbox/admin/orders?api_key="+s.sbx, nil))
	var out []sbxOrder
	if err := json.Unmarshal(r.Body, &out); err != nil {
		s.t.Fatalf("sandbox orders: %v %s", err, r.Body)
	}
	return out
}

func (s *scen) order(id string) sbxOrder {
	s.t.Helper()
	for _, o := range s.orders() {
		if o.ID == id {
			return o
		}
	}
	s.t.Fatalf("sandbox has no order %s: %+v", id, s.orders())
	return sbxOrder{}
}

func (s *scen) events() []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for _, x := range s.must(200, "GET", "/api/v1/integrations/"+s.integration+"/webhook-events?limit=500", nil)["data"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// waitSubscribed waits until posbridge subscribed to the sandbox's webhooks (right after the
// first healthy check).
// quiet waits until the integration's background calls to the POS that follow its add (the
// webhook subscription, the first sales fetch) are done, so that none takes a sandbox fault the
// scenario injects for a push (a 401 taken by a sales fetch calls the integration off).
func (s *scen) quiet() {
	s.t.Helper()
	s.waitSubscribed()
	s.e.salesQuiet(s.key, s.integration)
}

func (s *scen) waitSubscribed() {
	s.t.Helper()
	poll(s.t, "webhook subscription", func() bool {
		b := mustStatus(s.t, 200, s.call("GET", "/api/v1/timeline?limit=500&integration_id="+s.integration, nil)).Body
		return bytes.Contains(b, []byte("Subscribed to the POS"))
	})
}

// complete completes a sandbox order (the sandbox sends the signed webhook) and waits until
// posbridge processed an event for it.
func (s *scen) complete(orderID string) map[string]any {
	s.t.Helper()
	mustStatus(s.t, 200, do(s.t, s.e.url, "", "POST", "/sandbox/admin/orders/"+orderID+"/complete?api_key="+s.sbx, nil))
	var ev map[string]any
	defer func() {
		if ev != nil || !s.t.Failed() {
			return
		}
		// Where the event is: delivered by the sandbox (every attempt, with its answer), stored,
		// and the apply jobs of River.
		s.t.Logf("sandbox deliveries: %s", do(s.t, s.e.url, "", "GET", "/sandbox/admin/deliveries?api_key="+s.sbx, nil).Body)
		for _, e := range s.events() {
			if e["object_id"] == orderID {
				s.t.Logf("webhook event: %v", e)
			}
		}
		logUnfinishedJobs(s.t, s.e.app.Store.SQLDB())
	}()
	poll(s.t, "webhook event for "+orderID+" processed", func() bool {
		for _, e := range s.events() {
			if e["object_id"] == orderID && e["status"] != "received" {
				ev = e
				return true
			}
		}
		return false
	})
	return ev
}

// line is an invoice line of 25.00 EUR.
func line(desc string) map[string]any {
	return map[string]any{"description": desc, "quantity": "1", "unit_price": map[string]any{"amount": 2500, "currency": "EUR"}}
}

func docBody(status string, lines ...string) map[string]any {
	ls := []map[string]any{}
	for _, l := range lines {
		ls = append(ls, line(l))
	}
	return map[string]any{"status": status, "lines": ls}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestOrderSyncScenarios runs every scenario on SQLite and PostgreSQL.
func TestOrderSyncScenarios(t *testing.T) {
	t.Parallel()
	testdb.EachParallel(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, func(c *app.Config) { c.Providers = append(registry.All(), catalogOnly) })
		for _, sc := range []struct {
			name string
			fn   func(t *testing.T, e *env)
		}{
			{"master_auto_sync", scenMaster},
			{"sync_on_job_created", scenJobCreated},
			{"sync_on_invoice_created", scenInvoiceCreated},
			{"sync_on_sale_completed", scenSaleCompleted},
			{"sync_on_items_changed", scenItemsChanged},
			{"sync_on_booking", scenBooking},
			{"on_cancel", scenOnCancel},
			{"override_sync_to_pos", scenOverride},
			{"per_document_toggle", scenToggle},
			{"completion_by_webhook", scenCompletion},
			{"completion_settings_off", scenCompletionOff},
			{"resync", scenResync},
			{"send_as_new", scenSendAsNew},
			{"retry_after_fault", scenRetry},
			{"webhook_replay_and_tamper", scenWebhookReplay},
			{"concurrent_writes", scenConcurrentWrites},
			{"bad_input", scenBadInput},
			{"other_account", scenOtherAccount},
		} {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.fn(t, e)
			})
		}
	})
}

// scenMaster: with the master toggle off nothing syncs automatically (manual actions still
// work); turning it on makes the defaults apply.
func scenMaster(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"auto_sync": false})
	for _, k := range []string{"job", "invoice", "sale"} {
		status := map[string]string{"job": "open", "invoice": "issued", "sale": "completed"}[k]
		d := s.put(k, "OFF-"+k, docBody(status, "Tune-up"))
		if st := syncOf(d)["status"]; st != "not_sent" {
			t.Fatalf("%s with auto_sync off: sync %v", k, st)
		}
		// Even the per-action override does not sync while the master toggle is off.
		d = s.put(k, "OFF-"+k, with(docBody(status, "Tune-up", "Chain"), "sync_to_pos", true))
		if st := syncOf(d)["status"]; st != "not_sent" {
			t.Fatalf("%s with auto_sync off and sync_to_pos true: sync %v", k, st)
		}
	}
	// A manual re-sync still sends it.
	s.must(202, "POST", "/api/v1/documents/invoice/OFF-invoice/sync/resync", nil)
	s.waitSync("invoice", "OFF-invoice", "synced")
	s.settings(map[string]any{"auto_sync": true})
	d := s.put("invoice", "ON-1", docBody("issued", "Tune-up"))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("invoice with auto_sync on: sync %v", st)
	}
	s.waitSync("invoice", "ON-1", "synced")
	if os := s.orders(); len(os) != 2 || os[0].Reference != "OFF-invoice" || os[1].Reference != "ON-1" {
		t.Fatalf("sandbox orders: %+v", os)
	}
	// The settings change is on the timeline.
	b := mustStatus(t, 200, s.call("GET", "/api/v1/timeline?limit=500", nil)).Body
	if !bytes.Contains(b, []byte("order_sync.settings_changed")) || !bytes.Contains(b, []byte("Automatic Sync off -\\u003e on")) && !bytes.Contains(b, []byte("Automatic Sync off -> on")) {
		t.Fatalf("timeline lacks the settings change: %s", b)
	}
}

// createdToggle checks a "sync when created" setting on and off for one kind.
func createdToggle(t *testing.T, e *env, setting, kind, status string) {
	s := newScen(t, e, map[string]any{setting: false})
	d := s.put(kind, "A-1", docBody(status, "Service"))
	if st := syncOf(d)["status"]; st != "not_sent" {
		t.Fatalf("%s created with %s off: sync %v", kind, setting, st)
	}
	s.settings(map[string]any{setting: true})
	d = s.put(kind, "A-2", docBody(status, "Service"))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("%s created with %s on: sync %v", kind, setting, st)
	}
	s.waitSync(kind, "A-2", "synced")
	if st := syncOf(s.doc(kind, "A-1"))["status"]; st != "not_sent" {
		t.Fatalf("%s A-1 became %v", kind, st)
	}
	os := s.orders()
	if len(os) != 1 || os[0].Reference != "A-2" || os[0].State != "open" || len(os[0].Lines) != 1 {
		t.Fatalf("sandbox orders: %+v", os)
	}
}

func scenJobCreated(t *testing.T, e *env) {
	createdToggle(t, e, "sync_on_job_created", "job", "open")
}

func scenInvoiceCreated(t *testing.T, e *env) {
	createdToggle(t, e, "sync_on_invoice_created", "invoice", "issued")
}

func scenSaleCompleted(t *testing.T, e *env) {
	createdToggle(t, e, "sync_on_sale_completed", "sale", "completed")
	// A refunded sale is no completed sale: it does not sync on its own.
	s := newScen(t, e, map[string]any{"sync_on_sale_completed": true})
	if st := syncOf(s.put("sale", "R-1", docBody("refunded", "Helmet")))["status"]; st != "not_sent" {
		t.Fatalf("refunded sale: sync %v", st)
	}
}

// scenItemsChanged: with the setting on, changed lines update the POS order; off, they do not.
func scenItemsChanged(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"sync_on_items_changed": true})
	s.put("invoice", "I-1", docBody("issued", "Service"))
	d := s.waitSync("invoice", "I-1", "synced")
	ext := syncOf(d)["external_id"].(string)
	d = s.put("invoice", "I-1", docBody("issued", "Service", "Brake pads"))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("lines changed with the setting on: sync %v", st)
	}
	d = s.waitSync("invoice", "I-1", "synced")
	if o := s.order(ext); len(o.Lines) != 2 || syncOf(d)["external_id"] != ext {
		t.Fatalf("order after the change: %+v (doc %v)", o, syncOf(d))
	}
	if n := countActions(s.history("invoice", "I-1"), "update"); n != 1 {
		t.Fatalf("%d update entries in the history", n)
	}
	// The customer counts as an item change as well.
	d = s.put("invoice", "I-1", with(docBody("issued", "Service", "Brake pads"), "customer", map[string]any{"name": "Ada", "email": "ada@example.com"}))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("customer changed with the setting on: sync %v", st)
	}
	s.waitSync("invoice", "I-1", "synced")

	s.settings(map[string]any{"sync_on_items_changed": false})
	d = s.put("invoice", "I-1", with(docBody("issued", "Service", "Brake pads", "Cable"), "customer", map[string]any{"name": "Ada", "email": "ada@example.com"}))
	if st := syncOf(d)["status"]; st != "synced" {
		t.Fatalf("lines changed with the setting off: sync %v", st)
	}
	if o := s.order(ext); len(o.Lines) != 2 {
		t.Fatalf("the order changed although sync_on_items_changed is off: %+v", o)
	}
	if len(s.orders()) != 1 {
		t.Fatalf("sandbox orders: %+v", s.orders())
	}
}

// scenBooking: sync_on_booking off, created and accepted.
func scenBooking(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"sync_on_booking": "off"})
	if st := syncOf(s.put("booking", "B-off", docBody("open", "Fitting")))["status"]; st != "not_sent" {
		t.Fatalf("booking created, setting off: %v", st)
	}
	if st := syncOf(s.put("booking", "B-off", docBody("accepted", "Fitting")))["status"]; st != "not_sent" {
		t.Fatalf("booking accepted, setting off: %v", st)
	}

	s.settings(map[string]any{"sync_on_booking": "created"})
	if st := syncOf(s.put("booking", "B-created", docBody("open", "Fitting")))["status"]; st != "pending" {
		t.Fatalf("booking created, setting created: %v", st)
	}
	s.waitSync("booking", "B-created", "synced")

	s.settings(map[string]any{"sync_on_booking": "accepted"})
	if st := syncOf(s.put("booking", "B-acc", docBody("open", "Fitting")))["status"]; st != "not_sent" {
		t.Fatalf("booking created, setting accepted: %v", st)
	}
	if st := syncOf(s.put("booking", "B-acc", docBody("accepted", "Fitting")))["status"]; st != "pending" {
		t.Fatalf("booking accepted, setting accepted: %v", st)
	}
	s.waitSync("booking", "B-acc", "synced")
	// A booking created already accepted syncs at once.
	if st := syncOf(s.put("booking", "B-acc2", docBody("accepted", "Fitting")))["status"]; st != "pending" {
		t.Fatalf("booking created accepted, setting accepted: %v", st)
	}
	s.waitSync("booking", "B-acc2", "synced")
	var refs []string
	for _, o := range s.orders() {
		refs = append(refs, o.Reference)
	}
	if !slices.Equal(refs, []string{"B-created", "B-acc", "B-acc2"}) {
		t.Fatalf("sandbox orders %v", refs)
	}
}

// scenOnCancel: a cancelled or rejected job voids, archives, deletes or leaves its POS order.
func scenOnCancel(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	for _, c := range []struct{ mode, status, state string }{
		{"void", "cancelled", "voided"}, {"void", "rejected", "voided"}, {"archive", "cancelled", "archived"},
		{"delete", "cancelled", "deleted"}, {"none", "cancelled", "open"},
	} {
		s.settings(map[string]any{"on_cancel": c.mode})
		ref := "J-" + c.mode + "-" + c.status
		s.put("job", ref, docBody("open", "Wheel true"))
		ext := syncOf(s.waitSync("job", ref, "synced"))["external_id"].(string)
		d := s.put("job", ref, docBody(c.status, "Wheel true"))
		if c.mode == "none" {
			if st := syncOf(d)["status"]; st != "synced" {
				t.Fatalf("on_cancel none: sync %v", st)
			}
		} else {
			if st := syncOf(d)["status"]; st != "pending" {
				t.Fatalf("on_cancel %s: sync %v", c.mode, st)
			}
			s.waitSync("job", ref, "synced")
			if n := countActions(s.history("job", ref), "cancel"); n != 1 {
				t.Fatalf("on_cancel %s: %d cancel entries", c.mode, n)
			}
		}
		if o := s.order(ext); o.State != c.state {
			t.Fatalf("on_cancel %s, job %s: order is %s, want %s", c.mode, c.status, o.State, c.state)
		}
	}
	// A job cancelled while its first push waits (the POS asked to slow down) gets no order.
	s.settings(map[string]any{"on_cancel": "void"})
	s.quiet()
	mustStatus(t, 200, do(t, s.e.url, "", "POST", "/sandbox/admin/faults", map[string]any{"api_key": s.sbx, "fail_next": 1, "status": 429}))
	s.put("job", "J-late", docBody("open", "Wheel true"))
	poll(t, "the push to wait for the rate limit", func() bool {
		for _, h := range s.history("job", "J-late") {
			if h["outcome"] == "waiting" {
				return true
			}
		}
		return false
	})
	if st := syncOf(s.put("job", "J-late", docBody("cancelled", "Wheel true")))["status"]; st != "pending" {
		t.Fatalf("job cancelled while waiting: sync %v", st)
	}
	// Retry is for failures only: a rate limit is no failure (and no attempt is spent on it).
	if r := s.call("POST", "/api/v1/documents/job/J-late/sync/retry", nil); r.Status != 409 || r.errCode(t) != "conflict" {
		t.Fatalf("retry while pending: %d %s", r.Status, r.Body)
	}
	var late map[string]any
	poll(t, "the waiting push to finish", func() bool {
		late = s.doc("job", "J-late")
		return syncOf(late)["status"] != "pending" && syncOf(late)["status"] != "syncing"
	})
	for _, o := range s.orders() {
		if o.Reference == "J-late" {
			t.Fatalf("a job cancelled before its first push got an order: %+v (sync %v, history %v)", o, syncOf(late), s.history("job", "J-late"))
		}
	}
	if syncOf(late)["status"] != "not_sent" || syncOf(late)["external_id"] != "" || countActions(s.history("job", "J-late"), "skip") != 1 {
		t.Fatalf("job cancelled before its first push: sync %v, history %v", syncOf(late), s.history("job", "J-late"))
	}
	// A cancelled job that never reached the POS stays unsent.
	s.settings(map[string]any{"on_cancel": "void", "sync_on_job_created": false})
	s.put("job", "J-never", docBody("open", "Wheel true"))
	if st := syncOf(s.put("job", "J-never", docBody("cancelled", "Wheel true")))["status"]; st != "not_sent" {
		t.Fatalf("cancelled unsent job: sync %v", st)
	}
}

// scenOverride: the per-action sync_to_pos wins over the defaults, both ways.
func scenOverride(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"sync_on_invoice_created": false, "sync_on_job_created": true})
	if st := syncOf(s.put("invoice", "O-yes", with(docBody("issued", "Service"), "sync_to_pos", true)))["status"]; st != "pending" {
		t.Fatalf("sync_to_pos true with the default off: %v", st)
	}
	if st := syncOf(s.put("job", "O-no", with(docBody("open", "Service"), "sync_to_pos", false)))["status"]; st != "not_sent" {
		t.Fatalf("sync_to_pos false with the default on: %v", st)
	}
	s.waitSync("invoice", "O-yes", "synced")
	// An edit with sync_to_pos false is not sent even though items changed and the setting is on.
	d := s.put("invoice", "O-yes", with(docBody("issued", "Service", "Tyre"), "sync_to_pos", false))
	if st := syncOf(d)["status"]; st != "synced" {
		t.Fatalf("edit with sync_to_pos false: %v", st)
	}
	// The same body again with sync_to_pos true pushes it now.
	d = s.put("invoice", "O-yes", with(docBody("issued", "Service", "Tyre"), "sync_to_pos", true))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("same body with sync_to_pos true: %v", st)
	}
	d = s.waitSync("invoice", "O-yes", "synced")
	if o := s.order(syncOf(d)["external_id"].(string)); len(o.Lines) != 2 {
		t.Fatalf("order after the forced sync: %+v", o)
	}
	// Once the POS holds this version, the same body with sync_to_pos true (an app retrying its
	// request) changes nothing and sends nothing.
	hist := len(s.history("invoice", "O-yes"))
	for n := 0; n < 2; n++ {
		again := s.put("invoice", "O-yes", with(docBody("issued", "Service", "Tyre"), "sync_to_pos", true))
		if syncOf(again)["status"] != "synced" || again["version"] != d["version"] {
			t.Fatalf("same body with sync_to_pos true on a synced document: %v (was %v)", again, d)
		}
	}
	if h := s.history("invoice", "O-yes"); len(h) != hist {
		t.Fatalf("a repeated write added history: %v", h[:len(h)-hist])
	}
	if len(s.orders()) != 1 {
		t.Fatalf("sandbox orders: %+v", s.orders())
	}
}

// scenToggle: PATCH .../sync {"auto_sync":false}, then an edit does not sync; back on, it does.
func scenToggle(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "T-1", docBody("issued", "Service"))
	ext := syncOf(s.waitSync("invoice", "T-1", "synced"))["external_id"].(string)
	d := s.must(200, "PATCH", "/api/v1/documents/invoice/T-1/sync", map[string]any{"auto_sync": false})
	if syncOf(d)["auto_sync"] != false {
		t.Fatalf("after PATCH: %v", syncOf(d))
	}
	d = s.put("invoice", "T-1", docBody("issued", "Service", "Bell"))
	if st := syncOf(d)["status"]; st != "synced" || syncOf(d)["auto_sync"] != false {
		t.Fatalf("edit with auto-sync off: %v", syncOf(d))
	}
	if o := s.order(ext); len(o.Lines) != 1 {
		t.Fatalf("order changed with auto-sync off: %+v", o)
	}
	// Other documents still sync.
	s.put("invoice", "T-2", docBody("issued", "Service"))
	s.waitSync("invoice", "T-2", "synced")
	if o := s.order(ext); len(o.Lines) != 1 {
		t.Fatalf("order changed with auto-sync off: %+v", o)
	}
	s.must(200, "PATCH", "/api/v1/documents/invoice/T-1/sync", map[string]any{"auto_sync": true})
	d = s.put("invoice", "T-1", docBody("issued", "Service", "Bell", "Light"))
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("edit with auto-sync back on: %v", syncOf(d))
	}
	s.waitSync("invoice", "T-1", "synced")
	if o := s.order(ext); len(o.Lines) != 3 {
		t.Fatalf("order after auto-sync on: %+v", o)
	}
	h := s.history("invoice", "T-1")
	if countActions(h, "auto_sync") != 2 {
		t.Fatalf("history lacks the toggles: %v", h)
	}
}

// appHook is the app's webhook endpoint: it verifies every delivery with notify.Verify and
// keeps the document.updated events.
type appHook struct {
	mu     sync.Mutex
	secret string
	events []outEvent
	bad    []string
}

type outEvent struct {
	Type string `json:"type"`
	Data struct {
		Kind   string `json:"kind"`
		Ref    string `json:"ref"`
		Status string `json:"status"`
		Sync   struct {
			Status string `json:"status"`
		} `json:"sync"`
	} `json:"data"`
}

func (s *scen) appHook() *appHook {
	s.t.Helper()
	h := &appHook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := notify.Verify(h.secret, r.Header, body, 5*time.Minute, time.Now()); err != nil {
			h.bad = append(h.bad, err.Error())
			w.WriteHeader(401)
			return
		}
		var ev outEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			h.bad = append(h.bad, err.Error())
		}
		h.events = append(h.events, ev)
	}))
	s.t.Cleanup(srv.Close)
	h.mu.Lock()
	defer h.mu.Unlock()
	ep := s.must(201, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": srv.URL, "events": []string{"document.updated"}})
	h.secret = ep["secret"].(string)
	return h
}

// seen tells whether a verified document.updated said the document has the status.
func (h *appHook) seen(kind, ref, status string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range h.events {
		if ev.Type == "document.updated" && ev.Data.Kind == kind && ev.Data.Ref == ref && ev.Data.Status == status {
			return true
		}
	}
	return false
}

// seenSync tells whether a verified document.updated said the document's sync status is status.
func (h *appHook) seenSync(kind, ref, status string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range h.events {
		if ev.Type == "document.updated" && ev.Data.Kind == kind && ev.Data.Ref == ref && ev.Data.Sync.Status == status {
			return true
		}
	}
	return false
}

func (h *appHook) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		t.Fatalf("deliveries that did not verify: %v", h.bad)
	}
}

// scenCompletion: completing the POS order marks the invoice paid and the job completed (and
// the job's linked invoice paid), and tells the app with signed document.updated events.
func scenCompletion(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": true, "mark_job_completed_on_completion": true, "sync_on_invoice_created": false})
	s.waitSubscribed()
	hook := s.appHook()
	// An invoice of its own.
	s.put("invoice", "C-inv", with(docBody("issued", "Service"), "sync_to_pos", true))
	ext := syncOf(s.waitSync("invoice", "C-inv", "synced"))["external_id"].(string)
	// A job with a linked invoice (the invoice itself is not sent: the job carries the order).
	s.put("invoice", "C-job-inv", docBody("issued", "Overhaul"))
	job := with(docBody("open", "Overhaul"), "links", []map[string]any{{"kind": "invoice", "ref": "C-job-inv"}})
	s.put("job", "C-job", job)
	jobExt := syncOf(s.waitSync("job", "C-job", "synced"))["external_id"].(string)
	if st := syncOf(s.doc("invoice", "C-inv"))["status"]; st != "synced" {
		t.Fatalf("invoice %v", st)
	}
	ev := s.complete(ext)
	if ev["status"] != "processed" {
		t.Fatalf("event %v", ev)
	}
	if d := s.doc("invoice", "C-inv"); d["status"] != "paid" {
		t.Fatalf("invoice after completion: %v", d["status"])
	}
	ev = s.complete(jobExt)
	if ev["status"] != "processed" {
		t.Fatalf("event %v", ev)
	}
	if d := s.doc("job", "C-job"); d["status"] != "completed" {
		t.Fatalf("job after completion: %v", d["status"])
	}
	if d := s.doc("invoice", "C-job-inv"); d["status"] != "paid" {
		t.Fatalf("linked invoice after completion: %v", d["status"])
	}
	for _, want := range [][2]string{{"invoice", "C-inv"}, {"job", "C-job"}, {"invoice", "C-job-inv"}} {
		h := s.history(want[0], want[1])
		if countActions(h, "completed_in_pos") != 1 {
			t.Fatalf("%s %s history: %v", want[0], want[1], h)
		}
	}
	poll(t, "document.updated for the invoice, the job and the linked invoice", func() bool {
		return hook.seen("invoice", "C-inv", "paid") && hook.seen("job", "C-job", "completed") && hook.seen("invoice", "C-job-inv", "paid")
	})
	// The pushes themselves were announced too: the sync status became synced.
	poll(t, "document.updated with sync status synced for the invoice and the job", func() bool {
		return hook.seenSync("invoice", "C-inv", "synced") && hook.seenSync("job", "C-job", "synced")
	})
	hook.check(t)
	// Marking complete in posbridge does not push the order again (the POS is where it happened).
	for _, o := range s.orders() {
		if o.State != "completed" {
			t.Fatalf("order %+v", o)
		}
	}
	if st := syncOf(s.doc("invoice", "C-inv"))["status"]; st != "synced" {
		t.Fatalf("invoice sync after completion: %v", st)
	}
}

// scenCompletionOff: with both completion settings off, a completed order changes nothing.
func scenCompletionOff(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": false, "mark_job_completed_on_completion": false})
	s.waitSubscribed()
	s.put("invoice", "N-inv", docBody("issued", "Service"))
	ext := syncOf(s.waitSync("invoice", "N-inv", "synced"))["external_id"].(string)
	s.put("job", "N-job", with(docBody("open", "Overhaul"), "links", []map[string]any{{"kind": "invoice", "ref": "N-inv"}}))
	jobExt := syncOf(s.waitSync("job", "N-job", "synced"))["external_id"].(string)
	for _, id := range []string{ext, jobExt} {
		if ev := s.complete(id); ev["status"] != "processed" {
			t.Fatalf("event %v", ev)
		}
	}
	if d := s.doc("invoice", "N-inv"); d["status"] != "issued" {
		t.Fatalf("invoice with the setting off: %v", d["status"])
	}
	if d := s.doc("job", "N-job"); d["status"] != "open" {
		t.Fatalf("job with the setting off: %v", d["status"])
	}
	// Only the invoice setting on: the job stays open, its linked invoice is paid.
	s.settings(map[string]any{"mark_invoice_paid_on_completion": true})
	s.put("invoice", "N-inv2", with(docBody("issued", "Service"), "sync_to_pos", false))
	s.put("job", "N-job2", with(docBody("open", "Overhaul"), "links", []map[string]any{{"kind": "invoice", "ref": "N-inv2"}}))
	jobExt2 := syncOf(s.waitSync("job", "N-job2", "synced"))["external_id"].(string)
	s.complete(jobExt2)
	if d := s.doc("job", "N-job2"); d["status"] != "open" {
		t.Fatalf("job with only invoice setting on: %v", d["status"])
	}
	if d := s.doc("invoice", "N-inv2"); d["status"] != "paid" {
		t.Fatalf("linked invoice with the setting on: %v", d["status"])
	}
	// Only the job setting on.
	s.settings(map[string]any{"mark_invoice_paid_on_completion": false, "mark_job_completed_on_completion": true})
	s.put("job", "N-job3", docBody("open", "Overhaul"))
	s.complete(syncOf(s.waitSync("job", "N-job3", "synced"))["external_id"].(string))
	if d := s.doc("job", "N-job3"); d["status"] != "completed" {
		t.Fatalf("job with the job setting on: %v", d["status"])
	}
}

// scenResync: push the latest data to the existing order now.
func scenResync(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"sync_on_items_changed": false})
	s.put("invoice", "R-1", docBody("issued", "Service"))
	ext := syncOf(s.waitSync("invoice", "R-1", "synced"))["external_id"].(string)
	s.put("invoice", "R-1", docBody("issued", "Service", "Saddle"))
	if o := s.order(ext); len(o.Lines) != 1 {
		t.Fatalf("order %+v", o)
	}
	d := s.must(202, "POST", "/api/v1/documents/invoice/R-1/sync/resync", nil)
	if st := syncOf(d)["status"]; st != "pending" {
		t.Fatalf("after resync: %v", st)
	}
	d = s.waitSync("invoice", "R-1", "synced")
	if syncOf(d)["external_id"] != ext {
		t.Fatalf("resync changed the order: %v", syncOf(d))
	}
	if o := s.order(ext); len(o.Lines) != 2 {
		t.Fatalf("order after resync: %+v", o)
	}
	if len(s.orders()) != 1 {
		t.Fatalf("resync made a second order: %+v", s.orders())
	}
	h := s.history("invoice", "R-1")
	if countActions(h, "resync") < 2 { // queued and done
		t.Fatalf("history %v", h)
	}
	// Retry is only for failures.
	if r := s.call("POST", "/api/v1/documents/invoice/R-1/sync/retry", nil); r.Status != 409 || r.errCode(t) != "conflict" {
		t.Fatalf("retry after a success: %d %s", r.Status, r.Body)
	}
}

// scenSendAsNew: a new order with and without voiding the old one.
func scenSendAsNew(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	for _, void := range []bool{false, true} {
		ref := fmt.Sprintf("N-%v", void)
		s.put("invoice", ref, docBody("issued", "Service"))
		first := syncOf(s.waitSync("invoice", ref, "synced"))["external_id"].(string)
		s.must(202, "POST", "/api/v1/documents/invoice/"+ref+"/sync/send-as-new", map[string]any{"void_existing": void})
		var d map[string]any
		poll(t, "a second order", func() bool {
			d = s.doc("invoice", ref)
			return syncOf(d)["status"] == "synced" && syncOf(d)["external_id"] != first
		})
		second := syncOf(d)["external_id"].(string)
		var mine []sbxOrder
		for _, o := range s.orders() {
			if o.Reference == ref {
				mine = append(mine, o)
			}
		}
		want := "open"
		if void {
			want = "voided"
		}
		if len(mine) != 2 || mine[0].ID != first || mine[1].ID != second || mine[0].State != want || mine[1].State != "open" {
			t.Fatalf("void_existing %v: orders %+v", void, mine)
		}
		if n := countActions(s.history("invoice", ref), "send_as_new"); n != 1 {
			t.Fatalf("%d send_as_new entries", n)
		}
	}
}

// scenRetry: a push that fails shows failed with the error; Retry answers 409 until then and
// 202 after, and the document ends synced with one order.
func scenRetry(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	if r := s.call("POST", "/api/v1/documents/invoice/F-1/sync/retry", nil); r.Status != 404 {
		t.Fatalf("retry of an unknown document: %d %s", r.Status, r.Body)
	}
	s.put("invoice", "F-0", with(docBody("issued", "Service"), "sync_to_pos", false))
	s.quiet()
	if r := s.call("POST", "/api/v1/documents/invoice/F-0/sync/retry", nil); r.Status != 409 {
		t.Fatalf("retry of an unsent document: %d %s", r.Status, r.Body)
	}
	// A refused credential (401) cannot be fixed by retrying: it fails at once. A 500 that
	// goes on is retried with backoff and shows failed meanwhile.
	for _, fault := range []struct {
		status any
		n      int
	}{{401, 1}, {500, 1000}} {
		ref := fmt.Sprintf("F-%v", fault.status)
		mustStatus(t, 200, do(t, s.e.url, "", "POST", "/sandbox/admin/faults", map[string]any{"api_key": s.sbx, "fail_next": fault.n, "status": fault.status}))
		s.put("invoice", ref, docBody("issued", "Service"))
		want := "failed" // a 401: retrying cannot help
		if fault.status == 500 {
			want = "retrying" // a 500 may pass: posbridge says when it tries again
		}
		d := s.waitSync("invoice", ref, want)
		if le, _ := syncOf(d)["last_error"].(string); le == "" {
			t.Fatalf("failed without last_error: %v", syncOf(d))
		}
		if sy := syncOf(d); want == "retrying" && (sy["next_attempt_at"] == nil || sy["attempt"] != 2.0 || sy["max_attempts"] != 8.0) {
			t.Fatalf("retrying without its next attempt: %v", sy)
		} else if want == "failed" && sy["next_attempt_at"] != nil {
			t.Fatalf("failed with a next attempt: %v", sy)
		}
		h := s.history("invoice", ref)
		failedEntry := false
		for _, x := range h {
			if x["outcome"] == "failed" && x["error"] != "" {
				failedEntry = true
			}
		}
		if !failedEntry {
			t.Fatalf("history lacks the failure: %v", h)
		}
		mustStatus(t, 200, do(t, s.e.url, "", "DELETE", "/sandbox/admin/faults?api_key="+s.sbx, nil))
		r := s.call("POST", "/api/v1/documents/invoice/"+ref+"/sync/retry", nil)
		switch {
		case r.Status == 202:
			if st := syncOf(r.json(t))["status"]; st != "pending" {
				t.Fatalf("after retry: %v", st)
			}
		case r.Status == 409 && fault.status == 500:
			// River's own retry (about a second after the failure) got there first.
			if st := syncOf(s.doc("invoice", ref))["status"]; st == "failed" || st == "retrying" {
				t.Fatalf("retry of a failed document answered 409: %s", r.Body)
			}
		default:
			t.Fatalf("retry after the failure: %d %s", r.Status, r.Body)
		}
		d = s.waitSync("invoice", ref, "synced")
		if le := syncOf(d)["last_error"]; le != "" {
			t.Fatalf("last_error after success: %v", le)
		}
		if r := s.call("POST", "/api/v1/documents/invoice/"+ref+"/sync/retry", nil); r.Status != 409 {
			t.Fatalf("retry after success: %d %s", r.Status, r.Body)
		}
	}
	// The POS refusing the content (422: a negative quantity) fails at once with its message;
	// the app's PUT that fixes the document sends it again.
	neg := docBody("issued", "Service")
	neg["lines"].([]map[string]any)[0]["quantity"] = "-1"
	s.put("invoice", "F-422", neg)
	d := s.waitSync("invoice", "F-422", "failed")
	if le, _ := syncOf(d)["last_error"].(string); !strings.Contains(le, "quantity") {
		t.Fatalf("last_error does not carry the POS's message: %v", syncOf(d))
	}
	if h := s.history("invoice", "F-422"); len(h) != 1 || h[0]["outcome"] != "failed" || !strings.Contains(fmt.Sprint(h[0]["summary"]), "Retry") {
		t.Fatalf("a permanent error was retried or not recorded: %v", h)
	}
	// The app's PUT that fixes the document sends it again by itself: no Retry needed.
	s.put("invoice", "F-422", docBody("issued", "Service"))
	s.waitSync("invoice", "F-422", "synced")

	refs := map[string]int{}
	for _, o := range s.orders() {
		refs[o.Reference]++
	}
	if len(refs) != 3 || refs["F-401"] != 1 || refs["F-500"] != 1 || refs["F-422"] != 1 {
		t.Fatalf("sandbox orders per document: %v", refs)
	}
}

// scenWebhookReplay: an inbound webhook replayed five times at once has one effect; a flipped
// bit in the body or in the signature is refused with 401 and stores nothing.
func scenWebhookReplay(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"mark_invoice_paid_on_completion": false})
	s.waitSubscribed()
	s.put("invoice", "W-1", docBody("issued", "Service"))
	ext := syncOf(s.waitSync("invoice", "W-1", "synced"))["external_id"].(string)
	// The real delivery: processed, but the settings leave the invoice as it is.
	real := s.complete(ext)
	if s.doc("invoice", "W-1")["status"] != "issued" {
		t.Fatal("the invoice changed with mark_invoice_paid_on_completion off")
	}
	s.settings(map[string]any{"mark_invoice_paid_on_completion": true})

	i, err := e.app.Lifecycle.Get(context.Background(), s.accountID, s.integration)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := e.app.Lifecycle.WebhookSecret(context.Background(), i)
	if err != nil {
		t.Fatal(err)
	}
	hookPath := "/hooks/" + s.integration
	post := func(body []byte, sig string) resp {
		return do(t, s.e.url, "", "POST", hookPath, body, sandbox.SignatureHeader, sig)
	}
	event := func(id string) []byte {
		b, _ := json.Marshal(map[string]any{"id": id, "type": "order.completed", "created_at": time.Now().UTC(),
			"data": map[string]any{"object": map[string]any{"id": ext, "reference": "W-1", "state": "completed"}}})
		return b
	}
	before := s.events()

	// Tampering: one flipped bit in the body, in the signature, or a wrong secret.
	body := event("evt_replay_1")
	sig := sandbox.Sign(secret, time.Now(), body)
	flipped := bytes.Clone(body)
	flipped[len(flipped)/2] ^= 0x01
	badSig := []byte(sig)
	last := len(badSig) - 1
	if badSig[last] == '0' {
		badSig[last] = '1'
	} else {
		badSig[last] = '0'
	}
	for name, r := range map[string]resp{
		"flipped body bit":      post(flipped, sig),
		"flipped signature bit": post(body, string(badSig)),
		"other secret":          post(body, sandbox.Sign("whsec_other", time.Now(), body)),
		"no signature":          do(t, s.e.url, "", "POST", hookPath, body),
		"stale signature":       post(body, sandbox.Sign(secret, time.Now().Add(-time.Hour), body)),
	} {
		if r.Status != 401 || r.errCode(t) != "unauthorized" {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if after := s.events(); len(after) != len(before) {
		t.Fatalf("refused webhooks stored events: %d -> %d", len(before), len(after))
	}
	if s.doc("invoice", "W-1")["status"] != "issued" {
		t.Fatal("a refused webhook changed the invoice")
	}

	// Five concurrent replays of one event: one stored event, one effect.
	var slowest time.Duration // the issue asks for an answer within 100 ms; logged, not asserted (-race, shared CI)
	defer func() { t.Logf("slowest inbound webhook answer under 5 concurrent replays: %s", slowest) }()
	replay := func(body []byte) (fresh, dup int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for n := 0; n < 5; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				r := post(body, sandbox.Sign(secret, time.Now(), body))
				took := time.Since(t0)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
				var out struct{ Received, Duplicates int }
				if r.Status != 200 || json.Unmarshal(r.Body, &out) != nil {
					t.Errorf("replay: %d %s", r.Status, r.Body)
					return
				}
				mu.Lock()
				fresh, dup = fresh+out.Received, dup+out.Duplicates
				mu.Unlock()
			}()
		}
		wg.Wait()
		return fresh, dup
	}
	if fresh, dup := replay(body); fresh != 1 || dup != 4 {
		t.Fatalf("5 replays: %d new, %d duplicates", fresh, dup)
	}
	poll(t, "the replayed event processed", func() bool {
		for _, ev := range s.events() {
			if ev["provider_event_id"] == "evt_replay_1" {
				return ev["status"] == "processed"
			}
		}
		return false
	})
	// Replaying the sandbox's own event (already stored) does nothing either.
	if fresh, dup := replay(event(real["provider_event_id"].(string))); fresh != 0 || dup != 5 {
		t.Fatalf("replays of the real event: %d new, %d duplicates", fresh, dup)
	}
	if fresh, dup := replay(body); fresh != 0 || dup != 5 {
		t.Fatalf("more replays: %d new, %d duplicates", fresh, dup)
	}
	evs := s.events()
	if len(evs) != len(before)+1 {
		t.Fatalf("events %d -> %d: %v", len(before), len(evs), evs)
	}
	count := 0
	for _, ev := range evs {
		if ev["provider_event_id"] == "evt_replay_1" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d stored copies of the replayed event", count)
	}
	if d := s.doc("invoice", "W-1"); d["status"] != "paid" {
		t.Fatalf("invoice after the replayed completion: %v", d["status"])
	}
	if n := countActions(s.history("invoice", "W-1"), "completed_in_pos"); n != 1 {
		t.Fatalf("%d completed_in_pos history entries", n)
	}
	// A webhook for an unknown integration is 404.
	if r := do(t, s.e.url, "", "POST", "/hooks/int_nope", body, sandbox.SignatureHeader, sandbox.Sign(secret, time.Now(), body)); r.Status != 404 {
		t.Fatalf("unknown integration: %d %s", r.Status, r.Body)
	}
}

// scenConcurrentWrites: the same new document written five times at once is created once,
// pushed as one order, and every answer is a success.
func scenConcurrentWrites(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for n := 0; n < 5; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, s.e.url, s.key, "PUT", "/api/v1/documents/invoice/CC-1", docBody("issued", "Service"))
			mu.Lock()
			codes[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[201] != 1 || codes[200] != 4 {
		t.Fatalf("5 concurrent creates answered %v; want one 201 and four 200", codes)
	}
	d := s.waitSync("invoice", "CC-1", "synced")
	if d["version"] != float64(1) {
		t.Errorf("version %v after five identical writes", d["version"])
	}
	if os := s.orders(); len(os) != 1 {
		t.Fatalf("sandbox orders: %+v", os)
	}
	if h := s.history("invoice", "CC-1"); countActions(h, "create") != 1 || countActions(h, "update") != 0 {
		t.Fatalf("history %v", h)
	}
}

// scenBadInput: every new route refuses bad input with a 4xx naming the field, and nothing
// changes.
func scenBadInput(t *testing.T, e *env) {
	s := newScen(t, e, nil)
	s.put("invoice", "OK-1", docBody("issued", "Service"))
	good := s.waitSync("invoice", "OK-1", "synced")
	settingsBefore := s.must(200, "GET", "/api/v1/order-sync", nil)
	// An integration without the orders capability.
	cat := s.must(201, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox_catalog", "credentials": map[string]string{"api_key": s.e.sandboxKey(s.accountID)}})
	eur := func(q string) map[string]any {
		return map[string]any{"status": "issued", "lines": []map[string]any{{"description": "x", "quantity": q, "unit_price": map[string]any{"amount": 100, "currency": "EUR"}}}}
	}
	mixed := map[string]any{"status": "issued", "lines": []map[string]any{line("a"), {"description": "b", "quantity": "1", "unit_price": map[string]any{"amount": 100, "currency": "USD"}}}}
	doc := "/api/v1/documents/invoice/OK-1"
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"bad kind", "PUT", "/api/v1/documents/quote/Q-1", docBody("issued"), 422, "invalid", "kind"},
		{"bad kind get", "GET", "/api/v1/documents/quote/Q-1", nil, 422, "invalid", "kind"},
		{"bad kind list", "GET", "/api/v1/documents/quote", nil, 422, "invalid", "kind"},
		{"bad ref", "PUT", "/api/v1/documents/invoice/-INV", docBody("issued"), 422, "invalid", "ref"},
		{"bad ref chars", "PUT", "/api/v1/documents/invoice/INV%20one", docBody("issued"), 422, "invalid", "ref"},
		{"ref too long", "PUT", "/api/v1/documents/invoice/" + strings.Repeat("a", 129), docBody("issued"), 422, "invalid", "ref"},
		{"status of another kind", "PUT", "/api/v1/documents/invoice/I-9", docBody("open"), 422, "invalid", "status"},
		{"sale status", "PUT", "/api/v1/documents/sale/S-9", docBody("issued"), 422, "invalid", "status"},
		{"missing status", "PUT", "/api/v1/documents/job/J-9", map[string]any{"lines": []any{}}, 422, "invalid", "status"},
		{"quantity a number", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"description":"x","quantity":1,"unit_price":{"amount":1,"currency":"EUR"}}]}`, 422, "invalid", "lines[0].quantity"},
		{"quantity not decimal", "PUT", "/api/v1/documents/invoice/I-9", eur("1,5"), 422, "invalid", "lines[0].quantity"},
		{"quantity exponent", "PUT", "/api/v1/documents/invoice/I-9", eur("1e3"), 422, "invalid", "lines[0].quantity"},
		{"quantity zero", "PUT", "/api/v1/documents/invoice/I-9", eur("0"), 422, "invalid", "lines[0].quantity"},
		{"currency lower case", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"description":"x","quantity":"1","unit_price":{"amount":1,"currency":"eur"}}]}`, 422, "invalid", "lines[0].unit_price.currency"},
		{"currency missing", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"description":"x","quantity":"1","unit_price":{"amount":1}}]}`, 422, "invalid", "lines[0].unit_price.currency"},
		{"mixed currencies", "PUT", "/api/v1/documents/invoice/I-9", mixed, 422, "invalid", "lines[1].unit_price.currency"},
		{"amount a string", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"description":"x","quantity":"1","unit_price":{"amount":"1","currency":"EUR"}}]}`, 422, "invalid", "lines[0].unit_price.amount"},
		{"lines not an array", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":{}}`, 422, "invalid", "lines"},
		{"status a number", "PUT", "/api/v1/documents/invoice/I-9", `{"status":1}`, 422, "invalid", "status"},
		{"sync_to_pos a string", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","sync_to_pos":"yes"}`, 422, "invalid", "sync_to_pos"},
		{"unknown field", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","colour":"red"}`, 422, "invalid", "colour"},
		{"unknown line field", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"description":"x","quantity":"1","unit_price":{"amount":1,"currency":"EUR"},"sku":"A"}]}`, 422, "invalid", "lines[0].sku"},
		{"missing description", "PUT", "/api/v1/documents/invoice/I-9", `{"status":"issued","lines":[{"quantity":"1","unit_price":{"amount":1,"currency":"EUR"}}]}`, 422, "invalid", "lines[0].description"},
		{"bad link kind", "PUT", "/api/v1/documents/job/J-9", `{"status":"open","links":[{"kind":"quote","ref":"Q"}]}`, 422, "invalid", "links[0].kind"},
		{"bad customer email", "PUT", "/api/v1/documents/job/J-9", `{"status":"open","customer":{"email":"nope"}}`, 422, "invalid", "customer.email"},
		{"malformed JSON", "PUT", "/api/v1/documents/invoice/I-9", `{"status":`, 400, "bad_request", ""},
		{"unknown document", "GET", "/api/v1/documents/invoice/I-404", nil, 404, "not_found", ""},
		{"list limit 0", "GET", "/api/v1/documents/invoice?limit=0", nil, 422, "invalid", "limit"},
		{"list limit 501", "GET", "/api/v1/documents/invoice?limit=501", nil, 422, "invalid", "limit"},
		{"list limit text", "GET", "/api/v1/documents/invoice?limit=all", nil, 422, "invalid", "limit"},
		{"patch without auto_sync", "PATCH", doc + "/sync", `{}`, 422, "invalid", "auto_sync"},
		{"patch auto_sync a string", "PATCH", doc + "/sync", `{"auto_sync":"off"}`, 422, "invalid", "auto_sync"},
		{"patch unknown field", "PATCH", doc + "/sync", `{"auto_sync":true,"status":"x"}`, 422, "invalid", "status"},
		{"send-as-new without void_existing", "POST", doc + "/sync/send-as-new", `{}`, 422, "invalid", "void_existing"},
		{"send-as-new without body", "POST", doc + "/sync/send-as-new", ``, 400, "bad_request", ""},
		{"send-as-new void a string", "POST", doc + "/sync/send-as-new", `{"void_existing":"yes"}`, 422, "invalid", "void_existing"},
		{"retry while synced", "POST", doc + "/sync/retry", nil, 409, "conflict", ""},
		{"patch unknown document", "PATCH", "/api/v1/documents/invoice/I-404/sync", map[string]any{"auto_sync": false}, 404, "not_found", ""},
		{"send-as-new unknown document", "POST", "/api/v1/documents/invoice/I-404/sync/send-as-new", map[string]any{"void_existing": false}, 404, "not_found", ""},
		{"resync unknown document", "POST", "/api/v1/documents/invoice/I-404/sync/resync", nil, 404, "not_found", ""},
		{"history unknown document", "GET", "/api/v1/documents/invoice/I-404/sync-history", nil, 404, "not_found", ""},
		{"order-sync unknown integration", "PUT", "/api/v1/order-sync", map[string]any{"integration_id": "int_nope"}, 422, "invalid", "integration_id"},
		{"order-sync no orders capability", "PUT", "/api/v1/order-sync", map[string]any{"integration_id": cat["id"]}, 422, "invalid", "integration_id"},
		{"order-sync bad booking", "PUT", "/api/v1/order-sync", map[string]any{"sync_on_booking": "sometimes"}, 422, "invalid", "sync_on_booking"},
		{"order-sync bad on_cancel", "PUT", "/api/v1/order-sync", map[string]any{"on_cancel": "shred"}, 422, "invalid", "on_cancel"},
		{"order-sync boolean a string", "PUT", "/api/v1/order-sync", `{"auto_sync":"true"}`, 422, "invalid", "auto_sync"},
		{"order-sync unknown field", "PUT", "/api/v1/order-sync", `{"sync_on_refund":true}`, 422, "invalid", "sync_on_refund"},
		{"order-sync auto without integration", "PUT", "/api/v1/order-sync", `{"integration_id":"","auto_sync":true}`, 422, "invalid", "integration_id"},
		{"webhook events limit", "GET", "/api/v1/integrations/" + s.integration + "/webhook-events?limit=0", nil, 422, "invalid", "limit"},
		{"webhook events limit big", "GET", "/api/v1/integrations/" + s.integration + "/webhook-events?limit=100000", nil, 422, "invalid", "limit"},
		{"webhook events unknown integration", "GET", "/api/v1/integrations/int_nope/webhook-events", nil, 404, "not_found", ""},
	}
	for _, c := range cases {
		r := s.call(c.method, c.path, c.body)
		if r.Status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, c.status, r.Body)
			continue
		}
		if got := r.errCode(t); got != c.code {
			t.Errorf("%s: code %q, want %q: %s", c.name, got, c.code, r.Body)
		}
		if got := r.errField(t); got != c.field {
			t.Errorf("%s: field %q, want %q: %s", c.name, got, c.field, r.Body)
		}
		if m, _ := r.json(t)["error"].(map[string]any); len(fmt.Sprint(m["message"])) < 10 {
			t.Errorf("%s: no clear message: %s", c.name, r.Body)
		}
	}
	// Nothing changed: one document, still synced and the same; the settings as they were; one order.
	list := s.must(200, "GET", "/api/v1/documents/invoice", nil)["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("bad input created documents: %v", list)
	}
	for _, k := range []string{"job", "sale", "booking"} {
		if l := s.must(200, "GET", "/api/v1/documents/"+k, nil)["data"].([]any); len(l) != 0 {
			t.Fatalf("bad input created %s documents: %v", k, l)
		}
	}
	now := s.doc("invoice", "OK-1")
	if now["version"] != good["version"] || syncOf(now)["status"] != "synced" || syncOf(now)["auto_sync"] != true {
		t.Fatalf("the document changed: %v -> %v", good, now)
	}
	if after := s.must(200, "GET", "/api/v1/order-sync", nil); fmt.Sprint(after) != fmt.Sprint(settingsBefore) {
		t.Fatalf("settings changed: %v -> %v", settingsBefore, after)
	}
	if len(s.orders()) != 1 {
		t.Fatalf("sandbox orders: %+v", s.orders())
	}
}

// scenOtherAccount: another account sees none of this account's documents, histories, actions,
// settings or webhook events.
func scenOtherAccount(t *testing.T, e *env) {
	s := newScen(t, e, map[string]any{"on_cancel": "archive"})
	s.put("invoice", "X-1", docBody("issued", "Service"))
	mine := s.waitSync("invoice", "X-1", "synced")
	other := newAccount(t, e)
	o := func(method, path string, body any) resp { return do(t, e.url, other.APIKey, method, path, body) }
	doc := "/api/v1/documents/invoice/X-1"
	for _, rt := range []struct {
		m, p string
		body any
	}{
		{"GET", doc, nil}, {"GET", doc + "/sync-history", nil},
		{"PATCH", doc + "/sync", map[string]any{"auto_sync": false}},
		{"POST", doc + "/sync/resync", nil}, {"POST", doc + "/sync/retry", nil},
		{"POST", doc + "/sync/send-as-new", map[string]any{"void_existing": true}},
		{"GET", "/api/v1/integrations/" + s.integration + "/webhook-events", nil},
	} {
		if r := o(rt.m, rt.p, rt.body); r.Status != 404 {
			t.Fatalf("%s %s with another account's key: %d %s", rt.m, rt.p, r.Status, r.Body)
		}
	}
	// Choosing this account's integration as the target is refused as unknown.
	if r := o("PUT", "/api/v1/order-sync", map[string]any{"integration_id": s.integration, "auto_sync": true}); r.Status != 422 || r.errField(t) != "integration_id" {
		t.Fatalf("other account targets this integration: %d %s", r.Status, r.Body)
	}
	// Lists and settings show nothing of this account.
	for _, p := range []string{"/api/v1/documents/invoice", "/api/v1/order-sync"} {
		b := mustStatus(t, 200, o("GET", p, nil)).Body
		if bytes.Contains(b, []byte("X-1")) || bytes.Contains(b, []byte(s.integration)) || bytes.Contains(b, []byte("archive")) {
			t.Fatalf("%s leaks the other account's data: %s", p, b)
		}
	}
	// The other account writing the same ref makes a document of its own (not sent: no settings).
	r := o("PUT", doc, docBody("void", "Stolen"))
	if r.Status != 201 || syncOf(r.json(t))["status"] != "not_sent" {
		t.Fatalf("other account's write: %d %s", r.Status, r.Body)
	}
	now := s.doc("invoice", "X-1")
	if now["status"] != "issued" || now["version"] != mine["version"] || syncOf(now)["status"] != "synced" {
		t.Fatalf("another account changed the document: %v", now)
	}
	if os := s.orders(); len(os) != 1 || os[0].State != "open" {
		t.Fatalf("sandbox orders: %+v", os)
	}
}
