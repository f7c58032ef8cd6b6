package lifecycle_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// callOffAfter is the lifecycle's bound on consecutive failures in these tests.
const callOffAfter = 3

// env is a lifecycle on real storage whose integrations are Sandbox POS stores served by an
// httptest server. River only takes the jobs (the checks run when the test calls Check), so
// what a job would do happens when the test says.
type env struct {
	st      *store.Store
	out     *outbox.Outbox
	lc      *lifecycle.Service
	sbx     *httptest.Server
	tenants *sandbox.MemoryTenants
}

func newEnv(t *testing.T, db testdb.Target) env {
	t.Helper()
	st := storetest.Open(t, db, "acct_a", "acct_b")
	box := storetest.Box(t)

	tenants := sandbox.NewMemoryTenants()
	sim := sandbox.NewServer(sandbox.Options{Tenants: tenants})
	sbx := httptest.NewServer(sim)
	t.Cleanup(sbx.Close)
	t.Cleanup(sim.Close)

	out := outbox.New(st, box, outbox.Config{AllowPrivate: true})
	lc := lifecycle.New(st, box, out, lifecycle.Config{Providers: []connector.Provider{sandbox.Provider}, CallOffAfter: callOffAfter,
		SelfURL: sbx.URL, AllowPrivate: true, CheckTimeout: time.Minute})
	q, err := jobs.New(st, jobs.Config{}, river.NewWorkers()) // insert-only: jobs are recorded, not run
	if err != nil {
		t.Fatal(err)
	}
	out.SetQueue(q)
	lc.SetQueue(q)
	return env{st: st, out: out, lc: lc, sbx: sbx, tenants: tenants}
}

// sandboxKey mints the key of a new sandbox of the account.
func (e env) sandboxKey(t *testing.T, account string) string {
	t.Helper()
	k, err := e.tenants.Mint(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// failNext makes the sandbox of key answer its next n API calls with status (0: a timeout).
func (e env) failNext(t *testing.T, key string, n, status int) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"api_key": key, "fail_next": n, "status": status})
	resp, err := http.Post(e.sbx.URL+"/sandbox/admin/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set a fault: HTTP %d", resp.StatusCode)
	}
}

func (e env) check(t *testing.T, account, id string) domain.Integration {
	t.Helper()
	i, err := e.lc.Check(context.Background(), account, "test", id)
	if err != nil {
		t.Fatalf("check %s: %v", id, err)
	}
	return i
}

