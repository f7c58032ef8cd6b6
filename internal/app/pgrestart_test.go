package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestPostgresRestartDuringSync: a PostgreSQL the test starts on a port of its own is restarted
// (pg_ctl restart -m fast, every connection cut) while invoices are written and synced to a
// Sandbox POS. Requests while the database is away answer 503 unavailable with Retry-After and
// are sent again; afterwards the same server (not restarted) syncs every invoice to exactly one
// order carrying its own reference: none lost, none duplicated.
func TestPostgresRestartDuringSync(t *testing.T) {
	// Parallel: the PostgreSQL it restarts is its own (testdb.StartCluster, a port of its own).
	t.Parallel()
	began := time.Now()
	cl := testdb.StartCluster(t)
	e := start(t, cl.Target(), func(c *app.Config) {
		c.RescueAfter = 5 * time.Second // a job whose completion the restart cut short runs again soon
		c.DocumentLease = 3 * time.Second
		c.MaxConns = 30
	})
	owner := e.account("Spoke & Chain", "owner@spoke.test")
	sbx := e.sandboxKey(owner.AccountID) // minted by the server, as POST /sandbox/admin/tenants does
	in := e.must(201, e.call(owner.APIKey, "POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}})).json(t)
	e.waitStatus(owner.APIKey, in["id"].(string), "healthy")
	e.must(200, e.call(owner.APIKey, "PUT", "/api/v1/order-sync", map[string]any{"integration_id": in["id"], "auto_sync": true}))

	// Four clients PUT 120 invoices, each sent again until it is accepted.
	const n = 120
	refs := make(chan string, n)
	for i := 0; i < n; i++ {
		refs <- fmt.Sprintf("PGR-%04d", i)
	}
	close(refs)
	var accepted, unavailable atomic.Int64
	var mu sync.Mutex
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	// Generous limits: a busy machine slows every request and the restart itself; what is
	// checked is that each invoice is accepted at last, not how soon.
	hc := &http.Client{Timeout: time.Minute}
	deadline := time.Now().Add(scenarioWait)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ref := range refs {
				body, _ := json.Marshal(invoice("issued", "Brake service "+ref))
				for {
					if time.Now().After(deadline) {
						problem("%s never accepted", ref)
						return
					}
					req, _ := http.NewRequest("PUT", e.url+"/api/v1/documents/invoice/"+ref, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+owner.APIKey)
					req.Header.Set("Content-Type", "application/json")
					res, err := hc.Do(req)
					if err != nil {
						problem("PUT %s: %v", ref, err)
						return
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated {
						accepted.Add(1)
						break
					}
					if res.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), `"unavailable"`) &&
						res.Header.Get("Retry-After") != "" {
						unavailable.Add(1)
						time.Sleep(100 * time.Millisecond) // sooner than Retry-After: the test knows when the database is back
						continue
					}
					problem("PUT %s: %d %s", ref, res.StatusCode, b)
					return
				}
			}
		}()
	}

	// Restart PostgreSQL once a third of the invoices are in, while their orders are being made.
	for accepted.Load() < n/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	away := cl.Restart()
	t.Logf("PostgreSQL restarted after %d invoices; it was away %v", accepted.Load(), away.Round(time.Millisecond))
	// Then a longer outage: stopped until clients have met it, then started again.
	for accepted.Load() < 2*n/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	loginForm := consoleLoginForm(t, e.url)
	stopped := time.Now()
	seen := unavailable.Load()
	cl.Stop()
	// While it is down, the API answers 503 unavailable with Retry-After, and so does a console login.
	if r := e.call(owner.APIKey, "GET", "/api/v1/integrations", nil); r.Status != http.StatusServiceUnavailable || r.errCode(t) != "unavailable" {
		t.Errorf("API with the database down: %d %s", r.Status, r.Body)
	}
	if res := loginForm("owner@spoke.test", "wrong password"); res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("console login with the database down: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	for unavailable.Load() < seen+20 && time.Since(stopped) < 5*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	cl.Start()
	restarted := time.Now()
	t.Logf("PostgreSQL stopped after %d invoices for %v", accepted.Load(), time.Since(stopped).Round(time.Millisecond))
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), problems[0])
	}
	t.Logf("%d requests answered 503 unavailable while the database was away", unavailable.Load())

	// Every invoice ends synced, each on one order of its own, and the sandbox holds no more.
	var docs []map[string]any
	for {
		r := e.call(owner.APIKey, "GET", "/api/v1/documents/invoice?limit=500", nil)
		synced := 0
		if r.Status == http.StatusOK {
			docs = nil
			for _, d := range r.json(t)["data"].([]any) {
				docs = append(docs, d.(map[string]any))
				if d.(map[string]any)["sync"].(map[string]any)["status"] == "synced" {
					synced++
				}
			}
		}
		if synced == n {
			break
		}
		if time.Since(restarted) > scenarioWait {
			t.Fatalf("%d of %d invoices synced %v after the restart", synced, n, time.Since(restarted).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
	orders := e.must(200, e.call("", "GET", "/sandbox/admin/orders?api_key="+sbx, nil))
	var os []sbxOrder
	if err := json.Unmarshal(orders.Body, &os); err != nil {
		t.Fatalf("sandbox orders: %v", err)
	}
	byID := map[string]sbxOrder{}
	refsSeen := map[string]int{}
	for _, o := range os {
		byID[o.ID] = o
		refsSeen[o.Reference]++
	}
	for ref, k := range refsSeen {
		if k != 1 {
			t.Errorf("%d orders carry %s", k, ref)
		}
	}
	if len(os) != n {
		t.Errorf("the sandbox holds %d orders for %d invoices", len(os), n)
	}
	for _, d := range docs {
		sy := d["sync"].(map[string]any)
		o, ok := byID[sy["external_id"].(string)]
		if !ok || o.Reference != d["ref"] {
			t.Errorf("%s is linked to order %v (reference %q)", d["ref"], sy["external_id"], o.Reference)
		}
	}
	// The server goes on without a restart of its own: a new invoice syncs.
	e.must(201, e.call(owner.APIKey, "PUT", "/api/v1/documents/invoice/PGR-after", invoice("issued", "After the restart")))
	for {
		d := e.must(200, e.call(owner.APIKey, "GET", "/api/v1/documents/invoice/PGR-after", nil)).json(t)
		if d["sync"].(map[string]any)["status"] == "synced" {
			break
		}
		if time.Since(restarted) > 2*scenarioWait {
			t.Fatalf("an invoice written after the restart is not synced: %v", d["sync"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d invoices, %d orders, all linked to their own; %v in all", n, len(os), time.Since(began).Round(100*time.Millisecond))
}

// consoleLoginForm opens the console's login page and returns a function that posts it.
func consoleLoginForm(t *testing.T, base string) func(email, password string) *http.Response {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on the login page: %s", b)
	}
	return func(email, password string) *http.Response {
		res, err := hc.PostForm(base+"/login", url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
}
