package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// sbxProcess is the Sandbox POS of one posbridge process over a database: its store, persister
// and server. A test "kills" it by opening another over the same database and never closing
// this one first: nothing is flushed, as after kill -9.
type sbxProcess struct {
	st      *store.Store
	srv     *sandbox.Server
	hs      *httptest.Server
	tenants *sandboxTenants
}

func startSandboxProcess(t *testing.T, db testdb.Target, key []byte, opts sandbox.Options) *sbxProcess {
	t.Helper()
	ctx := context.Background()
	storetest.Migrated(t, db)
	st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	tenants := &sandboxTenants{st: st, box: box, csrfKey: key, max: sandbox.DefaultMaxTenants, now: time.Now}
	opts.Persister, opts.Logger, opts.Tenants = newSandboxPersister(st, box, log), log, tenants
	p := &sbxProcess{st: st, srv: sandbox.NewServer(opts), tenants: tenants}
	p.hs = httptest.NewServer(p.srv)
	t.Cleanup(func() { p.hs.Close(); p.srv.Close(); st.Close() })
	return p
}

// mint creates an account and mints a sandbox key for it.
func (p *sbxProcess) mint(t *testing.T) (accountID, apiKey string) {
	t.Helper()
	ctx := context.Background()
	c, err := accounts.Create(ctx, p.st, "Sandbox owner "+auth.NewID("a"), auth.NewID("u")+"@sandbox.test")
	if err != nil {
		t.Fatal(err)
	}
	k, err := p.tenants.Mint(ctx, c.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return c.AccountID, k
}

func (p *sbxProcess) do(t *testing.T, method, path, apiKey, idemKey string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.hs.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

type sbxOrder struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	State     string `json:"state"`
	Version   int64  `json:"version"`
}

func orderNumber(t *testing.T, id string) int {
	t.Helper()
	n, err := strconv.Atoi(id[strings.LastIndexByte(id, '_')+1:])
	if err != nil {
		t.Fatalf("order id %q has no number", id)
	}
	return n
}

// TestSandboxChangesSurviveKill: every change the Sandbox POS answered is in the database when
// it answers. After the process dies without any shutdown (another one opens the same database
// while the first is left as it was), every acknowledged order is there with its id, state and
// version, a deleted webhook stays deleted, and the next order takes a new id. Enough orders
// are written that the log is compacted into a snapshot on the way.
func TestSandboxChangesSurviveKill(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		p1 := startSandboxProcess(t, db, key, sandbox.Options{})
		_, apiKey := p1.mint(t)

		const clients, perClient = 8, 60
		var (
			mu    sync.Mutex
			acked = map[string]sbxOrder{} // reference -> order
			wg    sync.WaitGroup
		)
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perClient; i++ {
					ref := fmt.Sprintf("DUR-%d-%03d", c, i)
					status, b := p1.do(t, "POST", "/sandbox/api/v1/orders", apiKey, "k-"+ref, map[string]any{"reference": ref,
						"note": strings.Repeat("n", 200), "lines": []map[string]any{{"name": "Full service", "quantity": "1", "unit_price": map[string]any{"amount": 8900}}}})
					if status != http.StatusCreated {
						t.Errorf("create %s: %d %s", ref, status, b)
						return
					}
					var o sbxOrder
					if err := json.Unmarshal(b, &o); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[ref] = o
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		// A few more kinds of change: a void, a webhook subscribed then deleted, one kept.
		var voided sbxOrder
		for _, o := range acked {
			voided = o
			break
		}
		if st, b := p1.do(t, "POST", "/sandbox/api/v1/orders/"+voided.ID+"/void", apiKey, "", nil); st != 200 {
			t.Fatalf("void: %d %s", st, b)
		}
		var wh struct{ ID string }
		for i := 0; i < 2; i++ {
			st, b := p1.do(t, "POST", "/sandbox/api/v1/webhooks", apiKey, "", map[string]any{"url": "http://127.0.0.1:1/hooks/x" + strconv.Itoa(i)})
			if st != 201 {
				t.Fatalf("webhook: %d %s", st, b)
			}
			_ = json.Unmarshal(b, &wh)
		}
		if st, b := p1.do(t, "DELETE", "/sandbox/api/v1/webhooks/"+wh.ID, apiKey, "", nil); st != 204 {
			t.Fatalf("delete webhook: %d %s", st, b)
		}

		// kill -9: a new process over the same database; p1 is never closed first.
		p2 := startSandboxProcess(t, db, key, sandbox.Options{})
		maxN := 0
		for ref, o := range acked {
			st, b := p2.do(t, "GET", "/sandbox/api/v1/orders/"+o.ID, apiKey, "", nil)
			var got sbxOrder
			_ = json.Unmarshal(b, &got)
			if st != 200 || got.Reference != ref {
				t.Fatalf("after the kill, acknowledged order %s (%s) is %d %s", o.ID, ref, st, b)
			}
			if o.ID == voided.ID && (got.State != "voided" || got.Version != 2) {
				t.Fatalf("the void was lost: %s", b)
			}
			maxN = max(maxN, orderNumber(t, o.ID))
		}
		st, b := p2.do(t, "GET", "/sandbox/api/v1/orders?limit=100", apiKey, "", nil)
		var page struct{ Data []sbxOrder }
		_ = json.Unmarshal(b, &page)
		if st != 200 || len(page.Data) != 100 {
			t.Fatalf("list: %d %s", st, b)
		}
		st, b = p2.do(t, "GET", "/sandbox/api/v1/webhooks", apiKey, "", nil)
		var hooks struct{ Data []struct{ ID string } }
		_ = json.Unmarshal(b, &hooks)
		if st != 200 || len(hooks.Data) != 1 || hooks.Data[0].ID == wh.ID {
			t.Fatalf("webhooks after the kill: %d %s", st, b)
		}
		// A retry of an answered create replays it: the same order, not a second one.
		for ref, o := range acked {
			st, b := p2.do(t, "POST", "/sandbox/api/v1/orders", apiKey, "k-"+ref, map[string]any{"reference": ref,
				"note": strings.Repeat("n", 200), "lines": []map[string]any{{"name": "Full service", "quantity": "1", "unit_price": map[string]any{"amount": 8900}}}})
			var got sbxOrder
			_ = json.Unmarshal(b, &got)
			if st != 201 || got.ID != o.ID {
				t.Fatalf("retry of %s after the kill: %d %s, want order %s", ref, st, b, o.ID)
			}
			break
		}
		// The next order takes an id never handed out.
		st, b = p2.do(t, "POST", "/sandbox/api/v1/orders", apiKey, "", map[string]any{"reference": "AFTER"})
		var next sbxOrder
		_ = json.Unmarshal(b, &next)
		if st != 201 || orderNumber(t, next.ID) <= maxN {
			t.Fatalf("order after the kill: %d %s (highest acknowledged number %d)", st, b, maxN)
		}
		// The log was compacted on the way (a snapshot holding changes), and what is left of
		// it is small.
		saved, err := p2.st.LoadSandbox(context.Background(), keyHash(apiKey))
		if err != nil || !saved.Found || saved.Seq == 0 {
			t.Fatalf("no compacted snapshot: seq %d, %v", saved.Seq, err)
		}
		if len(saved.Log) >= clients*perClient {
			t.Fatalf("the log holds %d changes after compaction", len(saved.Log))
		}
		// A third process sees the order made by the second.
		p3 := startSandboxProcess(t, db, key, sandbox.Options{})
		if st, b := p3.do(t, "GET", "/sandbox/api/v1/orders/"+next.ID, apiKey, "", nil); st != 200 {
			t.Fatalf("order of the second process after another kill: %d %s", st, b)
		}
	})
}
