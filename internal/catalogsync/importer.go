package catalogsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// ImportArgs runs (a step of) an account's import pass. The pass's progress and cursor live in
// the database (catalog_imports), written in the same transaction as each page's records, so a
// job rescued after a crash resumes at the page after the last one committed.
type ImportArgs struct {
	AccountID string `json:"account_id"`
	Pass      int64  `json:"pass"`
}

// Kind implements river.JobArgs.
func (ImportArgs) Kind() string { return "catalog_import" }

// ImportStepBudget is how long one run of the import job reads pages before it yields its
// worker (a snooze) to the other accounts' catalog work.
var ImportStepBudget = time.Second

// ImportStepMax is how long one run of an import or push job goes on at most: past its
// ImportStepBudget it yields only when another catalog job waits for a worker (yieldDue), and
// yields anyway after this (well within its Timeout). Service.StepMax lowers it.
var ImportStepMax = 20 * time.Second

// yieldDue tells whether a catalog job that started at started and has spent its budget should
// yield its worker now: when another job of the catalog queue waits for one (a yield and the
// job's start again cost a few hundred milliseconds with nobody to yield to), or it has run
// its longest (ImportStepMax, or StepMax when set). A queue that cannot tell always yields.
func (s *Service) yieldDue(ctx context.Context, started time.Time) bool {
	most := ImportStepMax
	if s.StepMax > 0 {
		most = min(most, s.StepMax)
	}
	if time.Since(started) >= most {
		return true
	}
	w, ok := s.q.(interface {
		Waiting(ctx context.Context, queue string) (bool, error)
	})
	if !ok {
		return true
	}
	waiting, err := w.Waiting(ctx, Queue)
	if err != nil {
		s.log.Warn("catalog job: look for waiting jobs", "err", err)
		return true
	}
	return waiting
}

// ImportWriteChunk is how many records of a page one transaction writes at most (unless
// Service.SetImportWriteChunk says otherwise). The rest of a
// page commits before the transaction that ends it (with its cursor), each chunk in its own, so
// that a page of 1,000 never holds the database (on SQLite its one writer connection, which every
// other account's invoices wait for) for the time of the whole page. A page stopped between its
// chunks is read again: what its committed chunks wrote is there unchanged then, so it makes no
// change, history or push a second time. 25, not 100: a transaction of 100 held the writer 5 to 9
// ms on average and 2 to 15 times a run (20,000 products) over 30 ms under load, 25 holds it 1.4
// to 1.8 ms and over 30 ms 2 or 3 times, for the same total and no slower import.
var ImportWriteChunk = 25

// importMaxAttempts is how often a failing page is retried before the import is given up.
const importMaxAttempts = 12

// StartImport starts an import pass (the initial import, or a full refresh later) from the
// account's source. 409 while one is under way. With matchBySKU the pass links the shops'
// products to the source's by SKU after reading the products (see skuMatchStep); that is only for
// the first import: 409 naming match_by_sku once any of the source's products is linked.
func (s *Service) StartImport(ctx context.Context, accountID, actor string, matchBySKU bool) (domain.CatalogImport, error) {
	settings, err := s.st.GetCatalogSyncSettings(ctx, accountID)
	if err != nil {
		return domain.CatalogImport{}, err
	}
	if settings.SourceIntegrationID == "" {
		return domain.CatalogImport{}, domain.Invalid("source_integration_id", "choose the POS that holds your products and customers (PUT /api/v1/catalog-sync) before importing")
	}
	i, err := s.con.Get(ctx, accountID, settings.SourceIntegrationID)
	if err != nil {
		return domain.CatalogImport{}, err
	}
	if i.Status == domain.StatusInactive {
		return domain.CatalogImport{}, &domain.Error{Code: domain.CodeInactive, Message: "the source POS is disconnected; restore it before importing"}
	}
	var out domain.CatalogImport
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCatalogImport(ctx, accountID)
		if err != nil {
			return err
		}
		if cur.Running() {
			return &domain.Error{Code: domain.CodeConflict, Message: fmt.Sprintf("an import is under way (%s, %d done); wait for it to finish", cur.Phase, cur.Done)}
		}
		if matchBySKU {
			n, err := tx.CountCatalogSourceLinks(ctx, accountID, i.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return &domain.Error{Code: domain.CodeConflict, Field: "match_by_sku", Message: fmt.Sprintf("Matching by SKU is only for the first import: "+
					"%d %s of %s %s linked to your shops already. Start the import without it.", n, plural(n, "product", "products"),
					s.con.DisplayName(i.Type), plural(n, "is", "are"))}
			}
		}
		total, err := tx.CountCatalogRecords(ctx, accountID)
		if err != nil {
			return err
		}
		now := s.now()
		out = domain.CatalogImport{IntegrationID: i.ID, Pass: cur.Pass + 1, Phase: domain.PhaseProducts, Total: total, StartedAt: &now, MatchBySKU: matchBySKU}
		if err := tx.SaveCatalogImport(ctx, accountID, out); err != nil {
			return err
		}
		if err := s.q.InsertTx(ctx, tx, ImportArgs{AccountID: accountID, Pass: out.Pass}, importOpts()); err != nil {
			return err
		}
		msg := "Catalog import started: every product, stock level and customer of " + s.con.DisplayName(i.Type)
		if matchBySKU {
			msg += ", and the products your shops have already linked to them by SKU"
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: now, Kind: domain.KindCatalogImport, IntegrationID: i.ID,
			Actor: actor, Message: msg})
	})
	return out, err
}

func importOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: importMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Progress reads the account's import progress.
func (s *Service) Progress(ctx context.Context, accountID string) (domain.CatalogImport, error) {
	return s.st.GetCatalogImport(ctx, accountID)
}

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	s *Service
}

// Timeout lets a step run its longest and one slow page.
func (w *importWorker) Timeout(*river.Job[ImportArgs]) time.Duration {
	return max(ImportStepBudget, ImportStepMax) + time.Minute
}

// Work reads pages of the pass until its budget is spent, then yields.
func (w *importWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	s := w.s
	a := job.Args
	started := time.Now()
	until := started.Add(ImportStepBudget)
	var conn connector.Connector
	for {
		imp, err := s.st.GetCatalogImport(ctx, a.AccountID)
		if err != nil {
			return err
		}
		if imp.Pass != a.Pass || !imp.Running() {
			return nil // a later pass, or this one is over
		}
		if conn == nil && imp.Phase != domain.PhaseDeletions {
			i, err := s.con.Get(ctx, a.AccountID, imp.IntegrationID)
			if err != nil {
				return s.failImport(ctx, a, "the source integration is gone: "+err.Error())
			}
			if i.Status == domain.StatusInactive {
				return s.failImport(ctx, a, "the source POS was disconnected; what was imported before stays")
			}
			if conn, err = s.con.Connector(ctx, i); err != nil {
				return s.failImport(ctx, a, err.Error())
			}
		}
		if imp.Phase == domain.PhaseSKUMatch {
			err = s.skuMatchStep(ctx, a, imp)
		} else {
			err = s.importStep(ctx, conn, a, imp)
		}
		if err != nil {
			switch k := connector.KindOf(err); {
			case k == connector.KindRateLimited:
				wait := time.Second
				var ce *connector.Error
				if errors.As(err, &ce) && ce.RetryAfter > 0 {
					wait = ce.RetryAfter
				}
				return river.JobSnooze(wait)
			case k == connector.KindTemporary && job.Attempt < job.MaxAttempts:
				s.noteImportError(ctx, a, err)
				return err // River retries with backoff; the cursor keeps the place
			default:
				return s.failImport(ctx, a, err.Error())
			}
		}
		if time.Now().After(until) {
			if s.yieldDue(ctx, started) {
				return river.JobSnooze(time.Millisecond) // the next step queues behind the other accounts' work
			}
			until = time.Now().Add(ImportStepBudget)
		}
	}
}

