package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

var mintedKeyRe = regexp.MustCompile(`^sbx_[0-9a-f]{40}$`)

// sandboxKeyHash is how the store names a sandbox tenant: the hex SHA-256 of "sandbox:" and
// its key (internal/app's keyHash).
func sandboxKeyHash(key string) string {
	h := sha256.Sum256([]byte("sandbox:" + key))
	return hex.EncodeToString(h[:])
}

// mintOverHTTP mints a sandbox with POST /sandbox/admin/tenants and the account's API key.
func (e *env) mintOverHTTP(apiKey string) string {
	e.t.Helper()
	r := e.must(201, e.call(apiKey, "POST", "/sandbox/admin/tenants", nil)).json(e.t)
	k, _ := r["api_key"].(string)
	if !mintedKeyRe.MatchString(k) || len(r) != 1 {
		e.t.Fatalf("minted %v, want {\"api_key\": \"sbx_<40 hex>\"}", r)
	}
	return k
}

// TestSandboxTenantsAreMinted: POST /sandbox/admin/tenants with the account's API key mints a
// random key recorded for the account; anything else gets 401. A key the server did not mint,
// whatever its shape, gets 401 on every sandbox route and creates nothing: no tenant row, no
// state, nothing in memory.
func TestSandboxTenantsAreMinted(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		ctx := context.Background()
		owner := e.account("Spoke & Chain", "owner@spoke.test")

		k1, k2 := e.mintOverHTTP(owner.APIKey), e.mintOverHTTP(owner.APIKey)
		if k1 == k2 {
			t.Fatal("two mints gave the same key")
		}
		for _, k := range []string{k1, k2} {
			acct, err := e.app.Store.SandboxTenantAccount(ctx, sandboxKeyHash(k))
			if err != nil || acct != owner.AccountID {
				t.Fatalf("tenant row of %s: %q %v", sandbox.KeyHint(k), acct, err)
			}
		}
		if n, err := e.app.Store.CountSandboxTenants(ctx, owner.AccountID); err != nil || n != 2 {
			t.Fatalf("tenants of the account: %d %v", n, err)
		}
		// The minted key works on the sandbox API.
		e.must(200, e.call(k1, "GET", "/sandbox/api/v1/account", nil))

		// Minting needs the account's own credentials.
		for _, cred := range []string{"", "pbk_wrong", k1, "Basic x"} {
			if r := e.call(cred, "POST", "/sandbox/admin/tenants", nil); r.Status != 401 || r.errCode(t) != "unauthorized" {
				t.Fatalf("mint with %q: %d %s", sandbox.KeyHint(cred), r.Status, r.Body)
			}
		}

		// Unknown keys: 401 everywhere, nothing created.
		inMemory := e.app.Sandbox.Tenants()
		unknown := sandbox.NewAPIKey()
		for _, key := range []string{unknown, "sbx_demo", "sbx_anything_at_all", "sbx_invalid"} {
			for _, rt := range []struct {
				m, p string
				body any
			}{
				{"GET", "/sandbox/api/v1/account", nil},
				{"GET", "/sandbox/api/v1/orders", nil},
				{"POST", "/sandbox/api/v1/orders", map[string]any{"reference": "X-1"}},
				{"GET", "/sandbox/api/v1/webhooks", nil},
				{"DELETE", "/sandbox/api/v1/webhooks/wh_1", nil},
				{"GET", "/sandbox/admin/orders?api_key=" + key, nil},
				{"POST", "/sandbox/admin/orders/ord_x_1/complete?api_key=" + key, nil},
				{"POST", "/sandbox/admin/faults", map[string]any{"api_key": key, "fail_next": 1, "status": 401}},
				{"DELETE", "/sandbox/admin/faults?api_key=" + key, nil},
				{"POST", "/sandbox/admin/sales", map[string]any{"api_key": key}},
				{"GET", "/sandbox/admin/deliveries?api_key=" + key, nil},
			} {
				if r := e.call(key, rt.m, rt.p, rt.body); r.Status != 401 || r.errCode(t) != "unauthorized" {
					t.Fatalf("%s %s with %s: %d %s", rt.m, rt.p, key, r.Status, r.Body)
				}
			}
			if _, err := e.app.Store.SandboxTenantAccount(ctx, sandboxKeyHash(key)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a tenant row for %s: %v", key, err)
			}
			if snaps, logs, err := e.app.Store.CountSandboxState(ctx, sandboxKeyHash(key)); err != nil || snaps+logs != 0 {
				t.Fatalf("state saved for %s: %d snapshots, %d changes, %v", key, snaps, logs, err)
			}
		}
		if n := e.app.Sandbox.Tenants(); n != inMemory {
			t.Fatalf("refused keys left tenants in memory: %d, was %d", n, inMemory)
		}
		// The order page does not load them either.
		if r := e.call("", "GET", "/sandbox/orders/ord_"+"00000000_1?api_key="+unknown, nil); r.Status != 404 {
			t.Fatalf("order page with an unknown key: %d", r.Status)
		}
	})
}

