package domain

import (
	"fmt"
	"strings"
	"time"
)

// Status is where an integration stands in its life.
type Status string

// The statuses of an integration.
const (
	StatusInitializing Status = "initializing" // just added or resumed; credentials not yet verified
	StatusHealthy      Status = "healthy"      // "Enabled and running": the last provider call succeeded
	StatusFailed       Status = "failed"       // the last provider call failed; the next success heals it
	StatusCalledOff    Status = "called_off"   // halted: too many failures or rejected credentials
	StatusInactive     Status = "inactive"     // deactivated by the merchant; no work at all
)

// Active tells whether the integration counts as active (listed under the active ones).
func (s Status) Active() bool { return s != StatusInactive }

// Scheduled tells whether background work (checks, syncs) runs for the integration.
func (s Status) Scheduled() bool {
	return s == StatusInitializing || s == StatusHealthy || s == StatusFailed
}

// DefaultCallOffAfter is how many consecutive failures call an integration off.
const DefaultCallOffAfter = 5

// Integration is one connection of an account to a point-of-sale system.
// Credentials are held encrypted by the store and never appear here.
type Integration struct {
	ID                   string
	AccountID            string
	Type                 string
	Nickname             string
	Status               Status
	StatusReason         string
	ConsecutiveFailures  int
	StoreID              string
	LastCheckAt          *time.Time
	LastSuccessAt        *time.Time
	LastSalesCheckAt     *time.Time
	LastSaleImportedAt   *time.Time
	SalesIntervalMinutes int // how often sales are fetched (default 360: every 6 hours)
	NextCheckAt          *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	DeactivatedAt        *time.Time
}

// Label is how people see the integration: its type, and its nickname when it has one.
func (i *Integration) Label(displayName string) string {
	if i.Nickname != "" {
		return fmt.Sprintf("%s (%s)", displayName, i.Nickname)
	}
	return displayName
}

// CheckOutcome is the result of one call to the provider on behalf of an integration.
type CheckOutcome struct {
	OK                  bool
	CredentialsRejected bool   // the provider refused the credentials (401/403): call off at once
	Message             string // the provider's own words on failure
}

// Transition is a change of status, for the timeline, metrics and notifications.
type Transition struct {
	From, To Status
	Reason   string
}

// ApplyCheck moves the status machine by one provider call's outcome:
// success -> healthy (failures back to 0); failure -> failed, counting up, and called_off once
// callOffAfter consecutive failures are reached or at once when credentials are rejected.
// It returns the transition, or nil when the status stayed the same.
func (i *Integration) ApplyCheck(o CheckOutcome, callOffAfter int, now time.Time) *Transition {
	if callOffAfter < 1 {
		callOffAfter = DefaultCallOffAfter
	}
	from := i.Status
	i.LastCheckAt = &now
	if o.OK {
		i.ConsecutiveFailures = 0
		i.LastSuccessAt = &now
		i.Status, i.StatusReason = StatusHealthy, ""
	} else {
		i.ConsecutiveFailures++
		switch {
		case o.CredentialsRejected:
			i.Status = StatusCalledOff
			i.StatusReason = "The POS rejected the credentials: " + o.Message
		case i.ConsecutiveFailures >= callOffAfter:
			i.Status = StatusCalledOff
			i.StatusReason = fmt.Sprintf("Called off after %d consecutive failures; last: %s", i.ConsecutiveFailures, o.Message)
		default:
			i.Status = StatusFailed
			i.StatusReason = o.Message
		}
	}
	if i.Status == from {
		return nil
	}
	return &Transition{From: from, To: i.Status, Reason: i.StatusReason}
}

// Deactivate stops all future work; every record stays.
func (i *Integration) Deactivate(now time.Time) (*Transition, error) {
	if i.Status == StatusInactive {
		return nil, Errorf(CodeInactive, "integration %s is already inactive", i.ID)
	}
	from := i.Status
	i.Status, i.StatusReason, i.DeactivatedAt, i.NextCheckAt = StatusInactive, "Deactivated", &now, nil
	return &Transition{From: from, To: StatusInactive, Reason: i.StatusReason}, nil
}

// Restore brings an inactive integration back; it verifies its credentials again first.
func (i *Integration) Restore() (*Transition, error) {
	if i.Status != StatusInactive {
		return nil, Errorf(CodeConflict, "integration %s is not inactive", i.ID)
	}
	return i.restart("Restored"), nil
}

// Resume brings a called-off integration back to initializing.
func (i *Integration) Resume() (*Transition, error) {
	if i.Status != StatusCalledOff {
		return nil, Errorf(CodeConflict, "integration %s is %s, not called_off", i.ID, i.Status)
	}
	return i.restart("Resumed"), nil
}

func (i *Integration) restart(reason string) *Transition {
	from := i.Status
	i.Status, i.StatusReason, i.ConsecutiveFailures, i.DeactivatedAt = StatusInitializing, reason, 0, nil
	return &Transition{From: from, To: StatusInitializing, Reason: reason}
}

// CheckAllowed answers why a manual check may not run now, or nil when it may.
func (i *Integration) CheckAllowed() error {
	switch i.Status {
	case StatusCalledOff:
		return &Error{Code: CodeCalledOff, Message: "the integration is called off; resume it first"}
	case StatusInactive:
		return &Error{Code: CodeInactive, Message: "the integration is inactive; restore it first"}
	}
	return nil
}

// ValidateNickname trims and checks a nickname.
func ValidateNickname(s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := CheckText("nickname", s, TextNickname); err != nil {
		return "", err
	}
	return s, nil
}

// Store is a store, outlet or location of a POS that orders can go to.
type Store struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency,omitempty"`
}
