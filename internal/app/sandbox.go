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
// merchant typed never lands on disk. It is a sandbox.DeferredPersister: a change only marks the
// tenant, and the tenant's whole state is encoded and written at most every flushEvery (a second
// per MiB of state for big tenants, up to maxFlushEvery), and on close; so an order costs the
// sandbox the same whether the tenant holds ten orders or ten thousand. A crash loses at most
// that long of sandbox changes.
type sandboxPersister struct {
	st  *store.Store
	box *secrets.Box

	mu      sync.Mutex
	pending map[string]func() ([]byte, error) // api key -> encodes its newest unsaved state
	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

const (
	flushEvery    = time.Second
	maxFlushEvery = 10 * time.Second
)

func newSandboxPersister(st *store.Store, box *secrets.Box) *sandboxPersister {
	p := &sandboxPersister{st: st, box: box, pending: map[string]func() ([]byte, error){}, wake: make(chan struct{}, 1),
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
	if encode, ok := p.pending[apiKey]; ok {
		p.mu.Unlock()
		b, err := encode()
		return b, err == nil, err
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

// Save implements sandbox.Persister (a new tenant's first state).
func (p *sandboxPersister) Save(_ context.Context, apiKey string, state []byte) error {
	p.Changed(apiKey, func() ([]byte, error) { return state, nil })
	return nil
}

// Changed implements sandbox.DeferredPersister.
func (p *sandboxPersister) Changed(apiKey string, encode func() ([]byte, error)) {
	p.mu.Lock()
	p.pending[apiKey] = encode
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *sandboxPersister) loop() {
	defer close(p.stopped)
	wait := flushEvery
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
		case <-time.After(wait):
		}
		wait = flushWait(p.flush())
	}
}

// flushWait is how long changes wait before a save when the last save wrote size bytes: a
// second for each MiB, from flushEvery up to maxFlushEvery, so that a big tenant (thousands of
// orders) is not rewritten in full every second.
func flushWait(size int) time.Duration {
	return min(max(flushEvery, time.Duration(size>>20)*time.Second), maxFlushEvery)
}

// flush writes every pending tenant and returns the size of the biggest state written.
func (p *sandboxPersister) flush() (biggest int) {
	p.mu.Lock()
	batch := p.pending
	p.pending = map[string]func() ([]byte, error){}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for key, encode := range batch {
		kh := keyHash(key)
		state, err := encode()
		var sealed string
		if err == nil {
			sealed, err = p.box.Seal(state, "sandbox/"+kh)
		}
		if err == nil {
			err = p.st.SaveSandboxState(ctx, kh, sealed, time.Now())
			biggest = max(biggest, len(sealed))
		}
		if err != nil {
			p.mu.Lock()
			if _, newer := p.pending[key]; !newer {
				p.pending[key] = encode // try again with the next flush
			}
			p.mu.Unlock()
		}
	}
	return biggest
}

// Close writes what is pending and stops the flusher.
func (p *sandboxPersister) Close() {
	p.once.Do(func() {
		close(p.done)
		<-p.stopped
	})
}
