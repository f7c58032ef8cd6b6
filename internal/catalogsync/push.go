package catalogsync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"
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
	Gen           int64  `json:"gen"` // the request's number (store.RequestCatalogWork); 0 always runs
}

// Kind implements river.JobArgs.
func (PushArgs) Kind() string { return "catalog_push" }

// PushBatch is how many products go to a destination in one batch call (WooCommerce's
// /products/batch takes 100).
var PushBatch = 100

// pushOpts: each request for a push is a job of its own number, but one job per destination
// pushes at a time (the lease of store.ClaimCatalogWork: never two pushing the same product),
// and a job whose request a finished push covered does nothing. So a change committed while a
// push is ending is never left behind by it (a job deduplicated against the running one would).
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
		if err := s.enqueuePush(ctx, tx, accountID, d.IntegrationID); err != nil {
			return err
		}
	}
	return nil
}

// enqueuePush queues a push to one destination.
func (s *Service) enqueuePush(ctx context.Context, tx *store.Tx, accountID, destID string) error {
	n, err := tx.RequestCatalogWork(ctx, accountID, "push:"+destID)
	if err != nil {
		return err
	}
	return s.q.InsertTx(ctx, tx, PushArgs{AccountID: accountID, IntegrationID: destID, Gen: n}, pushOpts())
}

type pushWorker struct {
	river.WorkerDefaults[PushArgs]
	s *Service
}

// Timeout lets a step run its longest and one slow batch call.
func (w *pushWorker) Timeout(*river.Job[PushArgs]) time.Duration {
	return max(ImportStepBudget, ImportStepMax) + time.Minute
}

// Work pushes batches until nothing is pending or its budget is spent (then it yields), holding
// the destination's lease.
func (w *pushWorker) Work(ctx context.Context, job *river.Job[PushArgs]) error {
	a := job.Args
	return w.s.leased(ctx, a.AccountID, "push:"+a.IntegrationID, a.Gen, func(ctx context.Context) error { return w.push(ctx, a) })
}

func (w *pushWorker) push(ctx context.Context, a PushArgs) error {
	s := w.s
	settings, dest, err := s.destination(ctx, a)
	if err != nil || dest == nil {
		return err // nil: turned off or removed meanwhile
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
	key := a.AccountID + "/" + a.IntegrationID
	from := ""
	if v, ok := s.pushFrom.Load(key); ok {
		from = v.(string)
	}
	started := time.Now()
	until := started.Add(ImportStepBudget)
	after, pushed := from, 0
	for {
		// Each batch goes with the settings as they are now: a job that began before a change
		// of them (empty_overwrites, owned fields, the source) and goes on to changes made after
		// it must not push those with the old ones.
		if settings, dest, err = s.destination(ctx, a); err != nil || dest == nil {
			s.pushFrom.Delete(key)
			return err
		}
		pending, err := s.st.Reader().PendingCatalogPushes(ctx, a.AccountID, settings.SourceIntegrationID, a.IntegrationID, after, PushBatch)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			if from == "" && (after == "" || pushed == 0) {
				s.pushFrom.Delete(key)
				return nil
			}
			// Once more from the start: what is before where this step began, changes made meanwhile.
			from, after, pushed = "", "", 0
			continue
		}
		if len(pending) < PushBatch && s.holdPartial(ctx, a.AccountID, key) {
			if after == "" {
				s.pushFrom.Delete(key)
			} else {
				s.pushFrom.Store(key, after)
			}
			return river.JobSnooze(100 * time.Millisecond)
		}
		after = pending[len(pending)-1].Product.ID
		s.Foreground.Yield(ctx, YieldMax)
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
			if s.yieldDue(ctx, started) {
				s.pushFrom.Store(key, after)
				return river.JobSnooze(time.Millisecond) // yield to the other accounts' catalog work
			}
			until = time.Now().Add(ImportStepBudget)
		}
	}
}

// destination reads the account's catalog sync settings and the destination a push goes to; nil
// when catalog sync is off, has no source, or no longer lists the destination.
func (s *Service) destination(ctx context.Context, a PushArgs) (domain.CatalogSyncSettings, *domain.CatalogDestination, error) {
	settings, err := s.st.GetCatalogSyncSettings(ctx, a.AccountID)
	if err != nil {
		return settings, nil, err
	}
	if !settings.Enabled || settings.SourceIntegrationID == "" {
		return settings, nil, nil
	}
	for i := range settings.Destinations {
		if settings.Destinations[i].IntegrationID == a.IntegrationID {
			return settings, &settings.Destinations[i], nil
		}
	}
	return settings, nil, nil
}