// TestSandboxIntegrationKeys: a Sandbox POS added without a key gets one minted for its account;
// another account's key is refused (422 credentials.api_key), on add and on change; the admin
// routes work with the tenant's key, with the owning account's API key or console session and
// integration_id, and not for another account (404).
func TestSandboxIntegrationKeys(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		ctx := context.Background()
		a := e.account("Spoke & Chain", "owner@spoke.test")
		b := e.account("Other Shop", "boss@other.test")

		// Added without credentials: a key is minted for A, and it works (healthy).
		in := e.must(201, e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox"})).json(t)
		aInt := in["id"].(string)
		e.waitStatus(a.APIKey, aInt, "healthy")
		if n, _ := e.app.Store.CountSandboxTenants(ctx, a.AccountID); n != 1 {
			t.Fatalf("A has %d sandboxes after adding one without a key", n)
		}
		// An empty key is the same as none.
		in = e.must(201, e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Bar",
			"credentials": map[string]string{"api_key": ""}})).json(t)
		e.waitStatus(a.APIKey, in["id"].(string), "healthy")

		// B cannot take A's sandbox, by adding it or by changing its own integration's key.
		aKey := e.sandboxKey(a.AccountID)
		r := e.call(b.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": aKey}})
		if r.Status != 422 || r.errCode(t) != "invalid" || r.errField(t) != "credentials.api_key" {
			t.Fatalf("B adding A's key: %d %s", r.Status, r.Body)
		}
		if list := e.must(200, e.call(b.APIKey, "GET", "/api/v1/integrations", nil)).json(t)["data"].([]any); len(list) != 0 {
			t.Fatalf("the refused add created %d integrations", len(list))
		}
		bInt := e.must(201, e.call(b.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox"})).json(t)["id"].(string)
		r = e.call(b.APIKey, "PATCH", "/api/v1/integrations/"+bInt, map[string]any{"credentials": map[string]string{"api_key": aKey}})
		if r.Status != 422 || r.errField(t) != "credentials.api_key" {
			t.Fatalf("B changing its key to A's: %d %s", r.Status, r.Body)
		}
		e.waitStatus(b.APIKey, bInt, "healthy")

		// A's own sandbox, used directly by its key: an order to complete.
		keyInt := e.must(201, e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "nickname": "Terrace",
			"credentials": map[string]string{"api_key": aKey}})).json(t)["id"].(string)
		e.waitStatus(a.APIKey, keyInt, "healthy")
		ord := e.must(201, e.call(aKey, "POST", "/sandbox/api/v1/orders", map[string]any{"reference": "INV-1"})).json(t)["id"].(string)

		// The admin routes by A's API key and integration_id.
		orders := "/sandbox/admin/orders?integration_id=" + keyInt
		if body := string(e.must(200, e.call(a.APIKey, "GET", orders, nil)).Body); !regexp.MustCompile(ord).MatchString(body) {
			t.Fatalf("A's orders lack %s: %s", ord, body)
		}
		// B's API key, B's session, or no integration_id: refused.
		for _, c := range []struct {
			key, method, path string
			body              any
			status            int
			field             string
		}{
			{b.APIKey, "GET", orders, nil, 404, "integration_id"},
			{b.APIKey, "POST", "/sandbox/admin/orders/" + ord + "/complete", map[string]any{"integration_id": keyInt}, 404, "integration_id"},
			{b.APIKey, "POST", "/sandbox/admin/faults", map[string]any{"integration_id": keyInt, "fail_next": 1, "status": 500}, 404, "integration_id"},
			{b.APIKey, "DELETE", "/sandbox/admin/faults?integration_id=" + keyInt, nil, 404, "integration_id"},
			{a.APIKey, "GET", "/sandbox/admin/orders", nil, 422, "integration_id"},
			{a.APIKey, "GET", "/sandbox/admin/orders?integration_id=int_nope", nil, 404, "integration_id"},
			{"", "GET", orders, nil, 401, ""},
			{"pbk_wrong", "GET", orders, nil, 401, ""},
		} {
			r := e.call(c.key, c.method, c.path, c.body)
			if r.Status != c.status || r.errField(t) != c.field {
				t.Fatalf("%s %s: %d %s, want %d field %q", c.method, c.path, r.Status, r.Body, c.status, c.field)
			}
		}
		// A injects a fault by integration_id: the next check fails; then clears it.
		e.must(200, e.call(a.APIKey, "POST", "/sandbox/admin/faults", map[string]any{"integration_id": keyInt, "fail_next": 1, "status": 503}))
		if c := e.must(200, e.call(a.APIKey, "POST", "/api/v1/integrations/"+keyInt+"/check", nil)).json(t); c["status"] != "failed" {
			t.Fatalf("check after the fault: %v", c["status"])
		}
		e.must(200, e.call(a.APIKey, "DELETE", "/sandbox/admin/faults?integration_id="+keyInt, nil))
		// A completes the order by integration_id (the body names it).
		done := e.must(200, e.call(a.APIKey, "POST", "/sandbox/admin/orders/"+ord+"/complete", map[string]any{"integration_id": keyInt})).json(t)
		if done["state"] != "completed" {
			t.Fatalf("complete: %v", done)
		}
		// The tenant's own key still works, as before.
		e.must(200, e.call("", "GET", "/sandbox/admin/orders?api_key="+aKey, nil))

		// A console session of A: reads; a change needs the CSRF header, so a bare cookie does nothing.
		admin, err := e.app.Store.UserByEmail(ctx, "owner@spoke.test")
		if err != nil {
			t.Fatal(err)
		}
		token := auth.NewSessionToken()
		if err := e.app.Store.CreateSession(ctx, auth.HashToken(token), store.Session{UserID: admin.ID, AccountID: a.AccountID,
			ExpiresAt: time.Now().Add(time.Hour)}, time.Now()); err != nil {
			t.Fatal(err)
		}
		cookie := "posbridge_session=" + token
		mustStatus(t, 200, do(t, e.url, "", "GET", orders, nil, "Cookie", cookie))
		mustStatus(t, 404, do(t, e.url, "", "GET", "/sandbox/admin/orders?integration_id="+bInt, nil, "Cookie", cookie))
		mustStatus(t, 401, do(t, e.url, "", "POST", "/sandbox/admin/faults", map[string]any{"integration_id": keyInt, "fail_next": 1, "status": 500}, "Cookie", cookie))
		mustStatus(t, 401, do(t, e.url, "", "POST", "/sandbox/admin/tenants", nil, "Cookie", cookie, "X-CSRF-Token", "forged"))
		mustStatus(t, 401, do(t, e.url, "", "GET", orders, nil, "Cookie", "posbridge_session=not-a-session"))
	})
}

