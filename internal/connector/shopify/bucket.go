package shopify

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// bucket is the client's model of Shopify's leaky bucket for one app and store: a request adds
// one marble, the bucket leaks at a steady rate, a full bucket answers 429. The model is kept in
// step with the X-Shopify-Shop-Api-Call-Limit header ("used/size") of every answer, so calls wait
// before the bucket is full instead of meeting a 429.
type bucket struct {
	mu       sync.Mutex
	size     float64
	leak     float64 // marbles a second
	headroom float64
	used     float64
	inflight int
	last     time.Time
	until    time.Time // after a 429: no call before this
}

func newBucket(size, leak, headroom float64) *bucket {
	return &bucket{size: size, leak: leak, headroom: headroom, last: time.Now()}
}

func (b *bucket) drain(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.used -= el * b.leak
		if b.used < 0 {
			b.used = 0
		}
	}
	b.last = now
}

// acquire waits until one more request fits in the bucket and counts it.
func (b *bucket) acquire(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := time.Now()
		b.drain(now)
		wait := b.until.Sub(now)
		if wait <= 0 {
			limit := b.size - b.headroom
			if limit < 1 {
				limit = 1
			}
			if b.used+1 <= limit+1e-9 {
				b.used++
				b.inflight++
				b.mu.Unlock()
				return nil
			}
			wait = time.Duration((b.used + 1 - limit) / b.leak * float64(time.Second))
			if wait < time.Millisecond {
				wait = time.Millisecond
			}
		}
		b.mu.Unlock()
		if err := connector.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// observe ends one request; h is its answer's header (nil when there was none).
func (b *bucket) observe(h http.Header, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drain(now)
	if b.inflight > 0 {
		b.inflight--
	}
	if h == nil {
		return
	}
	used, size, ok := parseCallLimit(h.Get("X-Shopify-Shop-Api-Call-Limit"))
	if !ok {
		return
	}
	b.size = size
	// The header counts this request; requests still on their way are in our model only.
	b.used = used + float64(b.inflight)
}

// throttled records a 429: the bucket is full and nothing goes out for d.
func (b *bucket) throttled(d time.Duration, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drain(now)
	b.used = b.size
	if t := now.Add(d); t.After(b.until) {
		b.until = t
	}
}

// parseCallLimit reads "32/40".
func parseCallLimit(v string) (used, size float64, ok bool) {
	u, s, found := strings.Cut(strings.TrimSpace(v), "/")
	if !found {
		return 0, 0, false
	}
	un, err1 := strconv.Atoi(strings.TrimSpace(u))
	sn, err2 := strconv.Atoi(strings.TrimSpace(s))
	if err1 != nil || err2 != nil || sn <= 0 || un < 0 {
		return 0, 0, false
	}
	return float64(un), float64(sn), true
}
