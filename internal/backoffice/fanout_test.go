package backoffice

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestFanout: many long-polls of one store woken by one delivery all answer the new version
// (read once, shared) and each terminal's sync is recorded (in shared batches); a terminal of
// another store and another account's terminal of the same store id are not woken with it.
func TestFanout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st, err := store.Open(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s := New(st, nil)
		now := time.Now()
		for _, a := range []string{"acct_a", "acct_b"} {
			if err := st.CreateAccount(ctx, domain.Account{ID: a, Name: a, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		const n = 40
		var ts []store.Terminal
		pair := func(acct, storeID string, i int) store.Terminal {
			tm := store.Terminal{ID: fmt.Sprintf("trm_%s_%s_%d", acct, storeID, i), AccountID: acct, StoreID: storeID, Name: "Till", PairedAt: now}
			if err := st.CreateTerminal(ctx, tm, tm.ID+"_hash"); err != nil {
				t.Fatal(err)
			}
			return tm
		}
		for i := range n {
			ts = append(ts, pair("acct_a", "s1", i))
		}
		other, foreign := pair("acct_a", "s2", 0), pair("acct_b", "s1", 0)

		type answer struct {
			v       int64
			changed bool
			err     error
		}
		answers := make(chan answer, n+2)
		pctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()
		for _, tm := range append(ts, other, foreign) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, changed, err := s.Config(pctx, tm, 0, 20*time.Second)
				answers <- answer{c.Version, changed, err}
			}()
		}
		content := `{"currency":"EUR","products":[{"id":"p1","name":"Espresso","price":250}]}`
		if err := st.InsertVersion(ctx, "acct_a", store.BackOfficeVersion{StoreID: "s1", Version: 1, Content: content, Diff: "[]",
			PublishedBy: "test", PublishedAt: now, DeliversAt: now}); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.MarkDelivered(ctx, "acct_a", "s1", 1, now); err != nil || !ok {
			t.Fatalf("mark delivered: %v %v", ok, err)
		}
		s.notify()
		for range n {
			a := <-answers
			if a.err != nil || !a.changed || a.v != 1 {
				t.Fatalf("a terminal of s1 answered %+v", a)
			}
		}
		select {
		case a := <-answers:
			t.Fatalf("a terminal of another store or account answered %+v", a)
		case <-time.After(100 * time.Millisecond): // they wait for their own store's version
		}
		list, err := st.ListTerminals(ctx, "acct_a")
		if err != nil {
			t.Fatal(err)
		}
		synced := 0
		for _, tm := range list {
			if tm.StoreID == "s1" && tm.LastSyncedVersion == 1 && tm.LastSyncedAt != nil {
				synced++
			}
		}
		if synced != n {
			t.Fatalf("%d of %d terminals have their sync recorded", synced, n)
		}
	})
}
