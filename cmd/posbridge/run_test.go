package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/testdb"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func sandboxHint(k string) string { return k[:min(len(k), 8)] + "…" }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestServeDemo is the README's run command: a fresh data dir, --demo, and soon a healthy
// Sandbox POS integration visible through the API with the printed key. On a quiet machine that
// takes about a second (logged); the limit is generous so that a busy machine does not fail it.
func TestServeDemo(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	started := time.Now()
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--addr", addr}, env(map[string]string{"POSBRIDGE_DATA_DIR": dir}), &stdout, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(patience):
			t.Error("serve did not stop after its context was cancelled")
		}
	}()
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	var key string
	deadline := started.Add(2 * patience) // for the whole first start: key, healthy, the demo invoice paid
	for time.Now().Before(deadline) && key == "" {
		if m := keyRe.FindStringSubmatch(stdout.String()); m != nil {
			key = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if key == "" {
		t.Fatalf("no API key printed; stdout %q stderr %q", stdout.String(), stderr.String())
	}
	for _, want := range []string{"/login", "admin@example.com", "password:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("first start output lacks %q: %s", want, stdout.String())
		}
	}
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/integrations", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			var body struct {
				Data []struct{ Type, Status string }
			}
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
			if len(body.Data) == 1 && body.Data[0].Type == "sandbox" && body.Data[0].Status == "healthy" {
				t.Logf("demo integration healthy %s after start", time.Since(started).Round(time.Millisecond))
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo integration not healthy within %s of start; stderr: %s", time.Since(started).Round(time.Second), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The demo shows the whole flow: Automatic Sync is on and its sample documents are synced,
	// one invoice completed at the sandbox's till and so paid.
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/documents/invoice/INV-DEMO-1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		paid := false
		if err == nil {
			var doc struct{ Status string }
			json.NewDecoder(res.Body).Decode(&doc)
			res.Body.Close()
			paid = doc.Status == "paid"
		}
		if paid {
			t.Logf("demo invoice paid %s after start", time.Since(started).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's sample invoice INV-DEMO-1 is not paid within %s of start; stderr: %s", time.Since(started).Round(time.Second), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The demo's sandbox key is minted (random), printed once, and works; the old fixed key does not.
	m := regexp.MustCompile(`sandbox key:\s+(sbx_[0-9a-f]{40})\n`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no minted sandbox key printed: %s", stdout.String())
	}
	for k, want := range map[string]int{m[1]: 200, "sbx_demo": 401} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/sandbox/api/v1/account", nil)
		req.Header.Set("Authorization", "Bearer "+k)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("sandbox account with %s: HTTP %d, want %d", sandboxHint(k), res.StatusCode, want)
		}
	}
	if !strings.Contains(stderr.String(), "generated a new secret key") {
		t.Errorf("no log line about the generated secret key: %s", stderr.String())
	}
	// One store identity: the back office and its terminal are the demo Sandbox POS's store, so
	// its published version (the Sandbox POS's products) is written to that POS.
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: HTTP %d", path, res.StatusCode)
		}
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	var ints struct {
		Data []struct {
			ID      string `json:"id"`
			StoreID string `json:"store_id"`
		}
	}
	get("/api/v1/integrations", &ints)
	if len(ints.Data) != 1 || ints.Data[0].StoreID != "st_main" || !strings.Contains(stdout.String(), `store "st_main"`) {
		t.Fatalf("the demo Sandbox POS's store: %+v; stdout %s", ints.Data, stdout.String())
	}
	var vs struct {
		Data []struct {
			Version    int
			Deliveries struct {
				POS []struct {
					IntegrationID string `json:"integration_id"`
					Status        string
					Message       string
				}
			}
		}
	}
	for {
		get("/api/v1/back-office/versions?store_id=st_main", &vs)
		if len(vs.Data) == 1 && len(vs.Data[0].Deliveries.POS) == 1 && vs.Data[0].Deliveries.POS[0].Status == "delivered" {
			break
		}
		if time.Now().After(deadline.Add(time.Minute)) {
			t.Fatalf("the demo's back office version never reached its Sandbox POS: %+v", vs.Data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := vs.Data[0].Deliveries.POS[0]; d.IntegrationID != ints.Data[0].ID || !strings.Contains(d.Message, "already right") || strings.Contains(d.Message, "not found") {
		t.Fatalf("the demo's version at its Sandbox POS: %+v", d)
	}
	get("/api/v1/back-office/versions?store_id=main", &vs)
	if len(vs.Data) != 0 {
		t.Fatalf("the demo still has a back office store \"main\": %+v", vs.Data)
	}
}

func TestAccountCreateJSON(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		var out, errOut bytes.Buffer
		e := map[string]string{"POSBRIDGE_DATA_DIR": db.DataDir, "POSBRIDGE_DATABASE_URL": db.DatabaseURL}
		err := run(context.Background(), []string{"account", "create", "--name", "Velo Werk", "--admin-email", "Anna@Velo.test", "--json"}, env(e), &out, &errOut)
		if err != nil {
			t.Fatalf("account create: %v %s", err, errOut.String())
		}
		var got map[string]string
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("not one JSON object: %q", out.String())
		}
		if !strings.HasPrefix(got["account_id"], "acct_") || got["admin_email"] != "anna@velo.test" ||
			len(got["admin_password"]) < 12 || !strings.HasPrefix(got["api_key"], "pbk_") {
			t.Fatalf("account create answered %v", got)
		}
		// The same email twice is refused with a clear error.
		err = run(context.Background(), []string{"account", "create", "--name", "X", "--admin-email", "anna@velo.test"}, env(e), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "email") {
			t.Fatalf("duplicate admin email: %v", err)
		}
	})
}