// holdPartial tells whether a batch that is not full waits (PartialWait): while the account's
// import is in its products phase, for at most PartialWait since the first one held back.
func (s *Service) holdPartial(ctx context.Context, accountID, key string) bool {
	imp, err := s.st.GetCatalogImport(ctx, accountID)
	if err != nil || imp.Phase != domain.PhaseProducts {
		s.partialSince.Delete(key)
		return false
	}
	now := time.Now()
	v, _ := s.partialSince.LoadOrStore(key, now)
	if now.Sub(v.(time.Time)) < PartialWait {
		return true
	}
	s.partialSince.Delete(key)
	return false
}

// pushBatch sends one batch and records what reached the destination: the products whole
// (with their stock, when the destination writes stock with products) and, for destinations that
// set stock on its own, the stock that changed. Before products are created in the destination an
// intent is saved; a product with an intent left over (the shop took the create but its answer, or
// the link, was lost) is looked for in the destination first and adopted instead of made twice.
// It answers how many products the destination took.
func (s *Service) pushBatch(ctx context.Context, conn connector.Connector, sink connector.ProductSink, a PushArgs, dest domain.CatalogDestination, pending []store.PendingPush) (int, error) {
	pending = slices.Clone(pending)
	adopted, err := s.adoptLostCreates(ctx, sink, pending)
	if err != nil {
		return 0, err
	}
	var creates []string
	for _, pp := range pending {
		if pp.ExternalID == "" {
			creates = append(creates, pp.Product.ID)
		}
	}
	if len(creates) > 0 {
		if _, ok := sink.(connector.ProductFinder); ok {
			if err := s.st.InTx(ctx, func(tx *store.Tx) error {
				return tx.RecordCatalogPushIntents(ctx, a.AccountID, a.IntegrationID, creates, s.now())
			}); err != nil {
				return 0, fmt.Errorf("record the creates about to be asked: %w", err)
			}
		}
	}
	exts := make([]string, 0, len(pending))
	for _, pp := range pending {
		exts = append(exts, pp.Product.ExternalID)
	}
	stock, err := s.st.Reader().CatalogStockOf(ctx, a.AccountID, pending[0].Product.IntegrationID, exts)
	if err != nil {
		return 0, err
	}
	ws, withStock := sink.(connector.StockWithProducts)
	withStock = withStock && ws.WritesStockWithProducts()
	wl, atLocations := sink.(connector.StockAtLocationsWithProducts)
	atLocations = atLocations && wl.WritesStockAtLocations()
	ps := make([]domain.Product, 0, len(pending))
	for _, pp := range pending {
		p, err := s.shaped(ctx, conn, dest, pp)
		if err != nil {
			return 0, err
		}
		p.Ref = pp.Product.ID
		switch {
		case withStock:
			withStockOf(&p, pp.Product.Product, stock[pp.Product.ExternalID], dest)
		case atLocations && (pp.StockDue || pp.ExternalID == "" || adopted[pp.Product.ID]):
			stockAtOf(&p, pp.Product.Product, stock[pp.Product.ExternalID], dest)
		}
		ps = append(ps, p)
	}
	withStock = withStock || atLocations
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
		id := r.ID
		if id == "" {
			id = pp.ExternalID
		}
		if id == "" {
			continue
		}
		ok++
		seq := int64(-1)
		if withStock || !pp.StockDue && pp.ExternalID != "" && !adopted[pp.Product.ID] {
			seq = pp.StockSeq // the write carried the stock, or the stock had not changed
		}
		done = append(done, store.CatalogPushed{ProductID: pp.Product.ID, ExternalID: id, Hash: pp.Product.Hash,
			Created: pp.ExternalID == "" || adopted[pp.Product.ID], StockSeq: seq})
	}
	if !withStock {
		s.pushStock(ctx, conn, a, dest, pending, stock, done)
	}
	s.Foreground.Yield(ctx, YieldMax)
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

