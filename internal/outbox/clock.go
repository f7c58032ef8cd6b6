package outbox

import "time"

// SetClock replaces the clock every timestamp of this service comes from (default time.Now);
// tests move time with it (retention of history).
func (o *Outbox) SetClock(now func() time.Time) {
	if now != nil {
		o.now = now
	}
}