// importStep does one page of the pass (or its conclusion) and commits it with the progress.
func (s *Service) importStep(ctx context.Context, conn connector.Connector, a ImportArgs, imp domain.CatalogImport) error {
	changes := changeCounts{}
	// pushable counts the page's products a push could take now: a product new to posbridge
	// that tracks stock waits for the stock phase (store.PendingCatalogPushes), whose end queues
	// the push, so a push queued for it would only read the catalog and find nothing. In a pass
	// that matches by SKU every new product waits for the match, whose end queues the push.
	pushable := 0
	var next, resume, kind string
	var n int
	// write writes the page's records lo to hi and counts their changes in changes.
	var write func(tx *store.Tx, now time.Time, lo, hi int, changes changeCounts) error
	switch imp.Phase {
	case domain.PhaseProducts:
		kind = domain.RecordProduct
		src, err := connector.As[connector.ProductSource](conn, domain.CapProducts)
		if err != nil {
			return err
		}
		page, err := src.ListProducts(ctx, imp.Cursor)
		if err != nil {
			return err
		}
		next, resume, n = page.Next, page.Resume, len(page.Items)
		write = func(tx *store.Tx, now time.Time, lo, hi int, changes changeCounts) error {
			chs, err := tx.UpsertCatalogProducts(ctx, a.AccountID, imp.IntegrationID, page.Items[lo:hi], imp.Pass, now)
			if err == nil {
				err = tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordProduct, TriggerImport, imp.IntegrationID, now, chs))
			}
			for i, ch := range chs {
				changes.add(domain.RecordProduct, ch.Action)
				if ch.Action == domain.ChangeUpdated || ch.Action == domain.ChangeCreated && !tracksStock(page.Items[lo+i]) && !imp.MatchBySKU {
					pushable++
				}
			}
			return err
		}
	case domain.PhaseStock:
		kind = domain.RecordStock
		src, ok := conn.(connector.StockSource)
		if ok {
			page, err := src.ListStock(ctx, imp.Cursor)
			if err != nil {
				return err
			}
			next, resume, n = page.Next, page.Resume, len(page.Items)
			write = func(tx *store.Tx, now time.Time, lo, hi int, changes changeCounts) error {
				chs, err := tx.UpsertCatalogStocks(ctx, a.AccountID, imp.IntegrationID, page.Items[lo:hi], imp.Pass, now)
				if err != nil {
					return err
				}
				for _, ch := range chs {
					changes.add(domain.RecordStock, ch.Action)
				}
				return tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordProduct, TriggerImport, imp.IntegrationID, now, chs))
			}
		}
	case domain.PhaseCustomers:
		kind = domain.RecordCustomer
		src, ok := conn.(connector.CustomerSource)
		if ok {
			page, err := src.ListCustomers(ctx, imp.Cursor)
			if err != nil {
				return err
			}
			next, resume, n = page.Next, page.Resume, len(page.Items)
			write = func(tx *store.Tx, now time.Time, lo, hi int, changes changeCounts) error {
				for _, c := range page.Items[lo:hi] {
					ch, err := tx.UpsertCatalogCustomer(ctx, a.AccountID, imp.IntegrationID, c, imp.Pass, now)
					if err != nil {
						return err
					}
					if err := tx.AddCatalogHistory(ctx, a.AccountID, historyOf(domain.RecordCustomer, TriggerImport, imp.IntegrationID, now, []store.RecordChange{ch})); err != nil {
						return err
					}
					changes.add(domain.RecordCustomer, ch.Action)
				}
				return nil
			}
		}
	}
	// Every chunk of the page but the last: the cursor stays on the page.
	lo := 0
	chunkOf := ImportWriteChunk
	if c := s.importChunk.Load(); c > 0 {
		chunkOf = int(c)
	}
	for ; write != nil && n-lo > chunkOf; lo += chunkOf {
		taken := false
		s.Foreground.Yield(ctx, YieldMax)
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			cur, err := tx.LockCatalogImport(ctx, a.AccountID)
			if err != nil {
				return err
			}
			if taken = cur.Pass != imp.Pass || cur.Phase != imp.Phase || cur.Cursor != imp.Cursor; taken {
				return nil // another worker took this page meanwhile (a rescued job): nothing twice
			}
			chunk := changeCounts{}
			if err := write(tx, s.now(), lo, lo+chunkOf, chunk); err != nil {
				return err
			}
			return s.publishChanges(ctx, tx, a.AccountID, "import", chunk)
		})
		if err != nil || taken {
			return err
		}
	}
	s.Foreground.Yield(ctx, YieldMax)
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCatalogImport(ctx, a.AccountID)
		if err != nil {
			return err
		}
		if cur.Pass != imp.Pass || cur.Phase != imp.Phase || cur.Cursor != imp.Cursor {
			return nil // another worker took this page meanwhile (a rescued job): nothing twice
		}
		now := s.now()
		if write != nil {
			if err := write(tx, now, lo, n, changes); err != nil {
				return err
			}
		}
		cur.Done += int64(n)
		cur.Total = max(cur.Total, cur.Done)
		cur.Error = ""
		cur.Cursor = next
		if next == "" {
			if kind != "" && resume != "" {
				if err := tx.SaveCatalogCursor(ctx, a.AccountID, imp.IntegrationID, kind, resume, now); err != nil {
					return err
				}
			}
			switch imp.Phase {
			case domain.PhaseProducts:
				cur.Phase = domain.PhaseStock
				if cur.MatchBySKU {
					cur.Phase = domain.PhaseSKUMatch
				}
			case domain.PhaseStock:
				cur.Phase = domain.PhaseCustomers
			case domain.PhaseCustomers:
				cur.Phase = domain.PhaseDeletions
			case domain.PhaseDeletions:
				// Only a complete pass concludes that what it did not read is gone.
				deleted, err := tx.ConcludeCatalogDeletions(ctx, a.AccountID, imp.Pass, *imp.StartedAt, now)
				if err != nil {
					return err
				}
				changes[domain.RecordProduct+"."+domain.ChangeDeleted] += int(deleted)
				cur.Phase = domain.PhaseDone
				cur.Total = cur.Done
				cur.FinishedAt = &now
				msg := fmt.Sprintf("Catalog import finished: %d records read", cur.Done)
				if deleted > 0 {
					msg += fmt.Sprintf(", %d products and customers no longer in the POS marked deleted", deleted)
				}
				if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: a.AccountID, At: now, Kind: domain.KindCatalogImport,
					IntegrationID: imp.IntegrationID, Actor: domain.ActorSystem, Message: msg}); err != nil {
					return err
				}
			}
		}
		if err := tx.SaveCatalogImport(ctx, a.AccountID, cur); err != nil {
			return err
		}
		// Products new to a destination wait for the stock phase (store.PendingCatalogPushes), so
		// its end queues their push: each goes once, with its stock. A page queues one only for
		// products a push can take now (its earlier chunks' ones too: the push comes when the
		// page is done; a page read again after a stop between chunks finds them unchanged, but the
		// stock phase's end queues a push for every product).
		stockRead := imp.Phase == domain.PhaseStock && next == ""
		if stockRead || pushable > 0 {
			st, err := tx.GetCatalogSyncSettings(ctx, a.AccountID)
			if err != nil {
				return err
			}
			if err := s.enqueuePushes(ctx, tx, a.AccountID, st); err != nil {
				return err
			}
		}
		return s.publishChanges(ctx, tx, a.AccountID, "import", changes)
	})
}

