package sandbox

import (
	"context"
	"errors"
	"sync"
)

// Persister keeps each tenant's state by api key, durably, as a real POS keeps its data: a
// snapshot of the whole state and a log of the changes made since. Every change is appended to
// the log before the request that made it is answered, so an answered change survives a crash
// (kill -9) and an id handed out is never handed out again. posbridge's store implements it
// with tables; NewMemoryPersister keeps it in memory.
type Persister interface {
	// Load returns what is saved for apiKey: the newest snapshot and the log entries after it,
	// in order. Changes appended before Load was called are included.
	Load(ctx context.Context, apiKey string) (Saved, error)
	// Append queues entry as change seq of apiKey's log and returns a function that waits until
	// it is durable (nil) or lost (an error). Appends of one key come in seq order, one after the
	// other, and must be committed in that order.
	Append(apiKey string, seq int64, entry []byte) (wait func() error)
	// Compact queues state, which holds every change of apiKey's log up to seq, as the new
	// snapshot (the log up to seq may go), and returns a function that waits until it is durable.
	// Every change up to seq was appended before; a snapshot must never be stored before them.
	Compact(apiKey string, seq int64, state []byte) (wait func() error)
	// Delete queues the removal of everything saved of apiKey (a deleted tenant), after the
	// writes queued before it, and returns a function that waits until it is durable. Writes of
	// apiKey queued after it are dropped (they answer an error): a deleted tenant's key is
	// never used again.
	Delete(apiKey string) (wait func() error)
}

// Saved is what a Persister holds of one tenant.
type Saved struct {
	Found bool       // false: a tenant never saved
	State []byte     // the snapshot (JSON)
	Seq   int64      // the last change the snapshot holds
	Log   []LogEntry // the changes after Seq, in order
}

// LogEntry is one change of a tenant's log.
type LogEntry struct {
	Seq   int64
	Entry []byte
}

// MemoryPersister is a Persister in memory, safe for concurrent use.
type MemoryPersister struct {
	mu      sync.Mutex
	m       map[string]*Saved
	deleted map[string]bool
}

// NewMemoryPersister returns an empty in-memory Persister.
func NewMemoryPersister() *MemoryPersister {
	return &MemoryPersister{m: map[string]*Saved{}, deleted: map[string]bool{}}
}

func done() error { return nil }

// ErrTenantDeleted answers a write of a tenant deleted before it was queued.
var ErrTenantDeleted = errors.New("the sandbox was deleted")

func deletedErr() error { return ErrTenantDeleted }

// Delete implements Persister.
func (p *MemoryPersister) Delete(apiKey string) func() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, apiKey)
	p.deleted[apiKey] = true
	return done
}

// Load implements Persister.
func (p *MemoryPersister) Load(_ context.Context, apiKey string) (Saved, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.m[apiKey]
	if s == nil {
		return Saved{}, nil
	}
	out := *s
	out.Log = append([]LogEntry(nil), s.Log...)
	return out, nil
}

// Append implements Persister.
func (p *MemoryPersister) Append(apiKey string, seq int64, entry []byte) func() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.deleted[apiKey] {
		return deletedErr
	}
	s := p.m[apiKey]
	if s == nil {
		s = &Saved{}
		p.m[apiKey] = s
	}
	s.Log = append(s.Log, LogEntry{Seq: seq, Entry: append([]byte(nil), entry...)})
	return done
}

// Compact implements Persister.
func (p *MemoryPersister) Compact(apiKey string, seq int64, state []byte) func() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.deleted[apiKey] {
		return deletedErr
	}
	s := p.m[apiKey]
	if s == nil {
		s = &Saved{}
		p.m[apiKey] = s
	}
	if s.Found && s.Seq > seq {
		return done
	}
	s.Found, s.State, s.Seq = true, append([]byte(nil), state...), seq
	kept := s.Log[:0]
	for _, e := range s.Log {
		if e.Seq > seq {
			kept = append(kept, e)
		}
	}
	s.Log = kept
	return done
}
