package sandbox

import (
	"context"
	"sync"
)

// Persister keeps each tenant's state (JSON) by api key. posbridge's store implements it with a
// table so sandbox data survives restarts; NewMemoryPersister keeps it in memory.
type Persister interface {
	// Load returns the state saved for apiKey; found is false when there is none.
	Load(ctx context.Context, apiKey string) (state []byte, found bool, err error)
	// Save replaces the state saved for apiKey.
	Save(ctx context.Context, apiKey string, state []byte) error
}

// DeferredPersister is a Persister that saves on its own schedule. After a change the server does
// not encode the tenant's state; it calls Changed with a function that encodes the state as it is
// then, and the persister calls that function when it saves (so a burst of changes costs one
// encoding). A tenant's state is big (every order), so this keeps a write's cost independent of
// the number of orders; the price is that a crash loses the changes since the last save.
type DeferredPersister interface {
	Persister
	// Changed tells that apiKey's state changed; encode returns it when called (from any
	// goroutine; it takes the tenant's lock).
	Changed(apiKey string, encode func() ([]byte, error))
}

// MemoryPersister is a Persister in memory, safe for concurrent use.
type MemoryPersister struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemoryPersister returns an empty in-memory Persister.
func NewMemoryPersister() *MemoryPersister {
	return &MemoryPersister{m: map[string][]byte{}}
}

// Load implements Persister.
func (p *MemoryPersister) Load(_ context.Context, apiKey string) ([]byte, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.m[apiKey]
	if !ok {
		return nil, false, nil
	}
	return append([]byte(nil), b...), true, nil
}

// Save implements Persister.
func (p *MemoryPersister) Save(_ context.Context, apiKey string, state []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[apiKey] = append([]byte(nil), state...)
	return nil
}