func code(err error) domain.Code {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

// statusEvents reads the integration.status_changed events the account's endpoint was given.
func statusEvents(t *testing.T, st *store.Store, account, endpointID string) []string {
	t.Helper()
	ds, err := st.ListEndpointDeliveries(context.Background(), account, endpointID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(ds) - 1; i >= 0; i-- { // oldest first
		var ev struct {
			Data struct{ From, To string } `json:"data"`
		}
		if err := json.Unmarshal(ds[i].Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Data.From+">"+ev.Data.To)
	}
	return out
}

// TestCheckDrivesTheStatusMachine: an added integration is initializing until a check reaches
// the POS, which makes it healthy, keeps the POS's stores and picks one as default; failures in a row make
// it failed and, at the bound, called off (its checks stop, the admins are told, and a check
// answers called_off) until it is resumed; a 429 postpones the check without counting a
// failure; rejected credentials call it off at once; a deactivated one is not checked and can be
// restored. Each status change is announced to the app's endpoint, and another account can
// neither read nor change the integration. On SQLite and PostgreSQL.
func TestCheckDrivesTheStatusMachine(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db)
		ep, _, err := e.out.CreateEndpoint(ctx, "acct_a", "test", "http://127.0.0.1:9/hook", "", []string{domain.EventIntegrationStatusChanged})
		if err != nil {
			t.Fatal(err)
		}
		key := e.sandboxKey(t, "acct_a")
		i, err := e.lc.Add(ctx, "acct_a", "test", lifecycle.AddInput{Type: "sandbox", Credentials: map[string]string{"api_key": key}})
		if err != nil {
			t.Fatal(err)
		}
		if i.Status != domain.StatusInitializing || i.NextCheckAt == nil {
			t.Fatalf("added: %+v", i)
		}

		i = e.check(t, "acct_a", i.ID)
		stores, err := e.lc.Stores(ctx, "acct_a", i.ID)
		if err != nil {
			t.Fatal(err)
		}
		isStore := func(id string) bool {
			for _, s := range stores {
				if s.ID == id {
					return true
				}
			}
			return false
		}
		if i.Status != domain.StatusHealthy || !isStore(i.StoreID) || i.LastSuccessAt == nil {
			t.Fatalf("after a good check: %+v with stores %+v", i, stores)
		}

		// Tenant isolation: another account sees no such integration.
		if _, err := e.lc.Get(ctx, "acct_b", i.ID); code(err) != domain.CodeNotFound {
			t.Fatalf("another account reads it: %v", err)
		}
		if _, err := e.lc.Check(ctx, "acct_b", "test", i.ID); code(err) != domain.CodeNotFound {
			t.Fatalf("another account checks it: %v", err)
		}
		if _, err := e.lc.Deactivate(ctx, "acct_b", "test", i.ID); code(err) != domain.CodeNotFound {
			t.Fatalf("another account deactivates it: %v", err)
		}

		// A 429 is the POS asking to slow down: no failure, the next check is later.
		e.failNext(t, key, 1, http.StatusTooManyRequests)
		i = e.check(t, "acct_a", i.ID)
		if i.Status != domain.StatusHealthy || i.ConsecutiveFailures != 0 {
			t.Fatalf("after a 429: %+v", i)
		}
		tl, err := e.st.ListTimeline(ctx, "acct_a", store.TimelineFilter{IntegrationID: i.ID, Limit: 1})
		if err != nil || len(tl) != 1 || !strings.HasPrefix(tl[0].Message, "Check postponed") {
			t.Fatalf("timeline after a 429: %v %+v", err, tl)
		}

		// Failures in a row: failed, then called off at the bound.
		e.failNext(t, key, callOffAfter, http.StatusServiceUnavailable)
		for n := 1; n < callOffAfter; n++ {
			i = e.check(t, "acct_a", i.ID)
			if i.Status != domain.StatusFailed || i.ConsecutiveFailures != n {
				t.Fatalf("after failure %d: %s (%d in a row)", n, i.Status, i.ConsecutiveFailures)
			}
		}
		i = e.check(t, "acct_a", i.ID)
		if i.Status != domain.StatusCalledOff || i.NextCheckAt != nil || !strings.Contains(i.StatusReason, "3 consecutive failures") {
			t.Fatalf("at the bound: %+v", i)
		}
		if _, err := e.lc.Check(ctx, "acct_a", "test", i.ID); code(err) != domain.CodeCalledOff {
			t.Fatalf("check of a called-off integration: %v, want called_off", err)
		}
		// Without SMTP the timeline says the admins' email was not sent: never silently dropped.
		tl, err = e.st.ListTimeline(ctx, "acct_a", store.TimelineFilter{Kinds: []string{domain.KindNotificationFailed}})
		if err != nil || len(tl) != 1 || !strings.Contains(tl[0].Message, "called off") {
			t.Fatalf("called-off email on the timeline: %v %+v", err, tl)
		}

		if i, err = e.lc.Resume(ctx, "acct_a", "test", i.ID); err != nil || i.Status != domain.StatusInitializing {
			t.Fatalf("resume: %v %+v", err, i)
		}
		if i = e.check(t, "acct_a", i.ID); i.Status != domain.StatusHealthy || i.ConsecutiveFailures != 0 {
			t.Fatalf("check after resume: %+v", i)
		}

		// Rejected credentials call it off at once.
		e.failNext(t, key, 1, http.StatusUnauthorized)
		if i = e.check(t, "acct_a", i.ID); i.Status != domain.StatusCalledOff || !strings.Contains(i.StatusReason, "rejected the credentials") {
			t.Fatalf("after a 401: %+v", i)
		}

		// Deactivated: no checks; an add of the type asks restore-or-new; restore verifies again.
		if i, err = e.lc.Deactivate(ctx, "acct_a", "test", i.ID); err != nil || i.Status != domain.StatusInactive {
			t.Fatalf("deactivate: %v %+v", err, i)
		}
		if _, err := e.lc.Check(ctx, "acct_a", "test", i.ID); code(err) != domain.CodeInactive {
			t.Fatalf("check of an inactive integration: %v, want inactive", err)
		}
		_, err = e.lc.Add(ctx, "acct_a", "test", lifecycle.AddInput{Type: "sandbox", Credentials: map[string]string{"api_key": key}})
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInactiveExists || !strings.Contains(strings.Join(anyStrings(de.Details["inactive_ids"]), ","), i.ID) {
			t.Fatalf("add beside an inactive one: %v", err)
		}
		if i, err = e.lc.Restore(ctx, "acct_a", "test", i.ID); err != nil || i.Status != domain.StatusInitializing {
			t.Fatalf("restore: %v %+v", err, i)
		}
		if i = e.check(t, "acct_a", i.ID); i.Status != domain.StatusHealthy {
			t.Fatalf("check after restore: %+v", i)
		}

		want := []string{">initializing", "initializing>healthy", "healthy>failed", "failed>called_off", "called_off>initializing",
			"initializing>healthy", "healthy>called_off", "called_off>inactive", "inactive>initializing", "initializing>healthy"}
		got := statusEvents(t, e.st, "acct_a", ep.ID)
		if len(got) > 0 && got[0] != want[0] {
			want = want[1:] // the add itself is not announced
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("status events\n got %v\nwant %v", got, want)
		}
	})
}

