package backoffice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/store"
)

// A publish wakes every long-poll of the store at once. So that a thousand terminals do not
// each read the version and write their sync time one by one, the newest delivered version of
// a store is read once per wake (cached until the next delivery in this process, or briefly for
// deliveries made by another), and the terminals' sync times are written in shared batches.

type storeKey struct{ account, store string }

type cachedVersion struct {
	gen     uint64
	loaded  time.Time
	version int64
	content *Content
}

// deliveredCacheTTL bounds how stale a cached version may be for a delivery made by another
// process (one in this process clears the cache at once).
var deliveredCacheTTL = 250 * time.Millisecond

type fanout struct {
	mu    sync.Mutex
	gen   uint64
	cache map[storeKey]*cachedVersion
	load  map[storeKey]*sync.Mutex

	bmu   sync.Mutex
	batch *syncedBatch
	flush sync.Mutex
}

type syncedBatch struct {
	ids  map[int64][]string // version -> terminals
	done chan struct{}
	err  error
}

// invalidate forgets the cached versions (a delivery was made in this process).
func (f *fanout) invalidate() {
	f.mu.Lock()
	f.gen++
	f.mu.Unlock()
}

// delivered answers the store's newest delivered version and its content (0 and nil when none).
func (s *Service) delivered(ctx context.Context, accountID, storeID string) (int64, *Content, error) {
	f := &s.fan
	k := storeKey{accountID, storeID}
	get := func() (*cachedVersion, *sync.Mutex) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.cache == nil {
			f.cache, f.load = map[storeKey]*cachedVersion{}, map[storeKey]*sync.Mutex{}
		}
		c := f.cache[k]
		if c != nil && (c.gen != f.gen || time.Since(c.loaded) > deliveredCacheTTL) {
			c = nil
		}
		l := f.load[k]
		if l == nil {
			l = &sync.Mutex{}
			f.load[k] = l
		}
		return c, l
	}
	if c, _ := get(); c != nil {
		return c.version, c.content, nil
	}
	_, l := get()
	l.Lock() // one reader loads; the others wait and take its answer
	defer l.Unlock()
	if c, _ := get(); c != nil {
		return c.version, c.content, nil
	}
	f.mu.Lock()
	gen := f.gen
	f.mu.Unlock()
	c := &cachedVersion{gen: gen, loaded: time.Now()}
	v, err := s.st.LatestVersion(ctx, accountID, storeID, true)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, nil, fmt.Errorf("read the delivered version of store %s: %w", storeID, err)
	default:
		content, err := decodeContent(v.Content)
		if err != nil {
			return 0, nil, err
		}
		c.version, c.content = v.Version, &content
	}
	f.mu.Lock()
	if len(f.cache) > 10000 {
		clear(f.cache) // the lock map stays: a waiter may hold one of its locks
	}
	f.cache[k] = c
	f.mu.Unlock()
	return c.version, c.content, nil
}

// recordSynced writes the version a terminal received, sharing one statement with the
// terminals that answer at the same time (it returns once it is written).
func (s *Service) recordSynced(ctx context.Context, id string, version int64) error {
	f := &s.fan
	f.bmu.Lock()
	b, leader := f.batch, false
	if b == nil {
		b, leader = &syncedBatch{ids: map[int64][]string{}, done: make(chan struct{})}, true
		f.batch = b
	}
	b.ids[version] = append(b.ids[version], id)
	f.bmu.Unlock()
	if !leader {
		select {
		case <-b.done:
			return b.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.flush.Lock() // while the batch before is written, this one fills
	f.bmu.Lock()
	f.batch = nil
	f.bmu.Unlock()
	wctx := context.WithoutCancel(ctx)
	now := s.now()
	for v, ids := range b.ids {
		if err := s.st.TerminalsSynced(wctx, ids, v, now); err != nil && b.err == nil {
			b.err = fmt.Errorf("record the version terminals received: %w", err)
		}
	}
	f.flush.Unlock()
	close(b.done)
	return b.err
}
