package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestWorkersReachServerByPublicURL: `serve --no-workers` and two `worker` processes given only
// --public-url (no --addr) on one PostgreSQL. The workers call the demo's Sandbox POS at the
// public URL, so its check succeeds; before, they called 127.0.0.1:8080 and every check failed.
// A worker that cannot reach the server says so at start.
func TestWorkersReachServerByPublicURL(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	db := testdb.Postgres(t)
	addr := freeAddr(t)
	public := "http://" + addr
	e := env(map[string]string{"POSBRIDGE_DATA_DIR": db.DataDir, "POSBRIDGE_DATABASE_URL": db.DatabaseURL})
	ctx, cancel := context.WithCancel(context.Background())
	type proc struct {
		name           string
		stdout, stderr lockedBuffer
		done           chan error
	}
	var procs []*proc
	start := func(name string, args ...string) *proc {
		p := &proc{name: name, done: make(chan error, 1)}
		procs = append(procs, p)
		go func() { p.done <- run(ctx, args, e, &p.stdout, &p.stderr) }()
		return p
	}
	defer func() {
		cancel()
		for _, p := range procs {
			select {
			case err := <-p.done:
				if err != nil {
					t.Errorf("%s ended with %v", p.name, err)
				}
			case <-time.After(patience):
				t.Errorf("%s did not stop", p.name)
			}
			if t.Failed() {
				t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
			}
		}
	}()
	srv := start("serve", "serve", "--no-workers", "--demo", "--addr", addr, "--public-url", public)
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	var key string
	for deadline := time.Now().Add(patience); key == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := keyRe.FindStringSubmatch(srv.stdout.String()); m != nil {
			key = m[1]
		}
	}
	if key == "" {
		t.Fatalf("no API key printed: %s", srv.stderr.String())
	}
	w1 := start("worker 1", "worker", "--public-url", public)
	start("worker 2", "worker", "--public-url", public)

	deadline := time.Now().Add(patience)
	for {
		req, _ := http.NewRequest("GET", public+"/api/v1/integrations", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		var body struct {
			Data []struct {
				Type         string `json:"type"`
				Status       string `json:"status"`
				StatusReason string `json:"status_reason"`
			}
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			json.NewDecoder(res.Body).Decode(&body)
			res.Body.Close()
		}
		if len(body.Data) == 1 && body.Data[0].Status == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo Sandbox POS is not healthy with workers given --public-url only: %+v", body.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Worker 2 may have done all the work; worker 1 says whether it reaches the server once it has looked.
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		out := w1.stderr.String()
		if strings.Contains(out, "reaches the serving process") || strings.Contains(out, "cannot reach the serving process") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(w1.stderr.String(), `reaches the serving process" server=`+public) || strings.Contains(w1.stderr.String(), "cannot reach the serving process") {
		t.Fatalf("worker 1 does not say it reaches the server at %s:\n%s", public, w1.stderr.String())
	}
	// Started after the check, so it takes no job of the others.
	lost := start("worker without a way to the server", "worker", "--public-url", "http://"+freeAddr(t), "--max-workers", "1")
	for deadline := time.Now().Add(patience); !strings.Contains(lost.stderr.String(), "cannot reach the serving process"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a worker that cannot reach the server does not say so:\n%s", lost.stderr.String())
		}
	}
}