func anyStrings(v any) []string {
	switch s := v.(type) {
	case []string:
		return s
	case []any:
		out := make([]string, 0, len(s))
		for _, x := range s {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// TestAddRefuses: what Add refuses, each with the field named, before anything is stored: an
// unknown type, a credential field the provider does not take, an unknown on_conflict, and a
// second active integration of a type without a nickname of its own.
func TestAddRefuses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := newEnv(t, db)
		key := e.sandboxKey(t, "acct_a")
		creds := map[string]string{"api_key": key}
		cases := []struct {
			in    lifecycle.AddInput
			field string
		}{
			{lifecycle.AddInput{Type: "no_such_pos"}, "type"},
			{lifecycle.AddInput{Type: "sandbox", Credentials: map[string]string{"api_key": key, "nope": "1"}}, "credentials.nope"},
			{lifecycle.AddInput{Type: "sandbox", Credentials: creds, OnConflict: "merge"}, "on_conflict"},
			{lifecycle.AddInput{Type: "sandbox", Credentials: creds, OnConflict: "restore"}, "restore_id"},
		}
		for _, c := range cases {
			_, err := e.lc.Add(ctx, "acct_a", "test", c.in)
			var de *domain.Error
			if !errors.As(err, &de) || de.Field != c.field {
				t.Errorf("%+v: %v, want the field %s named", c.in, err, c.field)
			}
		}
		if l, err := e.lc.List(ctx, "acct_a", ""); err != nil || len(l) != 0 {
			t.Fatalf("refused adds stored integrations: %v %+v", err, l)
		}

		first, err := e.lc.Add(ctx, "acct_a", "test", lifecycle.AddInput{Type: "sandbox", Nickname: "Front", Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		for _, nick := range []string{"", "front"} {
			_, err := e.lc.Add(ctx, "acct_a", "test", lifecycle.AddInput{Type: "sandbox", Nickname: nick, Credentials: creds})
			if code(err) != domain.CodeNicknameRequired {
				t.Errorf("second sandbox with nickname %q: %v, want nickname_required", nick, err)
			}
		}
		second, err := e.lc.Add(ctx, "acct_a", "test", lifecycle.AddInput{Type: "sandbox", Nickname: "Back", Credentials: creds})
		if err != nil || second.ID == first.ID {
			t.Fatalf("second sandbox with its own nickname: %v", err)
		}
		// Another account's integrations are its own: the same type needs no nickname there.
		if _, err := e.lc.Add(ctx, "acct_b", "test", lifecycle.AddInput{Type: "sandbox", Credentials: map[string]string{"api_key": e.sandboxKey(t, "acct_b")}}); err != nil {
			t.Fatalf("first sandbox of another account: %v", err)
		}
		if l, _ := e.lc.List(ctx, "acct_b", ""); len(l) != 1 {
			t.Fatalf("acct_b lists %d integrations, want its one", len(l))
		}
	})
}
