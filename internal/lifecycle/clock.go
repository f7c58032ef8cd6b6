package lifecycle

import "time"

// SetClock replaces the clock every timestamp of this service comes from (default time.Now);
// tests move time with it (retention of history).
func (s *Service) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
		s.conns.SetClock(now)
	}
}