// adoptLostCreates looks in the destination for the products of the batch whose create was asked
// before without its link being saved, and gives each one found the destination's id (in
// pending); it answers which it adopted. A destination that cannot be searched (no
// connector.ProductFinder) adopts none.
func (s *Service) adoptLostCreates(ctx context.Context, sink connector.ProductSink, pending []store.PendingPush) (map[string]bool, error) {
	adopted := map[string]bool{}
	finder, ok := sink.(connector.ProductFinder)
	if !ok {
		return adopted, nil
	}
	var refs []string
	var since time.Time
	for _, pp := range pending {
		if pp.ExternalID == "" && !pp.IntentAt.IsZero() {
			refs = append(refs, pp.Product.ID)
			if since.IsZero() || pp.IntentAt.Before(since) {
				since = pp.IntentAt
			}
		}
	}
	if len(refs) == 0 {
		return adopted, nil
	}
	found, err := finder.FindProducts(ctx, refs, since.Add(-time.Minute)) // clocks of shop and posbridge differ a little
	if err != nil {
		return nil, fmt.Errorf("look for products created before a lost answer: %w", err)
	}
	for i := range pending {
		if id := found[pending[i].Product.ID]; id != "" && pending[i].ExternalID == "" {
			pending[i].ExternalID = id
			adopted[pending[i].Product.ID] = true
		}
	}
	if len(found) > 0 {
		s.log.Info("catalog push: adopted products the destination had created before an answer was lost", "count", len(found))
	}
	return adopted, nil
}

// countedLocation answers whether the destination counts stock at a source location, and at
// which of its own locations ("" its default).
func countedLocation(dest domain.CatalogDestination, loc string) (string, bool) {
	if len(dest.StockLocations) == 0 {
		return "", true
	}
	to, ok := dest.StockLocations[loc]
	return to, ok
}

// withStockOf sets the stock a destination that writes stock with products gets: per product
// (or variant), the sum of the source's levels at the locations it counts.
func withStockOf(p *domain.Product, src domain.Product, levels []domain.StockLevel, dest domain.CatalogDestination) {
	if !src.TrackStock && !slices.ContainsFunc(src.Variants, func(v domain.Variant) bool { return v.TrackStock }) {
		return
	}
	sums := map[string]*big.Rat{} // source variant id ("" the product) -> quantity
	for _, l := range levels {
		if _, ok := countedLocation(dest, l.LocationID); !ok {
			continue
		}
		q, ok := new(big.Rat).SetString(l.Quantity)
		if !ok {
			continue
		}
		if sums[l.VariantID] == nil {
			sums[l.VariantID] = new(big.Rat)
		}
		sums[l.VariantID].Add(sums[l.VariantID], q)
	}
	text := func(r *big.Rat) *string {
		if r == nil {
			r = new(big.Rat)
		}
		t := strings.TrimSuffix(strings.TrimRight(r.FloatString(5), "0"), ".")
		return &t
	}
	if len(src.Variants) == 0 {
		p.Stock = text(sums[""])
		return
	}
	if dest.Owns("variants") {
		return // the shop's variants, not the source's
	}
	for i, v := range src.Variants {
		if i < len(p.Variants) {
			p.Variants[i].Stock = text(sums[v.ID])
		}
	}
}

// stockAtOf sets the stock a destination that writes stock at its locations with products gets:
// per product (or variant) and destination location, the sum of the source's levels at the
// locations mapped to it.
func stockAtOf(p *domain.Product, src domain.Product, levels []domain.StockLevel, dest domain.CatalogDestination) {
	if !src.TrackStock && !slices.ContainsFunc(src.Variants, func(v domain.Variant) bool { return v.TrackStock }) {
		return
	}
	sums := map[string]map[string]*big.Rat{} // source variant id ("" the product) -> destination location -> quantity
	for _, l := range levels {
		to, ok := countedLocation(dest, l.LocationID)
		q, good := new(big.Rat).SetString(l.Quantity)
		if !ok || !good {
			continue
		}
		if sums[l.VariantID] == nil {
			sums[l.VariantID] = map[string]*big.Rat{}
		}
		if sums[l.VariantID][to] == nil {
			sums[l.VariantID][to] = new(big.Rat)
		}
		sums[l.VariantID][to].Add(sums[l.VariantID][to], q)
	}
	text := func(m map[string]*big.Rat) map[string]string {
		out := map[string]string{}
		for to, r := range m {
			out[to] = strings.TrimSuffix(strings.TrimRight(r.FloatString(5), "0"), ".")
		}
		return out
	}
	if len(src.Variants) == 0 {
		p.StockAt = text(sums[""])
		return
	}
	if dest.Owns("variants") {
		return // the shop's variants, not the source's
	}
	for i, v := range src.Variants {
		if i < len(p.Variants) && v.TrackStock {
			p.Variants[i].StockAt = text(sums[v.ID])
		}
	}
}

