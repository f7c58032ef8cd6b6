package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// HTTPOptions bound every outbound call to a provider.
type HTTPOptions struct {
	Timeout      time.Duration // whole request, default 30s
	AllowPrivate bool          // --allow-private-provider-hosts: let merchants name loopback/private hosts
}

// DialTimeout bounds connecting to a provider and its TLS handshake, each; it is shorter than
// the read timeout (HTTPOptions.Timeout) so a POS that is down fails fast.
const DialTimeout = 5 * time.Second

// MaxResponseBytes caps any provider answer that connectors read.
const MaxResponseBytes = 16 << 20

// ErrForbiddenHost is returned when a merchant-supplied host resolves to an address
// posbridge refuses to call (loopback, private, link-local, metadata, and every IPv6 form that
// embeds or routes to IPv4; see AddrRefusal).
var ErrForbiddenHost = errors.New("provider host is not allowed: it resolves to a loopback, private, link-local or metadata address")

// NewHTTPClient returns the client connectors use: bounded time, no redirects to other hosts,
// and, unless AllowPrivate, a dialer that refuses non-public addresses after DNS resolution
// (so decimal, octal and DNS-rebinding tricks are caught at dial time).
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	// Connecting is quick or it is not happening: a POS that does not take the connection within
	// DialTimeout fails fast, well before the read timeout a slow answer is given.
	dialer := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		dialer.Control = guardControl
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: o.Timeout,
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Host != via[0].URL.Host {
				return fmt.Errorf("refusing redirect to another host %q", req.URL.Host)
			}
			return nil
		},
	}
}

func guardControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenHost, host)
	}
	if r := AddrRefusal(ip); r != "" {
		return fmt.Errorf("%w: %s is a %s", ErrForbiddenHost, ip, r)
	}
	return nil
}

// ReadBody reads at most MaxResponseBytes of a response body and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, &Error{Kind: KindTemporary, Status: resp.StatusCode, Err: fmt.Errorf("read answer: %w", err)}
	}
	if len(b) > MaxResponseBytes {
		return nil, &Error{Kind: KindInvalid, Status: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d bytes", MaxResponseBytes)}
	}
	return b, nil
}

// TransportError wraps a failed round trip (timeout, refused connection, forbidden host).
func TransportError(op string, err error) error {
	if errors.Is(err, ErrForbiddenHost) {
		return &Error{Kind: KindInvalid, Message: err.Error(), Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindTemporary, Message: op + ": the provider did not answer in time", Err: err}
	}
	return &Error{Kind: KindTemporary, Message: op + ": " + err.Error(), Err: err}
}

// Limiter paces calls to one provider account. Providers feed it what their headers say.
type Limiter struct {
	mu    sync.Mutex
	rl    *rate.Limiter
	until time.Time // no call before this time (after a 429 with Retry-After)
}

// NewLimiter allows rps calls a second with the given burst.
func NewLimiter(rps float64, burst int) *Limiter {
	return &Limiter{rl: rate.NewLimiter(rate.Limit(rps), burst)}
}

// PacedError says the integration's rate limiter would hold the call longer than the caller
// wants to wait (WithMaxWait): a worker snoozes its job for Wait instead of sleeping.
type PacedError struct{ Wait time.Duration }

func (e *PacedError) Error() string {
	return fmt.Sprintf("calls to the provider are paced; the next one may go in %s", e.Wait.Round(time.Millisecond))
}

type maxWaitKey struct{}

// WithMaxWait bounds how long Limiter.Wait may block under ctx: a longer wait is a *PacedError
// at once (background workers snooze rather than sleep; a request of a person waits).
func WithMaxWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxWaitKey{}, d)
}

// MaxWait answers the bound WithMaxWait put on ctx, if any: a provider pacing its calls by a
// measure of its own (a cost budget) answers a wait longer than it with a *PacedError too.
func MaxWait(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(maxWaitKey{}).(time.Duration)
	return d, ok
}

