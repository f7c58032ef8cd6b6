package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestHooksAckedImpliesDurable: a `serve` process (this test binary re-executed as posbridge)
// takes correctly signed sandbox webhooks from 32 concurrent senders and is SIGKILLed mid-burst
// twice, and restarted each time. Every webhook that was answered 2xx is in the database
// afterwards (0 acknowledged lost), and every stored event is applied after the restarts (the
// apply job the dead process held is rescued), on SQLite and PostgreSQL.
func TestHooksAckedImpliesDurable(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	testdb.Each(t, func(t *testing.T, db testdb.Target) { crashHooks(t, db) })
}

// hooksServe is the serve child, started again after every kill.
type hooksServe struct {
	t    *testing.T
	args []string
	base string
	cur  *child
	runs []*child
}

func (p *hooksServe) start() {
	p.t.Helper()
	p.cur = startChild(p.t, p.args...)
	p.runs = append(p.runs, p.cur)
	waitUntil(p.t, "serve answering /healthz", 60*time.Second, func() bool {
		if p.cur.cmd.ProcessState != nil {
			p.t.Fatalf("serve exited: %s", p.cur.stderr.String())
		}
		res, err := http.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
}

// sandboxTenant mints the account's Sandbox POS tenant and returns its API key: the one place
// this test makes a tenant.
func sandboxTenant(t *testing.T, hc *http.Client, base, key string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/sandbox/admin/tenants", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("mint a sandbox: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if res.StatusCode != http.StatusCreated || json.Unmarshal(b, &tenant) != nil || tenant.APIKey == "" {
		t.Fatalf("mint a sandbox: %d %s", res.StatusCode, b)
	}
	return tenant.APIKey
}

func crashHooks(t *testing.T, db testdb.Target) {
	secretKey := strings.Repeat("ab", 32)
	addr := freeAddr(t)
	args := []string{"serve", "--addr", addr, "--data-dir", db.DataDir, "--secret-key", secretKey,
		"--allow-private-provider-hosts", "--job-rescue-after", "5s", "--log-level", "warn"}
	if db.DatabaseURL != "" {
		args = append(args, "--database-url", db.DatabaseURL)
	}
	p := &hooksServe{t: t, args: args, base: "http://" + addr}
	t.Cleanup(func() {
		if t.Failed() {
			for i, c := range p.runs {
				t.Logf("--- serve run %d stderr:\n%s", i+1, c.stderr.String())
			}
		}
	})
	p.start()
	var key string
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	waitUntil(t, "the first start's API key", 30*time.Second, func() bool {
		if m := keyRe.FindStringSubmatch(p.cur.stdout.String()); m != nil {
			key = m[1]
		}
		return key != ""
	})
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	body, _ := json.Marshal(map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sandboxTenant(t, hc, p.base, key)}})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/integrations", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var in struct{ ID string }
	if res.StatusCode != 201 || json.Unmarshal(b, &in) != nil {
		t.Fatalf("add the Sandbox POS: %d %s", res.StatusCode, b)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accountID, err := st.AccountByAPIKeyHash(ctx, auth.HashToken(key))
	if err != nil {
		t.Fatal(err)
	}
	_, sealed, err := st.IntegrationSecrets(ctx, accountID, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := secrets.ParseKey(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(k)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := box.Open(sealed, in.ID+"/webhook")
	if err != nil {
		t.Fatal(err)
	}

	// The senders: each posts new events one after the other; an event answered 2xx is acked.
	var (
		mu         sync.Mutex
		acked      = map[string]bool{}
		nAcked     atomic.Int64
		unanswered atomic.Int64
		stop       atomic.Bool
		wg         sync.WaitGroup
		refused    = make(chan string, 1)
	)
	hookURL := p.base + "/hooks/" + in.ID
	for c := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				id := fmt.Sprintf("evt_crash_%d_%d", c, n)
				ev, _ := json.Marshal(map[string]any{"id": id, "type": "order.completed", "created_at": time.Now().UTC(),
					"data": map[string]any{"object": map[string]any{"id": fmt.Sprintf("ord_%d_%d", c, n), "reference": "X", "state": "completed"}}})
				req, _ := http.NewRequest(http.MethodPost, hookURL, bytes.NewReader(ev))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(sandbox.SignatureHeader, sandbox.Sign(string(secret), time.Now(), ev))
				res, err := hc.Do(req)
				if err != nil {
					unanswered.Add(1)
					time.Sleep(20 * time.Millisecond) // the process is dead or restarting
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode/100 == 2:
					mu.Lock()
					acked[id] = true
					mu.Unlock()
					nAcked.Add(1)
				case res.StatusCode < 500:
					select {
					case refused <- fmt.Sprintf("%s: HTTP %d %s", id, res.StatusCode, b):
					default:
					}
					return
				default:
					unanswered.Add(1) // a dying process may answer 5xx: not acked, the POS sends again
				}
			}
		}()
	}
	waitAcked := func(n int64) {
		waitUntil(t, fmt.Sprintf("%d acknowledged webhooks", n), 2*time.Minute, func() bool {
			select {
			case r := <-refused:
				t.Fatalf("a correctly signed webhook was refused: %s", r)
			default:
			}
			return nAcked.Load() >= n
		})
	}
	var kills []int64
	waitAcked(1500)
	p.cur.kill(t)
	kills = append(kills, nAcked.Load())
	p.start()
	waitAcked(kills[0] + 2000)
	p.cur.kill(t)
	kills = append(kills, nAcked.Load())
	p.start()
	waitAcked(kills[1] + 1000)
	stop.Store(true)
	wg.Wait()

	ids, err := st.WebhookProviderEventIDs(ctx, accountID, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, id := range ids {
		if stored[id] {
			t.Errorf("event %s stored twice", id)
		}
		stored[id] = true
	}
	lost := 0
	var examples []string
	for id := range acked {
		if !stored[id] {
			lost++
			if len(examples) < 5 {
				examples = append(examples, id)
			}
		}
	}
	t.Logf("%s: kills after %v acknowledged; %d acknowledged, %d stored (the rest were being committed when the process died), %d unanswered or 5xx, %d acknowledged but lost",
		db.Name, kills, len(acked), len(stored), unanswered.Load(), lost)
	if lost > 0 {
		t.Fatalf("%d acknowledged webhooks are not in the database, e.g. %v", lost, examples)
	}
	if unanswered.Load() == 0 {
		t.Fatal("no request was cut off by the kills: the test did not kill mid-burst")
	}
	waitUntil(t, "every stored event applied after the restarts", 2*time.Minute, func() bool {
		_, pending, err := st.CountWebhookEvents(ctx, accountID, in.ID)
		return err == nil && pending == 0
	})
	p.cur.stop(t)
}