// TestSandboxTenantLimit: an account has at most 20 sandboxes, even when 30 mints race; the 21st
// is refused with 422 tenant_limit, and so is adding a Sandbox POS without a key.
func TestSandboxTenantLimit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		ctx := context.Background()
		a := e.account("Spoke & Chain", "owner@spoke.test")
		other := e.account("Other Shop", "boss@other.test")

		var (
			mu       sync.Mutex
			statuses = map[int]int{}
			wg       sync.WaitGroup
		)
		for i := 0; i < 30; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := do(t, e.url, a.APIKey, "POST", "/sandbox/admin/tenants", nil)
				mu.Lock()
				defer mu.Unlock()
				statuses[r.Status]++
				if r.Status == 422 && r.errCode(t) != "tenant_limit" {
					t.Errorf("refused mint: %s", r.Body)
				}
			}()
		}
		wg.Wait()
		if statuses[201] != sandbox.DefaultMaxTenants || statuses[422] != 30-sandbox.DefaultMaxTenants {
			t.Fatalf("30 racing mints answered %v, want %d created and the rest 422", statuses, sandbox.DefaultMaxTenants)
		}
		if n, _ := e.app.Store.CountSandboxTenants(ctx, a.AccountID); n != sandbox.DefaultMaxTenants {
			t.Fatalf("the account holds %d sandboxes", n)
		}
		r := e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox"})
		if r.Status != 422 || r.errCode(t) != "tenant_limit" || r.errField(t) != "credentials.api_key" {
			t.Fatalf("add without a key at the limit: %d %s", r.Status, r.Body)
		}
		if _, err := e.app.MintSandbox(ctx, a.AccountID); !errors.Is(err, sandbox.ErrTenantLimit) {
			t.Fatalf("MintSandbox at the limit: %v", err)
		}
		// Another account is not affected.
		e.mintOverHTTP(other.APIKey)
	})
}

