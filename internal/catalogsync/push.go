package catalogsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// PushArgs pushes every product of the account's source whose latest data a destination does
// not have yet. One job per destination is waiting at a time: a burst of changes is one push.
type PushArgs struct {
	AccountID     string `json:"account_id"`
	IntegrationID string `json:"integration_id"`
}

// Kind implements river.JobArgs.
func (PushArgs) Kind() string { return "catalog_push" }

// PushBatch is how many products go to a destination in one batch call (WooCommerce's
// /products/batch takes 100).
var PushBatch = 100

// pushOpts: one push job per destination at a time (never two pushing the same product); a
// trigger while one runs adds nothing, and the running one reads again until nothing is pending
// (the reconciliation poll queues pushes too, for a change that came in its last milliseconds).
func pushOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: 12, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// unfinished are the states of a job not done yet (River's default also counts completed ones).
var unfinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable}

// enqueuePushes queues a push to every destination of the settings, when catalog sync is on.
func (s *Service) enqueuePushes(ctx context.Context, tx *store.Tx, accountID string, st domain.CatalogSyncSettings) error {
	if !st.Enabled {
		return nil
	}
	for _, d := range st.Destinations {
		if err := s.q.InsertTx(ctx, tx, PushArgs{AccountID: accountID, IntegrationID: d.IntegrationID}, pushOpts()); err != nil {
			return err
		}
	}
	return nil
}

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	s *Service
}

// Timeout lets a step run its budget and one slow batch call.
func (w *pushWorker) Timeout(*river.Job[PushArgs]) time.Duration {
	return ImportStepBudget + time.Minute
}

// Work pushes batches until nothing is pending or its budget is spent (then it yields).
func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	s := w.s
	a := job.Args
	settings, err := s.st.GetCatalogSyncSettings(ctx, a.AccountID)
	if err != nil {
		return err
	}
	var dest *domain.CatalogDestination
	for i := range settings.Destinations {
		if settings.Destinations[i].IntegrationID == a.IntegrationID {
			dest = &settings.Destinations[i]
		}
	}
	if !settings.Enabled || dest == nil || settings.SourceIntegrationID == "" {
		return nil // turned off or removed meanwhile
	}
	i, err := s.con.Get(ctx, a.AccountID, a.IntegrationID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	src, err := s.con.Get(ctx, a.AccountID, settings.SourceIntegrationID)
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		return err
	}
	if i.Status == domain.StatusInactive || err != nil || src.Status == domain.StatusInactive {
		return nil // disconnected: nothing is pushed; what was synced stays
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return err
	}
	sink, err := connector.As[connector.ProductSink](conn, domain.CapProducts)
	if err != nil {
		return nil
	}
	if last := s.analyzedAt.Load(); time.Now().UnixNano()-last > int64(10*time.Second) && s.analyzedAt.CompareAndSwap(last, time.Now().UnixNano()) {
		if err := s.st.AnalyzeCatalog(ctx); err != nil { // at most every 10 s per process
			s.log.Warn("catalog push: refresh the catalog's statistics", "err", err)
		}
	}
	until := time.Now().Add(ImportStepBudget)
	after, pushed := "", 0
	for {
		pending, err := s.st.PendingCatalogPushes(ctx, a.AccountID, settings.SourceIntegrationID, a.IntegrationID, after, PushBatch)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			if after == "" || pushed == 0 {
				return nil
			}
			after, pushed = "", 0 // once more from the start: changes made meanwhile
			continue
		}
		after = pending[len(pending)-1].Product.ID
		ok, err := s.pushBatch(ctx, conn, sink, a, *dest, pending)
		pushed += ok
		if err != nil {
			if connector.KindOf(err) == connector.KindRateLimited {
				wait := time.Second
				var ce *connector.Error
				if errors.As(err, &ce) && ce.RetryAfter > 0 {
					wait = ce.RetryAfter
				}
				return river.JobSnooze(wait)
			}
			return err
		}
		if time.Now().After(until) {
			return river.JobSnooze(time.Millisecond) // yield to the other accounts' catalog work
		}
	}
}

