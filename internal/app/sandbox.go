package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
)

// sandboxPersister keeps the Sandbox POS's tenants in the database, as durably as a real POS
// keeps its orders: every change is committed before the sandbox answers it (sandbox.Persister).
// Tenants are keyed by a hash of their API key and everything is encrypted: the key a merchant
// typed never lands on disk.
//
// Changes of every tenant go through one queue. One committer takes whatever has gathered while
// it was writing and commits it in one transaction (group commit): a change costs one row, and
// a thousand concurrent changes cost a handful of commits, not a thousand. Snapshots (the
// tenant's whole state, written when its log has grown as big) go through the same queue, after
// the changes they hold, so a snapshot is never stored before them.
type sandboxPersister struct {
	st  *store.Store
	box *secrets.Box
	log interface {
		Error(msg string, args ...any)
	}

	mu      sync.Mutex
	queue   []*sbxOp
	closed  bool
	wake    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// sbxOp is one queued write: a change (entry), a snapshot (state), the removal of a deleted
// tenant (del), or a barrier (none of these) that Load uses to wait for the writes queued
// before it.
type sbxOp struct {
	kh    string
	seq   int64
	entry string // sealed change
	state string // sealed snapshot
	snap  bool
	del   bool
	done  chan error
}

// sbxMaxBatch caps the writes of one transaction.
const sbxMaxBatch = 1000

var errSandboxClosed = errors.New("the sandbox store is closed")

func newSandboxPersister(st *store.Store, box *secrets.Box, log interface{ Error(string, ...any) }) *sandboxPersister {
	p := &sandboxPersister{st: st, box: box, log: log, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func keyHash(apiKey string) string {
	h := sha256.Sum256([]byte("sandbox:" + apiKey))
	return hex.EncodeToString(h[:])
}

// enqueue queues op and returns a function waiting for its outcome.
func (p *sandboxPersister) enqueue(op *sbxOp) func() error {
	op.done = make(chan error, 1)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return func() error { return errSandboxClosed }
	}
	p.queue = append(p.queue, op)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return func() error { return <-op.done }
}

// Load implements sandbox.Persister: it waits for the writes queued before it, then reads.
func (p *sandboxPersister) Load(ctx context.Context, apiKey string) (sandbox.Saved, error) {
	kh := keyHash(apiKey)
	if err := p.enqueue(&sbxOp{kh: kh})(); err != nil {
		return sandbox.Saved{}, err
	}
	saved, err := p.st.LoadSandbox(ctx, kh)
	if err != nil || !saved.Found {
		return sandbox.Saved{}, err
	}
	out := sandbox.Saved{Found: true, Seq: saved.Seq}
	if out.State, err = p.box.Open(saved.State, "sandbox/"+kh); err != nil {
		return sandbox.Saved{}, fmt.Errorf("open sandbox state: %w", err)
	}
	for _, r := range saved.Log {
		b, err := p.box.Open(r.Entry, logAAD(kh, r.Seq))
		if err != nil {
			return sandbox.Saved{}, fmt.Errorf("open sandbox change %d: %w", r.Seq, err)
		}
		out.Log = append(out.Log, sandbox.LogEntry{Seq: r.Seq, Entry: b})
	}
	return out, nil
}

func logAAD(kh string, seq int64) string {
	return "sandbox/" + kh + "/log/" + strconv.FormatInt(seq, 10)
}

// Append implements sandbox.Persister.
func (p *sandboxPersister) Append(apiKey string, seq int64, entry []byte) func() error {
	kh := keyHash(apiKey)
	sealed, err := p.box.Seal(entry, logAAD(kh, seq))
	if err != nil {
		return func() error { return fmt.Errorf("seal sandbox change: %w", err) }
	}
	return p.enqueue(&sbxOp{kh: kh, seq: seq, entry: sealed})
}

// Compact implements sandbox.Persister.
func (p *sandboxPersister) Compact(apiKey string, seq int64, state []byte) func() error {
	kh := keyHash(apiKey)
	sealed, err := p.box.Seal(state, "sandbox/"+kh)
	if err != nil {
		return func() error { return fmt.Errorf("seal sandbox state: %w", err) }
	}
	return p.enqueue(&sbxOp{kh: kh, seq: seq, state: sealed, snap: true})
}

// Delete implements sandbox.Persister.
func (p *sandboxPersister) Delete(apiKey string) func() error {
	return p.enqueue(&sbxOp{kh: keyHash(apiKey), del: true})
}

func (p *sandboxPersister) loop() {
	defer close(p.stopped)
	failed := map[string]bool{}  // tenants that lost a change since their last Load
	deleted := map[string]bool{} // tenants deleted by this process: their later writes are dropped
	for {
		p.mu.Lock()
		for len(p.queue) == 0 {
			if p.closed {
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			<-p.wake
			p.mu.Lock()
		}
		n := min(len(p.queue), sbxMaxBatch)
		batch := p.queue[:n:n]
		p.queue = p.queue[n:]
		p.mu.Unlock()
		p.commit(batch, failed, deleted)
	}
}

// commit writes one batch. A snapshot of a tenant that lost a change is not written (it holds
// that change, which was answered with an error); the tenant's next Load (its barrier) clears
// the mark, since the sandbox loads a tenant again after a lost change. A deleted tenant's
// saved state goes after the batch's writes (its earlier ones included); its writes queued after
// the deletion are dropped.
func (p *sandboxPersister) commit(batch []*sbxOp, failed, deleted map[string]bool) {
	var (
		logs    []store.SandboxLogRow
		snaps   []store.SandboxSnapshot
		dels    []string
		dropped = map[*sbxOp]bool{}
	)
	for _, op := range batch {
		switch {
		case op.del:
			deleted[op.kh] = true
			dels = append(dels, op.kh)
		case (op.snap || op.entry != "") && deleted[op.kh]:
			dropped[op] = true
		case op.snap && !failed[op.kh]:
			snaps = append(snaps, store.SandboxSnapshot{KeyHash: op.kh, Seq: op.seq, State: op.state})
		case op.entry != "":
			logs = append(logs, store.SandboxLogRow{KeyHash: op.kh, Seq: op.seq, Entry: op.entry})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := p.st.CommitSandbox(ctx, logs, snaps, dels, time.Now())
	cancel()
	if err != nil {
		p.log.Error("commit sandbox changes", "err", err, "changes", len(logs), "snapshots", len(snaps), "deleted", len(dels))
	}
	for _, op := range batch {
		switch {
		case dropped[op]:
			op.done <- sandbox.ErrTenantDeleted
			continue
		case op.del:
			op.done <- err
			continue
		case op.snap && failed[op.kh]:
			op.done <- errors.New("a change of this sandbox was lost; its snapshot is not written")
			continue
		case op.entry == "" && !op.snap: // barrier
			delete(failed, op.kh)
			op.done <- err
			continue
		}
		if err != nil {
			failed[op.kh] = true
		}
		op.done <- err
	}
}

// Close refuses new writes, commits the queued ones and stops the committer.
func (p *sandboxPersister) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
		<-p.stopped
	})
}
