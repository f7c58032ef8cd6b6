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