// pushStock sets, through the destination's StockSink, the stock of the batch's products that
// reached it and whose stock changed (or that were just created): per destination location, the
// sum of the source locations mapped to it. What it set is marked in done; a failure is logged
// and tried again with the next push. Products with variants keep the shop's stock (the
// destination's variant ids are not known here).
func (s *Service) pushStock(ctx context.Context, conn connector.Connector, a PushArgs, dest domain.CatalogDestination, pending []store.PendingPush, stock map[string][]domain.StockLevel, done []store.CatalogPushed) {
	sink, ok := conn.(connector.StockSink)
	byID := map[string]store.PendingPush{}
	for _, pp := range pending {
		byID[pp.Product.ID] = pp
	}
	var levels []domain.StockLevel
	var owner []int // index in done of each level
	for i := range done {
		if done[i].StockSeq >= 0 {
			continue
		}
		pp := byID[done[i].ProductID]
		if !ok || !pp.Product.Product.TrackStock || len(pp.Product.Product.Variants) > 0 {
			done[i].StockSeq = pp.StockSeq // nothing this destination takes
			continue
		}
		sums := map[string]*big.Rat{}
		for _, l := range stock[pp.Product.ExternalID] {
			to, counted := countedLocation(dest, l.LocationID)
			q, good := new(big.Rat).SetString(l.Quantity)
			if !counted || !good || l.VariantID != "" {
				continue
			}
			if sums[to] == nil {
				sums[to] = new(big.Rat)
			}
			sums[to].Add(sums[to], q)
		}
		for _, to := range slices.Sorted(maps.Keys(sums)) {
			q := strings.TrimSuffix(strings.TrimRight(sums[to].FloatString(5), "0"), ".")
			levels = append(levels, domain.StockLevel{ProductID: done[i].ExternalID, LocationID: to, Quantity: q})
			owner = append(owner, i)
		}
		if len(sums) == 0 {
			done[i].StockSeq = pp.StockSeq
		}
	}
	if len(levels) == 0 {
		return
	}
	res, err := sink.SetStock(ctx, levels)
	s.PushCalls.Add(1)
	// A level refused for a reason that may pass is tried again with the next push; one the shop
	// will never take (an unknown location, a quantity it cannot hold) is not, or the product
	// would be pushed again and again.
	passing := func(e error) bool {
		k := connector.KindOf(e)
		return k == connector.KindTemporary || k == connector.KindRateLimited || k == connector.KindCredentials
	}
	bad := map[int]bool{}
	for _, r := range res {
		if r.Err != nil && r.Index >= 0 && r.Index < len(owner) {
			if passing(r.Err) {
				bad[owner[r.Index]] = true
			}
			if err == nil {
				err = r.Err
			}
		}
	}
	if len(res) < len(levels) && (err == nil || passing(err)) {
		for _, i := range owner {
			bad[i] = true
		}
	}
	for _, i := range owner {
		if !bad[i] {
			done[i].StockSeq = byID[done[i].ProductID].StockSeq
		}
	}
	if err != nil {
		s.log.Warn("catalog push: stock not set in the destination", "account", a.AccountID, "integration", a.IntegrationID, "levels", len(levels), "err", err)
	}
}

