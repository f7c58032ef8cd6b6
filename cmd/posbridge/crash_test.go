package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// binDir holds the posbridge binary the crash tests run and kill, built once for the package
// (buildPosbridge) and removed when the tests end.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "posbridge-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type child struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
}

// startChild starts posbridge itself (the binary as it ships, built once for the package) with
// args, a process the test may kill for real with SIGKILL.
func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	return startCmd(t, exec.Command(buildPosbridge(t), args...))
}

// startCmd starts cmd as a child that the test's end stops (SIGTERM, then SIGKILL after 20 s).
func startCmd(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	c := &child{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	args := cmd.Args
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { c.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				c.cmd.Process.Kill()
			}
		}
	})
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	c.cmd.Wait() //nolint:errcheck // killed on purpose
}

// stop ends the process as an operator would (SIGTERM) and waits for it.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the process ended badly after SIGTERM: %v\n%s", err, c.stderr.String())
		}
	case <-time.After(patience): // it stops within its own 20 s shutdown limit; a busy machine adds to it
		t.Fatalf("the process did not stop within %s of SIGTERM", patience)
	}
}

type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if res.StatusCode >= 300 {
		c.t.Logf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

// TestCrashExactlyOnce queues 2,000 documents, starts the worker process, kills it with SIGKILL
// three times while it pushes them and restarts it each time; at the end every document is synced and the
// simulator holds exactly one order per document.
func TestCrashExactlyOnce(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	db := testdb.Postgres(t)
	const docs = 2000
	addr := freeAddr(t)
	common := []string{"--database-url", db.DatabaseURL, "--data-dir", db.DataDir, "--secret-key", strings.Repeat("ab", 32),
		"--allow-private-provider-hosts", "--job-rescue-after", "5s", "--document-lease", "3s", "--log-level", "warn"}
	api := startChild(t, append([]string{"serve", "--no-workers", "--addr", addr}, common...)...)
	var key string
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	deadline := time.Now().Add(patience)
	for key == "" {
		if m := keyRe.FindStringSubmatch(api.stdout.String()); m != nil {
			key = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no API key: %s %s", api.stdout.String(), api.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := client{t: t, base: "http://" + addr, key: key}
	// The worker reaches the Sandbox POS where the API process serves it (--addr).
	workerArgs := append([]string{"worker", "--max-workers", "50", "--addr", addr}, common...)
	worker := startChild(t, workerArgs...)

	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if c.do("POST", "/sandbox/admin/tenants", map[string]any{}, &tenant) != 201 || tenant.APIKey == "" {
		t.Fatal("mint a sandbox")
	}
	var in struct{ ID, Status string }
	if c.do("POST", "/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": tenant.APIKey}}, &in) != 201 {
		t.Fatal("add integration")
	}
	waitUntil(t, "integration healthy", 60*time.Second, func() bool {
		c.do("GET", "/api/v1/integrations/"+in.ID, nil, &in)
		return in.Status == "healthy"
	})
	if c.do("PUT", "/api/v1/order-sync", map[string]any{"integration_id": in.ID, "auto_sync": true}, nil) != 200 {
		t.Fatal("order sync settings")
	}

	// Queue every document first, with no worker running (a worker pushes them faster than 8
	// clients write them, so there would be little left to kill it over), then start it.
	worker.stop(t)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > docs {
					return
				}
				body := map[string]any{"status": "issued", "lines": []map[string]any{{"description": "Service", "quantity": "1",
					"unit_price": map[string]any{"amount": 1000 + n, "currency": "EUR"}}}}
				if code := c.do("PUT", fmt.Sprintf("/api/v1/documents/invoice/INV-%05d", n), body, nil); code != 201 {
					t.Errorf("PUT INV-%05d: %d", n, code)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	worker = startChild(t, workerArgs...)

	st, err := store.Open(context.Background(), store.Config{DatabaseURL: db.DatabaseURL})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	synced := func() int {
		n, err := st.CountDocumentsBySync(context.Background(), "", domain.SyncSynced)
		if err != nil {
			t.Fatalf("count synced: %v", err)
		}
		return n
	}
	last := synced()
	for kill := 1; kill <= 3; kill++ {
		target := last + 100
		waitUntil(t, fmt.Sprintf("progress before kill %d (at %d)", kill, last), 120*time.Second, func() bool { return synced() >= target })
		worker.kill(t)
		last = synced()
		t.Logf("kill %d: SIGKILL with %d of %d synced", kill, last, docs)
		if last >= docs {
			t.Fatalf("all documents synced before kill %d: make the test harder", kill)
		}
		worker = startChild(t, workerArgs...)
	}
	waitUntil(t, "every document synced", 480*time.Second, func() bool { return synced() == docs })

	var orders []struct{ ID, Reference, State string }
	res, err := http.Get(c.base + "/sandbox/admin/orders?api_key=" + tenant.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&orders)
	res.Body.Close()
	refs := map[string]int{}
	for _, o := range orders {
		refs[o.Reference]++
	}
	if len(orders) != docs || len(refs) != docs {
		t.Fatalf("the simulator holds %d orders for %d references; want exactly %d, one per document", len(orders), len(refs), docs)
	}
}

// patience is the least a test waits for something that ends by itself (a process printing
// its key, answering, stopping; background work done): on a busy machine (CI beside other
// builds, a load average of 16 on 2 cores) what takes a second alone can take a minute. A wait
// ends as soon as its condition holds, so a generous limit costs nothing when all is well.
const patience = 3 * time.Minute

// patient is d, or patience when d is shorter: a limit that only a broken program reaches.
func patient(d time.Duration) time.Duration { return max(d, patience) }

// waitUntil polls cond until it holds; it fails after patient(d).
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	d = patient(d)
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