// noteImportError shows a retried page's error in the progress.
func (s *Service) noteImportError(ctx context.Context, a ImportArgs, err error) {
	if serr := s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, gerr := tx.LockCatalogImport(ctx, a.AccountID)
		if gerr != nil || cur.Pass != a.Pass {
			return gerr
		}
		cur.Error = "retrying: " + connector.Message(err)
		return tx.SaveCatalogImport(ctx, a.AccountID, cur)
	}); serr != nil {
		s.log.Error("record an import error", "account", a.AccountID, "err", serr)
	}
}

// failImport ends the pass as failed; nothing is concluded deleted from it.
func (s *Service) failImport(ctx context.Context, a ImportArgs, msg string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCatalogImport(ctx, a.AccountID)
		if err != nil || cur.Pass != a.Pass || !cur.Running() {
			return err
		}
		now := s.now()
		waiting := cur.Phase == domain.PhaseProducts || cur.Phase == domain.PhaseSKUMatch || cur.Phase == domain.PhaseStock
		cur.Phase, cur.Error, cur.FinishedAt = domain.PhaseFailed, msg, &now
		if err := tx.SaveCatalogImport(ctx, a.AccountID, cur); err != nil {
			return err
		}
		if waiting { // the products read so far no longer wait for their stock
			st, err := tx.GetCatalogSyncSettings(ctx, a.AccountID)
			if err != nil {
				return err
			}
			if err := s.enqueuePushes(ctx, tx, a.AccountID, st); err != nil {
				return err
			}
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: a.AccountID, At: now, Kind: domain.KindCatalogImport, IntegrationID: cur.IntegrationID,
			Actor: domain.ActorSystem, Message: fmt.Sprintf("Catalog import failed after %d records: %s. Nothing was marked deleted; start it again to finish.", cur.Done, msg)})
	})
}

// changeCounts counts a step's changes by "record.action".
type changeCounts map[string]int

func (c changeCounts) add(record, action string) {
	if action != "" {
		c[record+"."+action]++
	}
}

// RecordsChanged is the data of the outbound webhook records.changed: how many records of each
// kind changed, and what caused it; the app reads GET /api/v1/changes from its cursor.
type RecordsChanged struct {
	Trigger  string         `json:"trigger"`
	Products map[string]int `json:"products"`
	Stock    map[string]int `json:"stock"`
	Customer map[string]int `json:"customers"`
}

func (s *Service) publishChanges(ctx context.Context, tx *store.Tx, accountID, trigger string, c changeCounts) error {
	if len(c) == 0 || s.out == nil {
		return nil
	}
	ev := RecordsChanged{Trigger: trigger, Products: map[string]int{}, Stock: map[string]int{}, Customer: map[string]int{}}
	for k, n := range c {
		for _, r := range []struct {
			rec string
			m   map[string]int
		}{{domain.RecordProduct, ev.Products}, {domain.RecordStock, ev.Stock}, {domain.RecordCustomer, ev.Customer}} {
			for _, act := range []string{domain.ChangeCreated, domain.ChangeUpdated, domain.ChangeDeleted} {
				if k == r.rec+"."+act {
					r.m[act] += n
				}
			}
		}
	}
	return s.out.Publish(ctx, tx, accountID, domain.EventRecordsChanged, ev)
}

// Register adds the engine's workers.
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &importWorker{s: s})
	river.AddWorker(w, &pushWorker{s: s})
	river.AddWorker(w, &pollWorker{s: s})
	river.AddWorker(w, &reconcileWorker{s: s})
}

// tracksStock answers whether the product (or one of its variants) tracks stock.
func tracksStock(p domain.Product) bool {
	return p.TrackStock || slices.ContainsFunc(p.Variants, func(v domain.Variant) bool { return v.TrackStock })
}
