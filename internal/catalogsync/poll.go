package catalogsync

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// PollArgs reads what changed in an account's source since its cursors (products, stock,
// customers), writes it to the records and queues the pushes. A source webhook queues one at
// once; the reconciliation poll queues one for every account with catalog sync on.
type PollArgs struct {
	AccountID string `json:"account_id" river:"unique"`
	Trigger   string `json:"trigger"`
	Gen       int64  `json:"gen" river:"unique"` // the request's number (store.RequestCatalogWork); 0 always runs
}

// Kind implements river.JobArgs.
func (PollArgs) Kind() string { return "catalog_poll" }

func pollOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: 12, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// ReconcileArgs is the periodic reconciliation poll: webhooks are not guaranteed, and some
// changes in a POS (a product CSV import, a stock count) send none, so every change is found
// by the next poll at the latest.
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "catalog_reconcile" }

// PeriodicJobs are the engine's periodic jobs: the reconciliation poll every interval, and once
// when the process starts: a push a crash stopped then goes on as soon as its lease runs out,
// instead of waiting for River to rescue its job and for the job's retry backoff.
func (s *Service) PeriodicJobs(every time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
			return ReconcileArgs{}, &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByPeriod: max(every, time.Second)}}
		}, nil),
		// Not unique: the periodic one of this period ran before the crash, maybe.
		river.NewPeriodicJob(onStart{}, func() (river.JobArgs, *river.InsertOpts) {
			return ReconcileArgs{}, &river.InsertOpts{Queue: Queue}
		}, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// onStart is the schedule of a periodic job that runs only when the process starts.
type onStart struct{}

func (onStart) Next(t time.Time) time.Time { return t.AddDate(100, 0, 0) }

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Service
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	accts, err := w.s.st.CatalogSyncAccounts(ctx)
	if err != nil {
		return err
	}
	for acct, st := range accts {
		// While an import runs it reads everything and queues the pushes of what it read: a
		// reconciliation then would only queue a poll and a push that find nothing to do, and
		// every interval (a short one, or under load) more of them, queued ahead of the import
		// whenever it yields its worker (a yielding import once waited 30 s, then 58 s, in such a
		// backlog, and did not finish in 3 min). The first reconciliation after it catches up.
		imp, err := w.s.st.GetCatalogImport(ctx, acct)
		if err != nil {
			return err
		}
		if imp.Running() {
			continue
		}
		if err := w.s.enqueuePoll(ctx, acct, "reconciliation poll"); err != nil {
			return err
		}
		if err := w.s.st.InTx(ctx, func(tx *store.Tx) error { return w.s.enqueuePushes(ctx, tx, acct, st) }); err != nil {
			return err
		}
	}
	return nil
}

// OnSourceEvent is told of every inbound webhook event of an integration that order sync does
// not act on; when the integration is an account's catalog source, it queues a poll of the
// source's changes. It answers the event's status and why.
func (s *Service) OnSourceEvent(ctx context.Context, i domain.Integration, topic string) (store.EventStatus, string, error) {
	st, err := s.st.GetCatalogSyncSettings(ctx, i.AccountID)
	if err != nil {
		return "", "", err
	}
	if !st.Enabled || st.SourceIntegrationID != i.ID {
		return store.EventIgnored, "posbridge does not act on " + topic + " events of this integration", nil
	}
	if err := s.enqueuePoll(ctx, i.AccountID, topic); err != nil {
		return "", "", err
	}
	return store.EventProcessed, "catalog sync reads the POS's changes", nil
}

// WantsSourceEvents tells whether catalog sync acts on the integration's product, stock and
// customer events: whether it is its account's catalog source, with catalog sync on (as
// OnSourceEvent decides). A web shop that is only a destination sends them too, for every product
// posbridge pushes to it; order sync acknowledges those without storing them.
func (s *Service) WantsSourceEvents(ctx context.Context, i domain.Integration) (bool, error) {
	st, err := s.st.GetCatalogSyncSettings(ctx, i.AccountID)
	if err != nil {
		return false, err
	}
	return st.Enabled && st.SourceIntegrationID == i.ID, nil
}

// enqueuePoll queues a poll of the account's source, a job of its own number: one poll of an
// account runs at a time (its lease) and a poll whose request a finished one covered does nothing
// (see pushOpts).
func (s *Service) enqueuePoll(ctx context.Context, accountID, trigger string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.RequestCatalogWork(ctx, accountID, "poll")
		if err != nil {
			return err
		}
		return s.q.InsertTx(ctx, tx, PollArgs{AccountID: accountID, Trigger: trigger, Gen: n}, pollOpts())
	})
}

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	s *Service
}

func (w *pollWorker) Work(ctx context.Context, job *river.Job[PollArgs]) error {
	a := job.Args
	return w.s.leased(ctx, a.AccountID, "poll", a.Gen, func(ctx context.Context) error { return w.poll(ctx, a) })
}

