package app

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSandboxStateIsCapped: a sandbox whose saved state reaches its cap refuses new objects with
// 422 sandbox_full and a message naming the limit; what it holds stays readable, and the cap
// holds after a restart (the state is measured again from what was saved).
func TestSandboxStateIsCapped(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		const limit = 96 << 10
		p := startSandboxProcess(t, db, key, sandbox.Options{MaxStateBytes: limit})
		_, k := p.mint(t)
		body := func(i int) map[string]any {
			return map[string]any{"reference": fmt.Sprintf("CAP-%d", i), "note": strings.Repeat("n", 2000)}
		}
		created := 0
		for ; created < 1000; created++ {
			st, b := p.do(t, "POST", "/sandbox/api/v1/orders", k, "", body(created))
			if st == 422 {
				var e struct {
					Error struct{ Code, Message string }
				}
				_ = json.Unmarshal(b, &e)
				if e.Error.Code != "sandbox_full" || !strings.Contains(e.Error.Message, "96 KiB") {
					t.Fatalf("refusal at the cap: %s", b)
				}
				break
			}
			if st != 201 {
				t.Fatalf("order %d: %d %s", created, st, b)
			}
		}
		t.Logf("%d orders of 2 KB before the cap of %d KiB", created, limit>>10)
		if created == 0 || created == 1000 {
			t.Fatalf("%d orders before the cap of %d bytes", created, limit)
		}
		if st, b := p.do(t, "GET", "/sandbox/api/v1/orders?limit=100", k, "", nil); st != 200 {
			t.Fatalf("reading a full sandbox: %d %s", st, b)
		}
		// After a restart the tenant is as full.
		p2 := startSandboxProcess(t, db, key, sandbox.Options{MaxStateBytes: limit})
		if st, b := p2.do(t, "POST", "/sandbox/api/v1/orders", k, "", body(created)); st != 422 || !strings.Contains(string(b), "sandbox_full") {
			t.Fatalf("after a restart the full sandbox answered %d %s", st, b)
		}
		var page struct{ Data []sbxOrder }
		st, b := p2.do(t, "GET", "/sandbox/api/v1/orders?limit=100", k, "", nil)
		_ = json.Unmarshal(b, &page)
		refs := 0
		for _, o := range page.Data {
			if strings.HasPrefix(o.Reference, "CAP-") {
				refs++
			}
		}
		if st != 200 || refs != created {
			t.Fatalf("after a restart: %d, %d of %d orders", st, refs, created)
		}
	})
}

// TestSandboxIdleTenantsAreEvicted: a tenant nobody used for IdleAfter leaves memory; its state
// stays saved, and its next request loads it again with everything it held.
func TestSandboxIdleTenantsAreEvicted(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		p := startSandboxProcess(t, db, key, sandbox.Options{Now: clock}) // IdleAfter: the default 10 minutes
		_, k1 := p.mint(t)
		_, k2 := p.mint(t)

		st, b := p.do(t, "POST", "/sandbox/api/v1/orders", k1, "", map[string]any{"reference": "IDLE-1"})
		var first sbxOrder
		if err := json.Unmarshal(b, &first); st != 201 || err != nil {
			t.Fatalf("create: %d %s", st, b)
		}
		if n := p.srv.Tenants(); n != 1 {
			t.Fatalf("%d tenants in memory, want 1", n)
		}
		advance(5 * time.Minute)
		if st, _ := p.do(t, "GET", "/sandbox/api/v1/account", k2, "", nil); st != 200 {
			t.Fatal("k2")
		}
		if n := p.srv.Tenants(); n != 2 {
			t.Fatalf("after 5 minutes: %d tenants in memory, want 2", n)
		}
		advance(6 * time.Minute) // k1 unused for 11 minutes, k2 for 6
		if st, _ := p.do(t, "GET", "/sandbox/api/v1/account", k2, "", nil); st != 200 {
			t.Fatal("k2")
		}
		if n := p.srv.Tenants(); n != 1 {
			t.Fatalf("after 11 minutes idle: %d tenants in memory, want 1 (k1 evicted)", n)
		}
		// k1 comes back from the database with its order, and its ids go on from there.
		st, b = p.do(t, "GET", "/sandbox/api/v1/orders/"+first.ID, k1, "", nil)
		var got sbxOrder
		_ = json.Unmarshal(b, &got)
		if st != 200 || got.Reference != "IDLE-1" {
			t.Fatalf("order after eviction: %d %s", st, b)
		}
		if n := p.srv.Tenants(); n != 2 {
			t.Fatalf("after reload: %d tenants in memory, want 2", n)
		}
		st, b = p.do(t, "POST", "/sandbox/api/v1/orders", k1, "", map[string]any{"reference": "IDLE-2"})
		var second sbxOrder
		_ = json.Unmarshal(b, &second)
		if st != 201 || orderNumber(t, second.ID) <= orderNumber(t, first.ID) {
			t.Fatalf("order after reload: %d %s (first was %s)", st, b, first.ID)
		}
	})
}
