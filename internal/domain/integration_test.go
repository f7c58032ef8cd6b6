package domain

import (
	"testing"
	"time"
)

func TestApplyCheck(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	i := &Integration{ID: "int_1", Status: StatusInitializing}
	steps := []struct {
		outcome CheckOutcome
		status  Status
		fails   int
		changed bool
	}{
		{CheckOutcome{OK: true}, StatusHealthy, 0, true},
		{CheckOutcome{Message: "HTTP 500"}, StatusFailed, 1, true},
		{CheckOutcome{Message: "HTTP 500"}, StatusFailed, 2, false},
		{CheckOutcome{OK: true}, StatusHealthy, 0, true},
		{CheckOutcome{Message: "x"}, StatusFailed, 1, true},
		{CheckOutcome{Message: "x"}, StatusFailed, 2, false},
		{CheckOutcome{Message: "x"}, StatusFailed, 3, false},
		{CheckOutcome{Message: "x"}, StatusFailed, 4, false},
		{CheckOutcome{Message: "x"}, StatusCalledOff, 5, true},
	}
	for n, s := range steps {
		tr := i.ApplyCheck(s.outcome, 5, now)
		if i.Status != s.status || i.ConsecutiveFailures != s.fails || (tr != nil) != s.changed {
			t.Fatalf("step %d: status %s fails %d transition %v; want %s %d %v", n, i.Status, i.ConsecutiveFailures, tr, s.status, s.fails, s.changed)
		}
	}
	if _, err := i.Resume(); err != nil || i.Status != StatusInitializing || i.ConsecutiveFailures != 0 {
		t.Fatalf("resume: %v %s", err, i.Status)
	}
	if tr := i.ApplyCheck(CheckOutcome{CredentialsRejected: true, Message: "Invalid API key"}, 5, now); tr == nil || i.Status != StatusCalledOff {
		t.Fatalf("rejected credentials should call off at once, got %s", i.Status)
	}
	if err := i.CheckAllowed(); !IsCode(err, CodeCalledOff) {
		t.Fatalf("check on called off: %v", err)
	}
	if _, err := i.Deactivate(now); err != nil || i.Status != StatusInactive || i.DeactivatedAt == nil {
		t.Fatalf("deactivate: %v", err)
	}
	if err := i.CheckAllowed(); !IsCode(err, CodeInactive) {
		t.Fatalf("check on inactive: %v", err)
	}
	if _, err := i.Resume(); err == nil {
		t.Fatal("resume of an inactive integration should be refused")
	}
	if _, err := i.Restore(); err != nil || i.Status != StatusInitializing || i.DeactivatedAt != nil {
		t.Fatalf("restore: %v", err)
	}
}

func TestValidateNickname(t *testing.T) {
	if n, err := ValidateNickname("  Bar  "); err != nil || n != "Bar" {
		t.Fatalf("%q %v", n, err)
	}
	long := make([]rune, 61)
	for i := range long {
		long[i] = 'é'
	}
	if _, err := ValidateNickname(string(long)); !IsCode(err, CodeInvalid) {
		t.Fatalf("61 characters accepted: %v", err)
	}
}
