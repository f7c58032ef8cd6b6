package domain

import "time"

// CircuitState is where an integration's circuit breaker stands.
type CircuitState string

// Circuit states: calls go out (closed), are held back until NextAttemptAt (open), or one trial
// call is out to see whether the POS answers again (half_open).
const (
	CircuitClosed   CircuitState = "closed"
	CircuitOpen     CircuitState = "open"
	CircuitHalfOpen CircuitState = "half_open"
)

// Why a circuit opened.
const (
	CircuitReasonTimeout     = "timeout"      // the POS did not answer in time
	CircuitReasonServerError = "server_error" // the POS answered 5xx
	CircuitReasonConnection  = "connection"   // no connection could be made
)

// Timeline entry kinds of the circuit breaker.
const (
	KindCircuitOpened = "integration.circuit_opened"
	KindCircuitClosed = "integration.circuit_closed"
)

// Circuit is the breaker of one integration's provider calls, shared by every worker process.
// The zero value (with the ids set) is a closed circuit.
type Circuit struct {
	AccountID           string
	IntegrationID       string
	State               CircuitState
	Reason              string // CircuitReason*, "" when closed
	Message             string // a sentence for the merchant
	ConsecutiveFailures int
	OpenedAt            *time.Time
	NextAttemptAt       *time.Time    // open: when a trial call may go; half_open: when the trial's claim runs out
	OpenFor             time.Duration // the length of the current (or last) open period; doubles after a failed trial
	UpdatedAt           time.Time
}
