package connector

import (
	"context"
	"errors"
	"testing"
	"time"
)

// tiny is a backoff that keeps the tests quick without any assertion on time.
var tiny = Backoff{First: time.Microsecond, Max: time.Millisecond}

// failing answers errs in turn, then nil, and counts its calls.
func failing(errs ...error) (func() error, *int) {
	n := 0
	return func() error {
		n++
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &n
}

func temporary() error { return &Error{Kind: KindTemporary, Status: 503, Message: "down"} }

// TestRetryRepeatsTemporaryFailures: 5xx-like failures go again up to Retries times, and the
// last one is returned as it is once they are spent.
func TestRetryRepeatsTemporaryFailures(t *testing.T) {
	ctx := context.Background()
	attempt, n := failing(temporary(), temporary())
	if err := (Retry{Backoff: tiny, Retries: 2}).Do(ctx, attempt); err != nil || *n != 3 {
		t.Fatalf("two failures within two retries: err %v after %d attempts", err, *n)
	}
	last := &Error{Kind: KindTemporary, Status: 502, Message: "the last"}
	attempt, n = failing(temporary(), temporary(), last)
	err := (Retry{Backoff: tiny, Retries: 2}).Do(ctx, attempt)
	if err != last || *n != 3 {
		t.Fatalf("three failures, two retries: err %v after %d attempts", err, *n)
	}
}

// TestRetryUnsafeAndFinalKinds: an unsafe call is not repeated after a temporary failure, and
// refusals (credentials, invalid, not found, conflict) are never repeated.
func TestRetryUnsafeAndFinalKinds(t *testing.T) {
	ctx := context.Background()
	attempt, n := failing(temporary())
	if err := (Retry{Backoff: tiny, Retries: 3, Unsafe: true}).Do(ctx, attempt); KindOf(err) != KindTemporary || *n != 1 {
		t.Fatalf("unsafe: err %v after %d attempts", err, *n)
	}
	for _, k := range []Kind{KindCredentials, KindInvalid, KindNotFound, KindConflict, KindUnsupported} {
		attempt, n := failing(&Error{Kind: k})
		if err := (Retry{Backoff: tiny, Retries: 3, Waits: 3}).Do(ctx, attempt); KindOf(err) != k || *n != 1 {
			t.Fatalf("%s: err %v after %d attempts", k, err, *n)
		}
	}
}

// TestRetryStop: an error of Stop ends the retries at once and comes back unwrapped.
func TestRetryStop(t *testing.T) {
	inner := temporary()
	attempt, n := failing(Stop(inner))
	if err := (Retry{Backoff: tiny, Retries: 3}).Do(context.Background(), attempt); err != inner || *n != 1 {
		t.Fatalf("err %v after %d attempts", err, *n)
	}
}

// TestRetryWaitsOutRateLimits: a 429 is waited out without counting as a failure (an unsafe
// call too), up to Waits times; a 429 without a Retry-After gets the backoff's wait, and the
// error returned once the waits are spent says how long to wait.
func TestRetryWaitsOutRateLimits(t *testing.T) {
	ctx := context.Background()
	limited := func() error { return &Error{Kind: KindRateLimited, Status: 429} }
	attempt, n := failing(limited(), limited(), temporary())
	if err := (Retry{Backoff: tiny, Waits: 2, Retries: 1, Limiter: NewLimiter(1e6, 1)}).Do(ctx, attempt); err != nil || *n != 4 {
		t.Fatalf("two 429s and a 503: err %v after %d attempts", err, *n)
	}
	attempt, n = failing(limited())
	if err := (Retry{Backoff: tiny, Waits: 1, Unsafe: true}).Do(ctx, attempt); err != nil || *n != 2 {
		t.Fatalf("unsafe call, one 429: err %v after %d attempts", err, *n)
	}
	attempt, n = failing(limited(), limited(), limited())
	err := (Retry{Backoff: tiny, Waits: 2}).Do(ctx, attempt)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindRateLimited || e.RetryAfter <= 0 || *n != 3 {
		t.Fatalf("three 429s, two waits: err %v (RetryAfter %v) after %d attempts", err, e, *n)
	}
}

// TestRetryRateLimitPausesTheLimiter: the provider's Retry-After holds every call through the
// shared limiter, so a worker bounded by WithMaxWait is told to snooze (a *PacedError) rather
// than sleep, and a second call on the same limiter is held too.
func TestRetryRateLimitPausesTheLimiter(t *testing.T) {
	lim := NewLimiter(1e6, 1)
	ctx := WithMaxWait(context.Background(), time.Second)
	attempt, n := failing(&Error{Kind: KindRateLimited, Status: 429, RetryAfter: time.Hour})
	err := (Retry{Backoff: tiny, Waits: 5, Limiter: lim}).Do(ctx, attempt)
	var paced *PacedError
	if !errors.As(err, &paced) || paced.Wait <= time.Second || *n != 1 {
		t.Fatalf("err %v after %d attempts, want a *PacedError before a second attempt", err, *n)
	}
	other, m := failing()
	if err := (Retry{Limiter: lim}).Do(ctx, other); !errors.As(err, &paced) || *m != 0 {
		t.Fatalf("another call on the paused limiter: err %v after %d attempts", err, *m)
	}
}

// TestRetryEndsWithContext: a done context ends the retries with the attempt's error.
func TestRetryEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	want := temporary()
	n := 0
	err := (Retry{Backoff: Backoff{First: time.Hour, Max: time.Hour}, Retries: 5}).Do(ctx, func() error {
		n++
		cancel()
		return want
	})
	if err != want || n != 1 {
		t.Fatalf("err %v after %d attempts", err, n)
	}
}
