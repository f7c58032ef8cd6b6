package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadmeWalkthrough runs the README's "Connect your app" blocks, as written, against a fresh
// `serve --demo`: the app's settings, its webhook endpoint, an invoice that syncs, its order
// completed in the Sandbox POS, the invoice paid, and document.updated received by the app.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the walkthrough needs %s", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Connect your app\n")
	if !ok {
		t.Fatal(`README has no "Connect your app" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var script []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		if strings.Contains(m[1], "posbridge serve") { // the start: this test starts the server itself
			continue
		}
		script = append(script, m[1])
	}
	if len(script) < 4 {
		t.Fatalf("the walkthrough has %d runnable blocks", len(script))
	}

	var mu sync.Mutex
	var got []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("webhook-signature")+" "+string(b))
		mu.Unlock()
	}))
	defer app.Close()

	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--allow-private-provider-hosts", "--addr", addr},
			env(map[string]string{"POSBRIDGE_DATA_DIR": dir}), &stdout, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(patience):
			t.Error("serve did not stop")
		}
	}()
	keyRe := regexp.MustCompile(`API key:\s+(pbk_\S+)`)
	var key string
	for deadline := time.Now().Add(2 * time.Minute); key == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := keyRe.FindStringSubmatch(stdout.String()); m != nil {
			key = m[1]
		}
	}
	if key == "" {
		t.Fatalf("no API key printed: %s", stderr.String())
	}
	// The demo's Sandbox POS is healthy first (the README's reader sees it in the console).
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("curl", "-fsS", "-H", "Authorization: Bearer "+key, "http://"+addr+"/api/v1/integrations").Output()
		if strings.Contains(string(out), `"status":"healthy"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo Sandbox POS is not healthy: %s", out)
		}
	}

	sctx, scancel := context.WithTimeout(context.Background(), 2*patience) // the README's commands, each a request or a wait
	defer scancel()
	cmd := exec.CommandContext(sctx, "bash", "-euo", "pipefail", "-c", strings.Join(script, "\n"))
	cmd.Env = append(os.Environ(), "PB=http://"+addr, "KEY="+key, "APP_HOOK="+app.URL+"/posbridge")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s\nserver log:\n%s", err, out, stderr.String())
	}
	if !regexp.MustCompile(`whsec_\S+`).Match(out) {
		t.Errorf("the walkthrough did not print the endpoint's secret:\n%s", out)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		paid := false
		for _, g := range got {
			if strings.HasPrefix(g, "v1,") && strings.Contains(g, `"document.updated"`) && strings.Contains(g, `"status":"paid"`) {
				paid = true
			}
		}
		n := len(got)
		mu.Unlock()
		if paid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app received no signed document.updated with the paid invoice (%d deliveries)", n)
		}
	}
}