// shaped is the product as it goes to the destination: the source's data whole, with the
// destination's own values for the fields it owns, and (unless empty values overwrite) for the
// fields the source leaves empty. Weight and categories left nil are not sent, so the shop keeps
// them; other fields are taken from the destination's product, read first.
func (s *Service) shaped(ctx context.Context, conn connector.Connector, dest domain.CatalogDestination, pp store.PendingPush) (domain.Product, error) {
	p := pp.Product.Product
	p.ID, p.Version, p.Deleted = pp.ExternalID, "", false
	p.Variants = slices.Clone(p.Variants) // the source's ids stay in pp
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
	// The fields the shop keeps: those it owns, and those the source has empty unless empty
	// values overwrite (an empty price, stock setting or variant list is a value, not a gap).
	keep := func(field string, empty bool) bool { return dest.Owns(field) || (!dest.EmptyOverwrites && empty) }
	var kept []string
	for _, f := range []struct {
		name  string
		empty bool
	}{{"name", p.Name == ""}, {"description", p.Description == ""}, {"sku", p.SKU == ""}, {"barcode", p.Barcode == ""},
		{"price", false}, {"track_stock", false}, {"variants", false}} {
		if keep(f.name, f.empty) {
			kept = append(kept, f.name)
		}
	}
	if len(kept) == 0 {
		return p, nil
	}
	if fk, ok := conn.(connector.FieldKeeper); ok && !slices.ContainsFunc(kept, func(f string) bool { return !slices.Contains(fk.KeepsFields(), f) }) {
		p.Keep = kept // the shop's sink leaves them out of the write
		return p, nil
	}
	// Otherwise the write carries every field: the kept ones are read from the shop first.
	src, ok := conn.(connector.ProductSource)
	if !ok {
		return p, nil
	}
	cur, err := src.GetProduct(ctx, pp.ExternalID)
	if err != nil {
		return p, fmt.Errorf("read the shop's product %s: %w", pp.ExternalID, err)
	}
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

// leaseFor is how long a catalog job's lease lasts unless its holder extends it: the holder
// extends it every leaseRenew while it works, so a crashed holder's work is taken over within
// leaseFor, and a holder that cannot extend it in time stops its work (its context is cancelled)
// before another can take the lease.
var leaseFor, leaseRenew = 20 * time.Second, 4 * time.Second

// leased runs the work of a catalog job numbered n (0: run whatever) under its lease: when a
// finished job covered n it does nothing, while another job holds the lease it snoozes, and once
// do succeeds every request up to the latest at its start is done. do's context ends when the
// lease could not be kept.
func (s *Service) leased(ctx context.Context, accountID, work string, n int64, do func(context.Context) error) error {
	if n <= 0 {
		n = math.MaxInt64
	}
	now := time.Now()
	until := now.Add(leaseFor)
	claim, upTo, err := s.st.ClaimCatalogWork(ctx, accountID, work, n, now, until)
	switch {
	case err != nil:
		return err
	case claim == store.WorkDone:
		return nil
	case claim == store.WorkBusy:
		return river.JobSnooze(250 * time.Millisecond)
	}
	wctx, cancel := context.WithCancel(ctx)
	kept := make(chan time.Time, 1) // the lease's end as last extended
	stop := make(chan struct{})
	go func() {
		defer close(kept)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		// Stopped well before the lease runs out when it cannot be extended: no other job may
		// take the lease while this one still works.
		guard := time.NewTimer(time.Until(until) - leaseFor/4)
		defer guard.Stop()
		for {
			select {
			case <-stop:
				kept <- until
				return
			case <-guard.C:
				s.log.Warn("catalog job: its lease could not be extended in time; stopping it", "account", accountID, "work", work)
				cancel()
				kept <- until
				return
			case <-t.C:
				next := time.Now().Add(leaseFor)
				ok, err := s.st.ExtendCatalogWork(wctx, accountID, work, until, next)
				if err != nil || !ok {
					if err == nil { // taken over: not this job's to work any more
						s.log.Warn("catalog job: its lease was taken over; stopping it", "account", accountID, "work", work)
						cancel()
						kept <- time.Time{}
						return
					}
					continue // tried again at the next tick, until the guard stops the work
				}
				until = next
				guard.Reset(time.Until(until) - leaseFor/4)
			}
		}
	}()
	err = do(wctx)
	lost := wctx.Err() != nil && ctx.Err() == nil // stopped by the guard, not by River
	close(stop)
	held := <-kept
	cancel()
	if err == nil && lost {
		err = fmt.Errorf("catalog %s: its lease could not be kept", work)
	}
	if err != nil {
		upTo = 0 // not done: a yield (snooze) or a failure runs again
	}
	if held.IsZero() {
		return err // the lease is another job's now
	}
	if rerr := s.st.ReleaseCatalogWork(context.WithoutCancel(ctx), accountID, work, upTo); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