func TestMigrateAndVersion(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", t.TempDir()}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("migrate said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, env(nil), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "posbridge ") {
		t.Fatalf("version: %q %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"nope"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestSimCommand: `posbridge sim <provider>` prints one JSON line whose credentials list the
// simulator's catalog with a plain HTTP client, for every provider.
func TestSimCommand(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	paths := map[string]func(info map[string]any) (*http.Request, error){
		"square": func(info map[string]any) (*http.Request, error) {
			req, err := http.NewRequest("GET", info["base_url"].(string)+"/v2/catalog/list?types=ITEM", nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+info["credentials"].(map[string]any)["access_token"].(string))
			}
			return req, err
		},
		"woocommerce": func(info map[string]any) (*http.Request, error) {
			c := info["credentials"].(map[string]any)
			req, err := http.NewRequest("GET", info["base_url"].(string)+"/wp-json/wc/v3/products", nil)
			if err == nil {
				// A plain-HTTP store takes OAuth 1.0a signatures, not Basic auth.
				woocommerce.SignOAuth(req, c["consumer_key"].(string), c["consumer_secret"].(string), time.Now())
			}
			return req, err
		},
		"shopify": func(info map[string]any) (*http.Request, error) {
			req, err := http.NewRequest("GET", info["base_url"].(string)+"/admin/api/2025-10/products.json", nil)
			if err == nil {
				req.Header.Set("X-Shopify-Access-Token", info["credentials"].(map[string]any)["access_token"].(string))
			}
			return req, err
		},
		"lightspeed": func(info map[string]any) (*http.Request, error) {
			req, err := http.NewRequest("GET", info["base_url"].(string)+"/api/2.0/products", nil)
			if err == nil {
				req.Header.Set("Authorization", "Bearer "+info["credentials"].(map[string]any)["token"].(string))
			}
			return req, err
		},
	}
	for typ, mk := range paths {
		t.Run(typ, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out lockedBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"sim", typ, "--addr", "127.0.0.1:0", "--seed-products", "7"}, env(nil), &out, io.Discard)
			}()
			var info map[string]any
			waitUntil(t, "the sim's JSON line", 10*time.Second, func() bool {
				return json.Unmarshal([]byte(out.String()), &info) == nil
			})
			req, err := mk(info)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || len(body) < 100 {
				t.Fatalf("%s list: %d %s", typ, res.StatusCode, body[:min(len(body), 300)])
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("sim ended with %v", err)
			}
		})
	}
}
