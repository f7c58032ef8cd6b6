package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/notify"
	"github.com/posbridge/posbridge/internal/notify/smtptest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestLifecycle walks an integration's whole lifecycle through the API, on both databases.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		sink := smtptest.NewServer(t)
		e := start(t, db, func(c *app.Config) {
			c.SMTP = notify.SMTPConfig{Host: sink.Host(), Port: sink.Port(), From: "posbridge@test.local", TLS: "none"}
		})
		owner := e.account("Spoke & Chain", "owner@spoke.test")
		other := e.account("Other Shop", "boss@other.test")
		key := owner.APIKey
		// The canary credential: a sandbox key of the account, minted without passing through an
		// API answer, so it must appear in none.
		canary := e.sandboxKey(owner.AccountID)

		// The app's webhook endpoint receives integration.status_changed, signed.
		var mu sync.Mutex
		var events []string
		var secret string
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := notify.Verify(secret, r.Header, body, 5*time.Minute, time.Now()); err != nil {
				t.Errorf("outbound webhook signature: %v", err)
			}
			events = append(events, string(body))
		}))
		defer hook.Close()
		ep := e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": hook.URL, "events": []string{"integration.status_changed"}})).json(t)
		mu.Lock()
		secret = ep["secret"].(string)
		mu.Unlock()
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("endpoint secret %q", secret)
		}

		// Add: 201, initializing, then healthy once the background check verified it.
		first := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{
			"type": "sandbox", "credentials": map[string]string{"api_key": canary}})).json(t)
		if first["status"] != "initializing" {
			t.Fatalf("new integration status %v", first["status"])
		}
		id1 := first["id"].(string)
		got := e.waitStatus(key, id1, "healthy")
		// The first sales fetch follows the add on the next sweep; have it now, and wait out one
		// the sweep may have queued already, so that none takes the sandbox faults the checks
		// below count.
		e.salesQuiet(key, id1)
		if got["store_id"] == "" {
			t.Fatalf("no default store after verification: %v", got)
		}
		stores := e.must(200, e.call(key, "GET", "/api/v1/integrations/"+id1+"/stores", nil)).json(t)["data"].([]any)
		if len(stores) == 0 {
			t.Fatal("no stores loaded")
		}

		// A second active sandbox needs a nickname, and a different one.
		r := e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": e.sandboxKey(owner.AccountID)}})
		if r.Status != 409 || r.errCode(t) != "nickname_required" {
			t.Fatalf("second without nickname: %d %s", r.Status, r.Body)
		}
		second := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Bar",
			"credentials": map[string]string{"api_key": e.sandboxKey(owner.AccountID)}})).json(t)
		id2 := second["id"].(string)
		e.waitStatus(key, id2, "healthy")

		// Deactivate (Disconnect POS): inactive, listed under inactive.
		d := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id2+"/deactivate", nil)).json(t)
		if d["status"] != "inactive" || d["deactivated_at"] == nil {
			t.Fatalf("after deactivate: %v", d)
		}
		inactive := e.must(200, e.call(key, "GET", "/api/v1/integrations?state=inactive", nil)).json(t)["data"].([]any)
		if len(inactive) != 1 || inactive[0].(map[string]any)["id"] != id2 {
			t.Fatalf("inactive list: %v", inactive)
		}

		// Adding the type again asks: restore or new.
		r = e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Terrace", "credentials": map[string]string{"api_key": e.sandboxKey(owner.AccountID)}})
		if r.Status != 409 || r.errCode(t) != "inactive_exists" || !strings.Contains(string(r.Body), id2) {
			t.Fatalf("inactive_exists: %d %s", r.Status, r.Body)
		}
		// Restore: same id, history kept.
		rs := e.must(200, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "on_conflict": "restore", "restore_id": id2})).json(t)
		if rs["id"] != id2 {
			t.Fatalf("restore made %v, want %s", rs["id"], id2)
		}
		e.waitStatus(key, id2, "healthy")
		if k := e.timelineKinds(key, id2); !slices.Contains(k, "integration.added") || !slices.Contains(k, "integration.restored") {
			t.Fatalf("history not kept across restore: %v", k)
		}
		// Create new beside an inactive one.
		e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id2+"/deactivate", nil))
		nw := e.must(201, e.call(key, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "on_conflict": "new", "nickname": "Terrace",
			"credentials": map[string]string{"api_key": e.sandboxKey(owner.AccountID)}})).json(t)
		if nw["id"] == id2 || nw["id"] == id1 {
			t.Fatal("create new reused an id")
		}

		// Two 500s: failed, failed, then healthy.
		e.fault(canary, 2, 500)
		for i, want := range []string{"failed", "failed", "healthy"} {
			c := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id1+"/check", nil)).json(t)
			if c["status"] != want {
				t.Fatalf("check %d: status %v, want %s (%v)", i+1, c["status"], want, c)
			}
		}
		// Ten 500s: called off at the fifth check; /check then answers 409 called_off.
		e.fault(canary, 10, 500)
		for i := 1; i <= 5; i++ {
			c := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id1+"/check", nil)).json(t)
			want := "failed"
			if i == 5 {
				want = "called_off"
			}
			if c["status"] != want || int(c["consecutive_failures"].(float64)) != i {
				t.Fatalf("check %d: %v", i, c)
			}
		}
		r = e.call(key, "POST", "/api/v1/integrations/"+id1+"/check", nil)
		if r.Status != 409 || r.errCode(t) != "called_off" {
			t.Fatalf("check on called_off: %d %s", r.Status, r.Body)
		}
		// The admins got an email and the app a signed event.
		sink.WaitFor(t, func(m smtptest.Message) bool {
			return slices.Contains(m.To, "owner@spoke.test") && strings.Contains(m.Subject, "called off")
		}, scenarioWait)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", e.logs.String())
				ds, _ := e.app.Store.ListDeliveries(context.Background(), owner.AccountID, 50)
				for _, d := range ds {
					t.Logf("delivery %+v", d)
				}
			}
		})
		waitFor(t, "integration.status_changed to called_off", func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range events {
				var m struct {
					Type string
					Data struct {
						IntegrationID string `json:"integration_id"`
						To            string
					}
				}
				if json.Unmarshal([]byte(ev), &m) == nil && m.Type == "integration.status_changed" &&
					m.Data.To == "called_off" && m.Data.IntegrationID == id1 {
					return true
				}
			}
			return false
		})
		// Resume -> initializing -> healthy.
		e.clearFaults(canary)
		rr := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id1+"/resume", nil)).json(t)
		if rr["status"] != "initializing" {
			t.Fatalf("resume: %v", rr)
		}
		e.waitStatus(key, id1, "healthy")
		// A 401 calls off at once.
		e.fault(canary, 1, 401)
		c := e.must(200, e.call(key, "POST", "/api/v1/integrations/"+id1+"/check", nil)).json(t)
		if c["status"] != "called_off" {
			t.Fatalf("after 401: %v", c)
		}
		// Inactive integrations answer 409 inactive on /check.
		r = e.call(key, "POST", "/api/v1/integrations/"+id2+"/check", nil)
		if r.Status != 409 || r.errCode(t) != "inactive" {
			t.Fatalf("check on inactive: %d %s", r.Status, r.Body)
		}

		// The timeline holds every step, newest first.
		kinds := e.timelineKinds(key, id1)
		for _, k := range []string{"integration.added", "integration.checked", "integration.status_changed", "integration.resumed"} {
			if !slices.Contains(kinds, k) {
				t.Fatalf("timeline lacks %s: %v", k, kinds)
			}
		}
		tl := e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=3", nil)).json(t)
		entries := tl["data"].([]any)
		if len(entries) != 3 || tl["next_before"] == nil {
			t.Fatalf("paged timeline: %v", tl)
		}
		older := e.must(200, e.call(key, "GET", "/api/v1/timeline?limit=3&before="+jsonNum(tl["next_before"]), nil)).json(t)["data"].([]any)
		if len(older) == 0 || older[0].(map[string]any)["id"].(float64) >= entries[2].(map[string]any)["id"].(float64) {
			t.Fatalf("before cursor did not page back: %v", older)
		}

		// Tenant isolation: another account's key gets 404 on every route with an id.
		ok := other.APIKey
		for _, rt := range []struct{ m, p string }{
			{"GET", "/api/v1/integrations/" + id1}, {"PATCH", "/api/v1/integrations/" + id1},
			{"GET", "/api/v1/integrations/" + id1 + "/stores"}, {"POST", "/api/v1/integrations/" + id1 + "/check"},
			{"POST", "/api/v1/integrations/" + id1 + "/deactivate"}, {"POST", "/api/v1/integrations/" + id2 + "/restore"},
			{"POST", "/api/v1/integrations/" + id1 + "/resume"}, {"GET", "/api/v1/timeline?integration_id=" + id1},
			{"DELETE", "/api/v1/webhook-endpoints/" + ep["id"].(string)},
		} {
			body := any(nil)
			if rt.m == "PATCH" {
				body = map[string]any{"nickname": "stolen"}
			}
			if r := e.call(ok, rt.m, rt.p, body); r.Status != 404 {
				t.Fatalf("%s %s with another account's key: %d %s", rt.m, rt.p, r.Status, r.Body)
			}
		}
		for _, p := range []string{"/api/v1/integrations", "/api/v1/timeline", "/api/v1/webhook-endpoints"} {
			if b := e.must(200, e.call(ok, "GET", p, nil)).Body; strings.Contains(string(b), id1) || strings.Contains(string(b), hook.URL) {
				t.Fatalf("%s leaks the other account's data: %s", p, b)
			}
		}
		if r := e.call("", "GET", "/api/v1/integrations", nil); r.Status != 401 {
			t.Fatalf("no key: %d", r.Status)
		}

		// Every transition is a Prometheus counter; /healthz answers.
		metrics := string(e.call("", "GET", "/metrics", nil).Body)
		for _, want := range []string{`posbridge_integration_transitions_total{from="failed",to="called_off"}`,
			`posbridge_integration_transitions_total{from="healthy",to="called_off"}`, `posbridge_integrations{status="inactive"} 1`,
			`posbridge_integration_checks_total{outcome="failed",type="sandbox"}`} {
			if !strings.Contains(metrics, want) {
				t.Fatalf("/metrics lacks %s", want)
			}
		}
		if h := e.call("", "GET", "/healthz", nil); h.Status != 200 || !strings.Contains(string(h.Body), `"ok"`) {
			t.Fatalf("healthz: %d %s", h.Status, h.Body)
		}

		// The canary credential is nowhere: API answers, logs, database files.
		if strings.Contains(e.bodies.String(), canary) {
			t.Fatal("an API answer contains the credential")
		}
		if strings.Contains(e.logs.String(), canary) {
			t.Fatal("a log line contains the credential")
		}
		assertNotStored(t, e, db, canary)
	})
}

func jsonNum(v any) string { return strconv.FormatInt(int64(v.(float64)), 10) }

func assertNotStored(t *testing.T, e *env, db testdb.Target, canary string) {
	t.Helper()
	if db.DatabaseURL == "" {
		// Checkpoint nothing: read the main file, the WAL and the shared memory as they are.
		files, _ := filepath.Glob(filepath.Join(db.DataDir, "*"))
		if len(files) == 0 {
			t.Fatal("no database files found")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), canary) {
				t.Fatalf("%s holds the credential in clear", filepath.Base(f))
			}
		}
		return
	}
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Log("pg_dump not installed; skipping the dump check")
		return
	}
	out, err := pgDumpSchema(db.DatabaseURL)
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	if len(out) < 100 {
		t.Fatalf("pg_dump printed almost nothing: %s", out)
	}
	if strings.Contains(string(out), canary) {
		t.Fatal("the PostgreSQL dump holds the credential in clear")
	}
}
