package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCrashServeExactlyOnce kills the whole product: ONE `posbridge serve` process (API, River
// workers and the in-process Sandbox POS together) is SIGKILLed three times while 16 clients PUT
// 2,000 invoices through the REST API, and restarted each time; the clients send again every PUT
// that got no answer, and after each of two restarts 50 invoices that were answered just before
// the kill are edited. Afterwards every document is synced, the Sandbox POS holds exactly one
// order per document, and every document's external_id is an order that carries the document's
// own reference and its latest total, on SQLite and PostgreSQL.
//
// The kill points: when 25% of the first writes were answered; one second after the first
// restart answers (the restarted process is recovering: jobs the dead one ran are not yet
// rescued, their documents still leased); when 75% were answered.
func TestCrashServeExactlyOnce(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	bin := buildPosbridge(t)
	testdb.Each(t, func(t *testing.T, db testdb.Target) { crashServe(t, bin, db, 2000) })
}

// buildPosbridge builds the binary once for the package (without -race, as it ships), so that
// the killed process is posbridge itself; the crash tests share it.
func buildPosbridge(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		built.bin = filepath.Join(binDir, "posbridge")
		built.out, built.err = exec.Command(goBin, "build", "-o", built.bin, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

var built struct {
	once sync.Once
	bin  string
	out  []byte
	err  error
}

// serveProc is the one serve process, started again after every kill.
type serveProc struct {
	t    *testing.T
	bin  string
	args []string
	base string
	cur  *child
	logs []*child // every process run, for the transcript on failure
}

func (p *serveProc) start() {
	p.t.Helper()
	p.cur = startCmd(p.t, exec.Command(p.bin, p.args...))
	p.logs = append(p.logs, p.cur)
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

func (p *serveProc) transcript() string {
	var b strings.Builder
	for i, c := range p.logs {
		fmt.Fprintf(&b, "--- serve run %d stdout:\n%s\n--- stderr:\n%s\n", i+1, c.stdout.String(), c.stderr.String())
	}
	return b.String()
}

// crashClient is one of the app's HTTP clients; it sends a PUT again until it is answered.
type crashClient struct {
	base, key string
	hc        *http.Client
	resent    *atomic.Int64
}

// put sends the document until posbridge answers 200 or 201. A PUT that gets no answer (the
// process is dead or dying) or a 5xx is sent again, as an app would.
func (c crashClient) put(ref string, body []byte) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, _ := http.NewRequest("PUT", c.base+"/api/v1/documents/invoice/"+ref, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			switch {
			case res.StatusCode == 200 || res.StatusCode == 201:
				return nil
			case res.StatusCode < 500:
				return fmt.Errorf("PUT %s: HTTP %d %s", ref, res.StatusCode, b)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PUT %s: no answer for 3 minutes: %v", ref, err)
		}
		c.resent.Add(1)
		time.Sleep(100 * time.Millisecond)
	}
}

func (c crashClient) getJSON(path, bearer string, out any) int {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := c.hc.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 && out != nil {
		if json.Unmarshal(b, out) != nil {
			return 0
		}
	}
	return res.StatusCode
}

func (c crashClient) postJSON(path string, body, out any) (int, []byte) {
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(j))
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode < 300 && out != nil {
		json.Unmarshal(b, out) //nolint:errcheck // checked by the caller through out
	}
	return res.StatusCode, b
}

// crashInvoice is invoice n's body: one line of 10.00 + n cents, and after an edit a second line.
func crashInvoice(n int, edited bool) (body []byte, total int64) {
	lines := []map[string]any{{"description": "Service", "quantity": "1", "unit_price": map[string]any{"amount": 1000 + n, "currency": "EUR"}}}
	total = int64(1000 + n)
	if edited {
		lines = append(lines, map[string]any{"description": "Chain", "quantity": "1", "unit_price": map[string]any{"amount": 500, "currency": "EUR"}})
		total += 500
	}
	b, _ := json.Marshal(map[string]any{"status": "issued", "lines": lines})
	return b, total
}

func crashServe(t *testing.T, bin string, db testdb.Target, docs int) {
	started := time.Now()
	addr := freeAddr(t)
	args := []string{"serve", "--addr", addr, "--data-dir", db.DataDir, "--secret-key", strings.Repeat("cd", 32),
		"--allow-private-provider-hosts", "--job-rescue-after", "5s", "--document-lease", "3s", "--log-level", "warn"}
	if db.DatabaseURL != "" {
		args = append(args, "--database-url", db.DatabaseURL)
	}
	p := &serveProc{t: t, bin: bin, args: args, base: "http://" + addr}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(p.transcript())
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
	var resent atomic.Int64
	c := crashClient{base: p.base, key: key, resent: &resent,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}

	// The Sandbox POS tenant, minted by the server for the account.
	var tenant struct {
		APIKey string `json:"api_key"`
	}
	if code, b := c.postJSON("/sandbox/admin/tenants", map[string]any{}, &tenant); code != 201 || tenant.APIKey == "" {
		t.Fatalf("mint a sandbox: %d %s", code, b)
	}
	sbx := tenant.APIKey
	var in struct{ ID, Status string }
	if code, b := c.postJSON("/api/v1/integrations", map[string]any{"type": "sandbox", "credentials": map[string]string{"api_key": sbx}}, &in); code != 201 {
		t.Fatalf("add the Sandbox POS: %d %s", code, b)
	}
	waitUntil(t, "integration healthy", 60*time.Second, func() bool {
		c.getJSON("/api/v1/integrations/"+in.ID, key, &in)
		return in.Status == "healthy"
	})
	req, _ := http.NewRequest("PUT", p.base+"/api/v1/order-sync", strings.NewReader(fmt.Sprintf(`{"integration_id":%q,"auto_sync":true}`, in.ID)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if res, err := c.hc.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("order sync settings: %v %v", err, res)
	} else {
		res.Body.Close()
	}

	st, err := store.Open(context.Background(), store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accountID, err := st.AccountByAPIKeyHash(context.Background(), auth.HashToken(key))
	if err != nil {
		t.Fatal(err)
	}
	count := func(s domain.SyncStatus) int {
		n, err := st.CountDocumentsBySync(context.Background(), accountID, s)
		if err != nil {
			t.Fatalf("count %s: %v", s, err)
		}
		return n
	}

	// The writers: 16 clients, each document's first write sent until it is answered.
	var (
		next, answered atomic.Int64
		mu             sync.Mutex
		order          []int             // answered first writes, in answer order
		want           = map[int]int64{} // the total each document must end with
		writers, edits sync.WaitGroup
		writeErr       = make(chan error, 64)
	)
	for w := 0; w < 16; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for {
				n := int(next.Add(1))
				if n > docs {
					return
				}
				body, total := crashInvoice(n, false)
				mu.Lock()
				want[n] = total
				mu.Unlock()
				if err := c.put(fmt.Sprintf("CR-%05d", n), body); err != nil {
					writeErr <- err
					return
				}
				mu.Lock()
				order = append(order, n)
				mu.Unlock()
				answered.Add(1)
			}
		}()
	}
	// edit changes the 50 documents answered last before a kill, the ones most likely to have
	// been mid-push then; sequential, so that one document's edits keep their order.
	edited := 0
	edit := func() {
		mu.Lock()
		var ns []int
		for i := len(order) - 1; i >= 0 && len(ns) < 50; i-- {
			ns = append(ns, order[i])
		}
		for _, n := range ns {
			_, want[n] = crashInvoice(n, true)
		}
		mu.Unlock()
		edited += len(ns)
		edits.Add(1)
		go func() {
			defer edits.Done()
			for _, n := range ns {
				body, _ := crashInvoice(n, true)
				if err := c.put(fmt.Sprintf("CR-%05d", n), body); err != nil {
					writeErr <- err
					return
				}
			}
		}()
	}
	type killPoint struct {
		what             string
		answered, synced int
	}
	var kills []killPoint
	kill := func(what string) {
		p.cur.kill(t)
		kills = append(kills, killPoint{what, int(answered.Load()), count(domain.SyncSynced)})
	}
	waitAnswered := func(n int) {
		waitUntil(t, fmt.Sprintf("%d answered writes", n), 120*time.Second, func() bool {
			select {
			case err := <-writeErr:
				t.Fatal(err)
			default:
			}
			return answered.Load() >= int64(n)
		})
	}

	waitAnswered(docs / 4)
	kill(fmt.Sprintf("at %d%% of the writes answered", 25))
	edit()
	p.start()
	time.Sleep(time.Second) // kill 2 is at a wall-clock point on purpose: one second into recovery
	kill("1 s after the restart answered")
	p.start()
	waitAnswered(docs * 3 / 4)
	kill(fmt.Sprintf("at %d%% of the writes answered", 75))
	edit()
	p.start()
	writers.Wait()
	edits.Wait()
	close(writeErr)
	for err := range writeErr {
		t.Fatal(err)
	}
	for i, k := range kills {
		t.Logf("kill %d (%s): %d of %d first writes answered, %d documents synced", i+1, k.what, k.answered, docs, k.synced)
		if k.synced >= docs {
			t.Fatalf("kill %d came after all work was done: make the test harder", i+1)
		}
	}
	writesDone := time.Since(started)

	var last map[domain.SyncStatus]int
	counts := func() map[domain.SyncStatus]int {
		m := map[domain.SyncStatus]int{}
		for _, s := range []domain.SyncStatus{domain.SyncNotSent, domain.SyncPending, domain.SyncSyncing, domain.SyncSynced, domain.SyncFailed} {
			m[s] = count(s)
		}
		return m
	}
	// Wait until every document is synced, or until nothing changed for 45 s (longer than River
	// takes to rescue a dead process's jobs); then check what there is either way.
	deadline, still, stillSince := time.Now().Add(4*time.Minute), "", time.Now()
	for {
		last = counts()
		if last[domain.SyncSynced] == docs {
			break
		}
		if now := fmt.Sprint(last); now != still {
			still, stillSince = now, time.Now()
		}
		if time.Now().After(deadline) || time.Since(stillSince) > 45*time.Second {
			failed, _ := st.ListDocuments(context.Background(), accountID, store.DocumentFilter{SyncStatus: domain.SyncFailed, Limit: 3})
			for _, d := range failed {
				h, _ := st.ListHistory(context.Background(), accountID, d.Kind, d.Ref, 2)
				t.Logf("failed: %s %s: %q; history %+v", d.Kind, d.Ref, d.Sync.LastError, h)
			}
			t.Errorf("not every document is synced, and nothing changed for %s: %v", time.Since(stillSince).Round(time.Second), last)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	synced := time.Since(started)

	// The check, from the documents in the database and the orders as the sandbox's API lists them.
	ds, err := st.ListDocuments(context.Background(), accountID, store.DocumentFilter{Kind: domain.KindInvoice, Limit: 2 * docs})
	if err != nil {
		t.Fatal(err)
	}
	orders := map[string]struct {
		Reference string       `json:"reference"`
		State     string       `json:"state"`
		Total     domain.Money `json:"total"`
	}{}
	listed := 0
	for cursor := ""; ; {
		var page struct {
			Data []struct {
				ID        string       `json:"id"`
				Reference string       `json:"reference"`
				State     string       `json:"state"`
				Total     domain.Money `json:"total"`
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if code := c.getJSON("/sandbox/api/v1/orders?"+q.Encode(), sbx, &page); code != 200 {
			t.Fatalf("sandbox orders: HTTP %d", code)
		}
		for _, o := range page.Data {
			listed++
			orders[o.ID] = struct {
				Reference string       `json:"reference"`
				State     string       `json:"state"`
				Total     domain.Money `json:"total"`
			}{o.Reference, o.State, o.Total}
		}
		if page.NextCursor == "" || len(page.Data) == 0 {
			break
		}
		cursor = page.NextCursor
	}
	perRef := map[string]int{}
	for _, o := range orders {
		perRef[o.Reference]++
	}
	misattributed, missing, stale, shared, notSynced, failed := 0, 0, 0, 0, 0, 0
	linked := map[string]string{}
	var examples []string
	for _, d := range ds {
		if d.Sync.Status == domain.SyncFailed {
			failed++ // visible to the merchant, with the reason: counted apart
			continue
		}
		if d.Sync.Status != domain.SyncSynced || d.Sync.SyncedVersion != d.Version {
			notSynced++
		}
		if other, ok := linked[d.Sync.ExternalID]; ok {
			shared++
			examples = append(examples, fmt.Sprintf("%s and %s both on order %s", other, d.Ref, d.Sync.ExternalID))
		}
		linked[d.Sync.ExternalID] = d.Ref
		o, ok := orders[d.Sync.ExternalID]
		switch {
		case !ok:
			missing++
			examples = append(examples, fmt.Sprintf("%s -> %s, an order the sandbox does not have", d.Ref, d.Sync.ExternalID))
		case o.Reference != d.Ref:
			misattributed++
			examples = append(examples, fmt.Sprintf("%s -> %s, the order of %s", d.Ref, d.Sync.ExternalID, o.Reference))
		default:
			var n int
			fmt.Sscanf(d.Ref, "CR-%05d", &n)
			if o.Total.Amount != want[n] {
				stale++
				examples = append(examples, fmt.Sprintf("%s: order total %d, want %d", d.Ref, o.Total.Amount, want[n]))
			}
		}
	}
	sort.Strings(examples)
	if len(examples) > 10 {
		examples = examples[:10]
	}
	t.Logf("%s: %d documents, %d synced, %d failed (shown to the merchant), %d neither; %d sandbox orders for %d references; of the others %d misattributed, %d on a missing order, %d sharing an order, %d with a stale total; %d PUTs sent again, %d edits; writes done at %s, waited until %s",
		db.Name, len(ds), last[domain.SyncSynced], failed, notSynced, listed, len(perRef), misattributed, missing, shared, stale, resent.Load(), edited,
		writesDone.Round(time.Second), synced.Round(time.Second))
	if len(ds) != docs || listed != docs || len(perRef) != docs || misattributed+missing+shared+stale+notSynced+failed != 0 {
		t.Fatalf("want %d documents each on an order of its own carrying its reference and latest total; examples: %s",
			docs, strings.Join(examples, "; "))
	}
	p.cur.stop(t)
}