// TestDemoSandboxKeyIsRandom: --demo connects a Sandbox POS whose key is minted, printed once,
// different on every fresh install, and works; sbx_demo is refused.
func TestDemoSandboxKeyIsRandom(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := 0; i < 2; i++ {
		var out syncBuffer
		e := start(t, testdb.SQLite(t), func(c *app.Config) { c.Demo, c.Stdout = true, &out })
		m := regexp.MustCompile(`sandbox key: (sbx_[0-9a-f]{40})\n`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no minted sandbox key printed: %s", out.String())
		}
		keys = append(keys, m[1])
		e.must(200, e.call(m[1], "GET", "/sandbox/api/v1/account", nil))
		if r := e.call("sbx_demo", "GET", "/sandbox/api/v1/account", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("sbx_demo: %d", r.Status)
		}
		apiKey := regexp.MustCompile(`API key:\s+(pbk_\S+)`).FindStringSubmatch(out.String())[1]
		list := e.must(200, e.call(apiKey, "GET", "/api/v1/integrations", nil)).json(t)["data"].([]any)
		if len(list) != 1 {
			t.Fatalf("demo integrations: %v", list)
		}
		e.waitStatus(apiKey, list[0].(map[string]any)["id"].(string), "healthy")
	}
	if keys[0] == keys[1] {
		t.Fatal("two fresh installs got the same demo sandbox key")
	}
}