// Wait blocks until a call may go out, or ctx ends. When ctx carries WithMaxWait and the wait
// would be longer, it returns a *PacedError without taking a token.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	maxWait, bounded := ctx.Value(maxWaitKey{}).(time.Duration)
	l.mu.Lock()
	until := l.until
	l.mu.Unlock()
	d := time.Until(until)
	if bounded && d > maxWait {
		return &PacedError{Wait: d}
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	if !bounded {
		return l.rl.Wait(ctx)
	}
	r := l.rl.Reserve()
	if !r.OK() {
		return &PacedError{Wait: maxWait}
	}
	wait := r.Delay()
	if wait > maxWait {
		r.Cancel()
		return &PacedError{Wait: wait}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		r.Cancel()
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Pause holds every call until d has passed (a provider's Retry-After).
func (l *Limiter) Pause(d time.Duration) {
	if l == nil || d <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := time.Now().Add(d); t.After(l.until) {
		l.until = t
	}
}

// SetRate changes the steady rate and burst, e.g. from a provider's advertised limit.
func (l *Limiter) SetRate(rps float64, burst int) {
	if l == nil {
		return
	}
	l.rl.SetLimit(rate.Limit(rps))
	l.rl.SetBurst(burst)
}

// Backoff is the wait before retrying a failed provider call: First, doubled for each further
// retry up to Max, plus up to Jitter of it (0.2: up to 20% more) at random so that many
// integrations do not retry in step. Retry.Do takes its waits from here.
type Backoff struct {
	First, Max time.Duration
	Jitter     float64
}

// Delay is the wait before retry n (1 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.First
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	if j := int64(float64(d) * b.Jitter); j > 0 {
		d += time.Duration(rand.Int64N(j))
	}
	return d
}

// Sleep waits d, or until ctx is done (then it answers ctx's error). A wait of zero or less
// returns at once, with ctx's error if it is done already.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry is how a provider's client repeats a call that failed for a passing reason; every
// provider sends its calls through Retry.Do.
type Retry struct {
	Backoff Backoff
	// Retries bounds the repeats of temporary failures (5xx, 408, a timeout, a dropped connection).
	Retries int
	// Waits bounds how many rate-limited answers (429) are waited out.
	Waits int
	// Limiter paces every attempt; a rate-limited answer pauses it, so every call of the
	// integration holds, not only this one. Without a Limiter the wait is slept here.
	Limiter *Limiter
	// Unsafe marks a write the provider may have done although the answer was lost (a create
	// without an idempotency key): temporary failures are returned, not repeated. A 429 is still
	// waited out: the provider refused the call before doing anything.
	Unsafe bool
}

// Do calls attempt until it succeeds or fails for good, and returns attempt's last error as it
// is. Before each attempt it waits on the Limiter; a wait the context does not allow (ctx done,
// or longer than WithMaxWait: a *PacedError) ends it with a KindTemporary *Error wrapping that.
// What follows a failed attempt depends on the kind of its error (KindOf):
//   - KindRateLimited: the next attempt goes after the error's RetryAfter, or after Backoff when
//     the provider gave none (then RetryAfter is set to that wait); at most Waits times.
//   - KindTemporary: the next attempt goes after Backoff.Delay(n) for the n-th repeat; at most
//     Retries times and never when Unsafe.
//   - any other kind, an error of Stop, or ctx done: the error is returned at once.
func (r Retry) Do(ctx context.Context, attempt func() error) error {
	retries, waits := 0, 0
	for {
		if err := r.Limiter.Wait(ctx); err != nil {
			return &Error{Kind: KindTemporary, Message: "gave up waiting for the provider's pace: " + err.Error(), Err: err}
		}
		err := attempt()
		if err == nil {
			return nil
		}
		if s, ok := err.(stopError); ok {
			return s.err
		}
		if ctx.Err() != nil {
			return err
		}
		switch KindOf(err) {
		case KindRateLimited:
			if waits >= r.Waits {
				setRetryAfter(err, r.Backoff.Delay(waits+1))
				return err
			}
			waits++
			d := setRetryAfter(err, r.Backoff.Delay(waits))
			if r.Limiter != nil {
				r.Limiter.Pause(d) // the next attempt's Limiter.Wait holds it
			} else if Sleep(ctx, d) != nil {
				return err
			}
		case KindTemporary:
			if r.Unsafe || retries >= r.Retries {
				return err
			}
			retries++
			if Sleep(ctx, r.Backoff.Delay(retries)) != nil {
				return err
			}
		default:
			return err
		}
	}
}

// Stop makes Retry.Do return err at once, whatever its kind: the attempt has already done what
// may be repeated (a call with retries of its own), or must not go again.
func Stop(err error) error { return stopError{err} }

type stopError struct{ err error }

func (s stopError) Error() string { return s.err.Error() }
func (s stopError) Unwrap() error { return s.err }

// setRetryAfter gives a rate-limited err the wait d when the provider named none, and answers
// the wait err carries.
func setRetryAfter(err error, d time.Duration) time.Duration {
	var e *Error
	if !errors.As(err, &e) {
		return d
	}
	if e.RetryAfter <= 0 {
		e.RetryAfter = d
	}
	return e.RetryAfter
}

// ParseRetryAfter reads a Retry-After header given as seconds or as an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 86400 {
		return time.Duration(f * float64(time.Second)) // seconds, also fractional ("2.0", Shopify)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
