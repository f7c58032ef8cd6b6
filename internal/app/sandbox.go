package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
)

// sandboxPersister keeps the Sandbox POS's tenants in the database, so its orders survive a
// restart. Tenants are keyed by a hash of their API key and their state is encrypted: the key a
// merchant typed never lands on disk. The sandbox hands over its whole state on every change, so
// writes are coalesced: the newest state of a tenant is written at most every flushEvery, and on
// close.
type sandboxPersister struct {
	st  *store.Store
	box *secrets.Box

	mu      sync.Mutex
	pending map[string][]byte // api key -> newest unsaved state
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

const flushEvery = 200 * time.Millisecond

func newSandboxPersister(st *store.Store, box *secrets.Box) *sandboxPersister {
	p := &sandboxPersister{st: st, box: box, pending: map[string][]byte{}, wake: make(chan struct{}, 1),
		done: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func keyHash(apiKey string) string {
	h := sha256.Sum256([]byte("sandbox:" + apiKey))
	return hex.EncodeToString(h[:])
}

func (p *sandboxPersister) Load(ctx context.Context, apiKey string) ([]byte, bool, error) {
	p.mu.Lock()
	if b, ok := p.pending[apiKey]; ok {
		p.mu.Unlock()
		return b, true, nil
	}
	p.mu.Unlock()
	kh := keyHash(apiKey)
	sealed, found, err := p.st.LoadSandboxState(ctx, kh)
	if err != nil || !found {
		return nil, false, err
	}
	b, err := p.box.Open(sealed, "sandbox/"+kh)
	return b, err == nil, err
}

func (p *sandboxPersister) Save(_ context.Context, apiKey string, state []byte) error {
	p.mu.Lock()
	p.pending[apiKey] = state
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

func (p *sandboxPersister) loop() {
	defer close(p.stopped)
	for {
		select {
		case <-p.done:
			p.flush()
			return
		case <-p.wake:
		}
		select {
		case <-p.done:
			p.flush()
			return
		case <-time.After(flushEvery):
		}
		p.flush()
	}
}

func (p *sandboxPersister) flush() {
	p.mu.Lock()
	batch := p.pending
	p.pending = map[string][]byte{}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for key, state := range batch {
		kh := keyHash(key)
		sealed, err := p.box.Seal(state, "sandbox/"+kh)
		if err == nil {
			err = p.st.SaveSandboxState(ctx, kh, sealed, time.Now())
		}
		if err != nil {
			p.mu.Lock()
			if _, newer := p.pending[key]; !newer {
				p.pending[key] = state // try again with the next flush
			}
			p.mu.Unlock()
		}
	}
}

// Close writes what is pending and stops the flusher.
func (p *sandboxPersister) Close() {
	p.once.Do(func() {
		close(p.done)
		<-p.stopped
	})
}
