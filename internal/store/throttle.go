package store

import (
	"context"
	"fmt"
	"time"
)

// LoginLimit is one counter a login attempt is claimed against: Key names what is counted
// ("email:a@b.example", "addr:203.0.113.9"), Max the attempts allowed in one window.
type LoginLimit struct {
	Key string
	Max int
}

// claimLoginSQL counts one attempt on a key in a single atomic statement: a window that ended
// starts again at 1; a full window stays at Max+1 (refused attempts do not push numbers up);
// otherwise the count goes up by one. The row lock of the upsert orders concurrent claims, so
// exactly Max of any number of concurrent attempts get through.
const claimLoginSQL = `INSERT INTO login_throttle (key, window_start, attempts) VALUES ($1, $2, 1)
ON CONFLICT (key) DO UPDATE SET
  attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1
                  WHEN login_throttle.attempts > $4 THEN login_throttle.attempts
                  ELSE login_throttle.attempts + 1 END,
  window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 ELSE login_throttle.window_start END
RETURNING attempts, window_start`

// ClaimLoginAttempt counts one login attempt against each limit, in order, before the password
// is checked. It returns 0 when the attempt may go on, or how long until the refusing window
// ends. A refused attempt does not count: the claims already made on earlier limits are given
// back, so a client held back by one counter (an email's) does not use up another (its
// address's). Counts live in the database, so every process sharing it shares the limits.
func (s queries) ClaimLoginAttempt(ctx context.Context, limits []LoginLimit, window time.Duration, now time.Time) (time.Duration, error) {
	for i, l := range limits {
		var attempts, start int64
		err := s.q.queryRow(ctx, claimLoginSQL, l.Key, micros(now), micros(now.Add(-window)), l.Max).Scan(&attempts, &start)
		if err != nil {
			return 0, fmt.Errorf("claim login attempt: %w", err)
		}
		if attempts <= int64(l.Max) {
			continue
		}
		keys := make([]string, i)
		for j := range keys {
			keys[j] = limits[j].Key
		}
		if err := s.giveBack(ctx, keys); err != nil {
			return 0, err
		}
		wait := fromMicros(start).Add(window).Sub(now)
		if wait < time.Second {
			wait = time.Second
		}
		return wait, nil
	}
	return 0, nil
}

func (s queries) giveBack(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	steps := make([]step, len(keys))
	for i, k := range keys {
		steps[i] = step{q: `UPDATE login_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0`, args: []any{k}}
	}
	if err := s.q.batch(ctx, steps); err != nil {
		return fmt.Errorf("give back login attempts: %w", err)
	}
	return nil
}

// LoginSucceeded clears the counter of the keys whose failures a successful login forgives
// (the account's), and gives back the attempt claimed on the others (the address's), so only
// failures count there.
func (s queries) LoginSucceeded(ctx context.Context, clear, giveBack []string) error {
	steps := make([]step, 0, len(clear))
	for _, k := range clear {
		steps = append(steps, step{q: `DELETE FROM login_throttle WHERE key = $1`, args: []any{k}})
	}
	if err := s.q.batch(ctx, steps); err != nil {
		return fmt.Errorf("record successful login: %w", err)
	}
	return s.giveBack(ctx, giveBack)
}

// PruneLoginThrottle deletes counters whose window ended before cutoff.
func (s queries) PruneLoginThrottle(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.q.exec(ctx, `DELETE FROM login_throttle WHERE window_start <= $1`, micros(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune login throttle: %w", err)
	}
	return n, nil
}