func (w *pollWorker) poll(ctx context.Context, a PollArgs) error {
	s := w.s
	st, err := s.st.GetCatalogSyncSettings(ctx, a.AccountID)
	if err != nil || !st.Enabled || st.SourceIntegrationID == "" {
		return err
	}
	imp, err := s.st.GetCatalogImport(ctx, a.AccountID)
	if err != nil {
		return err
	}
	if imp.Phase == domain.PhaseIdle || imp.IntegrationID != st.SourceIntegrationID {
		return nil // nothing imported from this source yet: the import reads everything
	}
	i, err := s.con.Get(ctx, a.AccountID, st.SourceIntegrationID)
	if err != nil {
		return nil
	}
	if i.Status == domain.StatusInactive {
		return nil // disconnected: no automatic sync; what was synced stays
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return err
	}
	trigger := a.Trigger
	if trigger == "" {
		trigger = "poll"
	}
	readers := map[string]reader{}
	if src, ok := conn.(connector.ProductSource); ok {
		readers[domain.RecordProduct] = func(cursor string) (string, string, func(*store.Tx, time.Time, changeCounts) error, error) {
			page, err := src.ListProducts(ctx, cursor)
			return page.Next, page.Resume, func(tx *store.Tx, now time.Time, c changeCounts) error {
				chs, err := tx.UpsertCatalogProducts(ctx, a.AccountID, i.ID, page.Items, 0, now)
				if err == nil {
					err = tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordProduct, trigger, i.ID, now, chs))
				}
				for _, ch := range chs {
					c.add(domain.RecordProduct, ch.Action)
				}
				return err
			}, err
		}
	}
	if src, ok := conn.(connector.StockSource); ok {
		readers[domain.RecordStock] = func(cursor string) (string, string, func(*store.Tx, time.Time, changeCounts) error, error) {
			page, err := src.ListStock(ctx, cursor)
			return page.Next, page.Resume, func(tx *store.Tx, now time.Time, c changeCounts) error {
				chs, err := tx.UpsertCatalogStocks(ctx, a.AccountID, i.ID, page.Items, 0, now)
				if err != nil {
					return err
				}
				for _, ch := range chs {
					c.add(domain.RecordStock, ch.Action)
				}
				return tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordProduct, trigger, i.ID, now, chs))
			}, err
		}
	}
	if src, ok := conn.(connector.CustomerSource); ok {
		readers[domain.RecordCustomer] = func(cursor string) (string, string, func(*store.Tx, time.Time, changeCounts) error, error) {
			page, err := src.ListCustomers(ctx, cursor)
			return page.Next, page.Resume, func(tx *store.Tx, now time.Time, c changeCounts) error {
				for _, cu := range page.Items {
					ch, err := tx.UpsertCatalogCustomer(ctx, a.AccountID, i.ID, cu, 0, now)
					if err != nil {
						return err
					}
					if err := tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordCustomer, trigger, i.ID, now, []store.RecordChange{ch})); err != nil {
						return err
					}
					c.add(domain.RecordCustomer, ch.Action)
				}
				return nil
			}, err
		}
	}
	return s.pollOnce(ctx, a.AccountID, i.ID, st, trigger, readers)
}

type reader func(cursor string) (next, resume string, write func(tx *store.Tx, now time.Time, c changeCounts) error, err error)

// pollOnce reads each kind of record from its cursor to the end.
func (s *Service) pollOnce(ctx context.Context, accountID, sourceID string, st domain.CatalogSyncSettings, trigger string, readers map[string]reader) error {
	for _, kind := range []string{domain.RecordProduct, domain.RecordStock, domain.RecordCustomer} {
		read := readers[kind]
		if read == nil {
			continue
		}
		cursor, err := s.st.GetCatalogCursor(ctx, accountID, sourceID, kind)
		if err != nil {
			return err
		}
		if cursor == "" {
			continue // the import saves where to resume; without it there is nothing incremental to read
		}
		for {
			next, resume, write, err := read(cursor)
			if err != nil {
				return err
			}
			c := changeCounts{}
			if err := s.st.InTx(ctx, func(tx *store.Tx) error {
				now := s.now()
				if err := write(tx, now, c); err != nil {
					return err
				}
				if next == "" && resume != "" {
					if err := tx.SaveCatalogCursor(ctx, accountID, sourceID, kind, resume, now); err != nil {
						return err
					}
				}
				if len(c) == 0 {
					return nil
				}
				if err := s.enqueuePushes(ctx, tx, accountID, st); err != nil {
					return err
				}
				return s.publishChanges(ctx, tx, accountID, trigger, c)
			}); err != nil {
				return err
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return nil
}
