package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/app"
)

// TestRetentionFlags: the --retention-* flags and their environment twins take Go durations
// and days, default to 30 and 365 days, and refuse what is not a positive duration.
func TestRetentionFlags(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	parse := func(args []string, envs map[string]string) (app.Config, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		s := settings{fs, env(envs)}
		var cfg app.Config
		envErr := s.window(&cfg.Retention.WebhookEvents, "retention-webhook-events", 30*24*time.Hour, "")
		if err := s.window(&cfg.Retention.Timeline, "retention-timeline", 365*24*time.Hour, ""); err != nil && envErr == nil {
			envErr = err
		}
		if err := fs.Parse(args); err != nil {
			return cfg, err
		}
		return cfg, envErr
	}
	cfg, err := parse(nil, nil)
	if err != nil || cfg.Retention.WebhookEvents != 720*time.Hour || cfg.Retention.Timeline != 8760*time.Hour {
		t.Fatalf("defaults: %+v %v", cfg.Retention, err)
	}
	cfg, err = parse([]string{"--retention-webhook-events", "7d", "--retention-timeline=36h"}, nil)
	if err != nil || cfg.Retention.WebhookEvents != 7*24*time.Hour || cfg.Retention.Timeline != 36*time.Hour {
		t.Fatalf("flags: %+v %v", cfg.Retention, err)
	}
	cfg, err = parse(nil, map[string]string{"POSBRIDGE_RETENTION_TIMELINE": "2d12h"})
	if err != nil || cfg.Retention.Timeline != 60*time.Hour {
		t.Fatalf("environment: %+v %v", cfg.Retention, err)
	}
	if _, err := parse([]string{"--retention-timeline", "0"}, nil); err == nil || !strings.Contains(err.Error(), "retention-timeline") {
		t.Fatalf("a zero window: %v", err)
	}
	if _, err := parse(nil, map[string]string{"POSBRIDGE_RETENTION_WEBHOOK_EVENTS": "a month"}); err == nil ||
		!strings.Contains(err.Error(), "POSBRIDGE_RETENTION_WEBHOOK_EVENTS") {
		t.Fatalf("a bad environment value: %v", err)
	}

	// serve refuses them before it opens anything.
	dir := t.TempDir()
	err = run(context.Background(), []string{"serve", "--retention-sync-history", "-1d", "--data-dir", dir}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "retention-sync-history") {
		t.Fatalf("serve with a negative window: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--data-dir", dir}, env(map[string]string{"POSBRIDGE_RETENTION_DELIVERIES": "soon"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "POSBRIDGE_RETENTION_DELIVERIES") {
		t.Fatalf("serve with a bad environment window: %v", err)
	}
}