// pushBatch sends one batch and records what reached the destination.
// It answers how many products the destination took.
func (s *Service) pushBatch(ctx context.Context, conn connector.Connector, sink connector.ProductSink, a PushArgs, dest domain.CatalogDestination, pending []store.PendingPush) (int, error) {
	ps := make([]domain.Product, 0, len(pending))
	for _, pp := range pending {
		p, err := s.shaped(ctx, conn, dest, pp)
		if err != nil {
			return 0, err
		}
		ps = append(ps, p)
	}
	res, err := sink.UpsertProducts(ctx, ps)
	s.PushCalls.Add(1)
	if err != nil && len(res) == 0 {
		return 0, err
	}
	ok := 0
	now := s.now()
	var failed []string
	var firstErr error
	var done []store.CatalogPushed
	for _, r := range res {
		if r.Index < 0 || r.Index >= len(pending) {
			continue
		}
		pp := pending[r.Index]
		if r.Err != nil {
			if firstErr == nil {
				firstErr = r.Err
			}
			failed = append(failed, pp.Product.Product.Name+": "+connector.Message(r.Err))
			continue
		}
		if pp.ExternalID == "" && r.ID == "" {
			continue
		}
		ok++
		done = append(done, store.CatalogPushed{ProductID: pp.Product.ID, ExternalID: r.ID, Hash: pp.Product.Hash, Created: pp.ExternalID == ""})
	}
	terr := s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.RecordCatalogPushes(ctx, a.AccountID, a.IntegrationID, done, now)
	})
	if terr != nil {
		return 0, terr
	}
	s.PushedProducts.Add(int64(ok))
	if len(failed) > 0 {
		s.log.Warn("catalog push: products refused by the destination", "account", a.AccountID, "integration", a.IntegrationID, "count", len(failed), "first", failed[0])
		if k := connector.KindOf(firstErr); k == connector.KindTemporary || k == connector.KindRateLimited {
			return ok, firstErr
		}
	}
	return ok, err
}

// shaped is the product as it goes to the destination: the source's data whole, with the
// destination's own values for the fields it owns, and (unless empty values overwrite) for the
// fields the source leaves empty. Weight and categories left nil are not sent, so the shop keeps
// them; other fields are taken from the destination's product, read first.
func (s *Service) shaped(ctx context.Context, conn connector.Connector, dest domain.CatalogDestination, pp store.PendingPush) (domain.Product, error) {
	p := pp.Product.Product
	p.ID, p.Version, p.Deleted = pp.ExternalID, "", false
	for i := range p.Variants {
		p.Variants[i].ID, p.Variants[i].Version = "", ""
	}
	if pp.ExternalID == "" {
		return p, nil // a new product in the shop gets everything
	}
	if dest.Owns("weight") || (!dest.EmptyOverwrites && (p.Weight == nil || p.Weight.Value == "")) {
		p.Weight = nil
	}
	if dest.Owns("categories") || (!dest.EmptyOverwrites && len(p.Categories) == 0) {
		p.Categories = nil
	}
	need := false
	for _, f := range []string{"name", "description", "sku", "barcode", "price", "variants", "track_stock"} {
		if dest.Owns(f) {
			need = true
		}
	}
	if !dest.EmptyOverwrites && (p.Description == "" || p.SKU == "" || p.Barcode == "") {
		need = true
	}
	if !need {
		return p, nil
	}
	src, ok := conn.(connector.ProductSource)
	if !ok {
		return p, nil
	}
	cur, err := src.GetProduct(ctx, pp.ExternalID)
	if err != nil {
		return p, fmt.Errorf("read the shop's product %s: %w", pp.ExternalID, err)
	}
	keep := func(field string, empty bool) bool { return dest.Owns(field) || (!dest.EmptyOverwrites && empty) }
	if keep("name", p.Name == "") {
		p.Name = cur.Name
	}
	if keep("description", p.Description == "") {
		p.Description = cur.Description
	}
	if keep("sku", p.SKU == "") {
		p.SKU = cur.SKU
	}
	if keep("barcode", p.Barcode == "") {
		p.Barcode = cur.Barcode
	}
	if dest.Owns("price") {
		p.Price = cur.Price
	}
	if dest.Owns("track_stock") {
		p.TrackStock = cur.TrackStock
	}
	if dest.Owns("variants") {
		p.Variants = cur.Variants
	}
	return p, nil
}