// TestSandboxTenantDelete: the owning account deletes a sandbox (by its key or by the integration
// that uses it) with everything it saved, which frees its place under the limit; its key is
// refused from then on. A sandbox an active integration uses is refused (409 in_use); another
// account's is not found.
func TestSandboxTenantDelete(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		ctx := context.Background()
		a := e.account("Spoke & Chain", "owner@spoke.test")
		b := e.account("Other Shop", "boss@other.test")
		keys := make([]string, sandbox.DefaultMaxTenants)
		for i := range keys {
			keys[i] = e.sandboxKey(a.AccountID)
		}
		if _, err := e.app.MintSandbox(ctx, a.AccountID); !errors.Is(err, sandbox.ErrTenantLimit) {
			t.Fatalf("mint over the limit: %v", err)
		}
		// keys[0]: used directly (an order), then deleted with everything it saved.
		e.must(201, e.call(keys[0], "POST", "/sandbox/api/v1/orders", map[string]any{"reference": "DEL-1"}))
		if snaps, logs, _ := e.app.Store.CountSandboxState(ctx, sandboxKeyHash(keys[0])); snaps+logs == 0 {
			t.Fatal("nothing saved for a used sandbox")
		}
		for _, c := range []struct {
			key, path string
			status    int
			field     string
		}{
			{"", "/sandbox/admin/tenants?api_key=" + keys[0], 401, ""},
			{keys[0], "/sandbox/admin/tenants?api_key=" + keys[0], 401, ""},
			{b.APIKey, "/sandbox/admin/tenants?api_key=" + keys[0], 404, "api_key"},
			{a.APIKey, "/sandbox/admin/tenants", 422, "api_key"},
			{a.APIKey, "/sandbox/admin/tenants?api_key=" + sandbox.NewAPIKey(), 404, "api_key"},
		} {
			if r := e.call(c.key, "DELETE", c.path, nil); r.Status != c.status || r.errField(t) != c.field {
				t.Fatalf("DELETE %s: %d %s, want %d field %q", c.path, r.Status, r.Body, c.status, c.field)
			}
		}
		e.must(204, e.call(a.APIKey, "DELETE", "/sandbox/admin/tenants?api_key="+keys[0], nil))
		if r := e.call(keys[0], "GET", "/sandbox/api/v1/orders", nil); r.Status != 401 {
			t.Fatalf("deleted key: %d", r.Status)
		}
		if snaps, logs, err := e.app.Store.CountSandboxState(ctx, sandboxKeyHash(keys[0])); err != nil || snaps+logs != 0 {
			t.Fatalf("a deleted sandbox left %d snapshots and %d changes (%v)", snaps, logs, err)
		}
		e.must(404, e.call(a.APIKey, "DELETE", "/sandbox/admin/tenants?api_key="+keys[0], nil))
		// Its place is free again.
		e.sandboxKey(a.AccountID)

		// keys[1]: used by an integration; refused while the integration is active.
		in := e.must(201, e.call(a.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox",
			"credentials": map[string]string{"api_key": keys[1]}})).json(t)
		id := in["id"].(string)
		e.waitStatus(a.APIKey, id, "healthy")
		r := e.call(a.APIKey, "DELETE", "/sandbox/admin/tenants?integration_id="+id, nil)
		if r.Status != 409 || r.errCode(t) != "in_use" || !regexp.MustCompile(id).Match(r.Body) {
			t.Fatalf("deleting a sandbox in use: %d %s", r.Status, r.Body)
		}
		e.must(200, e.call(a.APIKey, "POST", "/api/v1/integrations/"+id+"/deactivate", nil))
		e.must(404, e.call(b.APIKey, "DELETE", "/sandbox/admin/tenants?integration_id="+id, nil))
		e.must(204, e.call(a.APIKey, "DELETE", "/sandbox/admin/tenants?integration_id="+id, nil))
		if snaps, logs, _ := e.app.Store.CountSandboxState(ctx, sandboxKeyHash(keys[1])); snaps+logs != 0 {
			t.Fatalf("a deleted sandbox left %d snapshots and %d changes", snaps, logs)
		}
		if n, _ := e.app.Store.CountSandboxTenants(ctx, a.AccountID); n != sandbox.DefaultMaxTenants-1 {
			t.Fatalf("the account holds %d sandboxes", n)
		}

		// keys[2]: deleted while clients write to it (enough that its log is compacted on the
		// way): once they stop, nothing of it is left, even what was in flight.
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created int
		)
		for c := 0; c < 8; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					r := do(t, e.url, keys[2], "POST", "/sandbox/api/v1/orders", map[string]any{"reference": "RACE", "note": strings.Repeat("n", 2000)})
					if r.Status != 201 {
						return // refused once deleted (401), or while it goes (503)
					}
					mu.Lock()
					created++
					mu.Unlock()
				}
			}()
		}
		waitFor(t, "300 orders in the sandbox being deleted", func() bool { mu.Lock(); defer mu.Unlock(); return created >= 300 })
		e.must(204, e.call(a.APIKey, "DELETE", "/sandbox/admin/tenants?api_key="+keys[2], nil))
		wg.Wait()
		if snaps, logs, _ := e.app.Store.CountSandboxState(ctx, sandboxKeyHash(keys[2])); snaps+logs != 0 {
			t.Fatalf("a sandbox deleted under load left %d snapshots and %d changes (%d orders were made)", snaps, logs, created)
		}
	})
}
