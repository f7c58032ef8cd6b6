// Package salesimport imports each integration's sales: a River job fetches the
// sales a provider has since the integration's cursor (connector.SalesSource) and imports them
// idempotently in one transaction (a sale is keyed by the provider's id, so overlapping windows
// add nothing and refunds or voids update the sale); a periodic sweep enqueues the integrations
// whose fetch is due, every 6 hours by default or as often as every 5 minutes, at phases spread
// by a hash of their ids. Each fetch is a timeline entry and drives the integration's status
// machine (Healthy, Failed, CalledOff with the email); new or changed sales are announced to the
// app with one sales.imported webhook. Every item sold is kept as a POS item the app can map.
package salesimport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/email"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
)

// Config tunes the import.
type Config struct {
	// FetchTimeout bounds one fetch's provider calls (default 60s).
	FetchTimeout time.Duration
	// MaxSalesPerFetch is how many sales one job imports before it hands the rest to the next
	// job (default 5,000), so a long backfill never holds a worker for long.
	MaxSalesPerFetch int
	Logger           *slog.Logger
}

// StatusRecorder records an integration's status changes the way its own checks do (timeline,
// metrics, the app's integration.status_changed webhook, the called-off email);
// lifecycle.Service is one.
type StatusRecorder interface {
	RecordTransition(ctx context.Context, tx *store.Tx, i domain.Integration, actor string, t *domain.Transition) error
	// CallOffAfter is how many consecutive failures call an integration off.
	CallOffAfter() int
}

// Service imports sales for every account.
type Service struct {
	st     *store.Store
	con    *integrationconn.Opener
	status StatusRecorder
	out    *outbox.Outbox
	q      jobs.Enqueuer
	cfg    Config
	log    *slog.Logger
	now    func() time.Time

	emailDomain string
}

// New returns the service: conns opens the integrations' connectors, status records the status
// changes a fetch causes. SetQueue connects it to River.
func New(st *store.Store, conns *integrationconn.Opener, status StatusRecorder, out *outbox.Outbox, cfg Config) *Service {
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = time.Minute
	}
	if cfg.MaxSalesPerFetch <= 0 {
		cfg.MaxSalesPerFetch = 5000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{st: st, con: conns, status: status, out: out, cfg: cfg, log: cfg.Logger, now: time.Now}
}

// SetQueue connects the service to the job queue.
func (s *Service) SetQueue(q jobs.Enqueuer) { s.q = q }

// SetClock replaces the clock (tests simulating days).
func (s *Service) SetClock(now func() time.Time) {
	if now != nil {
		s.now = now
	}
}

// Result is what one fetch or file import did.
type Result struct {
	New       int    `json:"new"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
	NewItems  int    `json:"new_pos_items"`
	Cursor    string `json:"cursor,omitempty"` // GET /api/v1/sales?cursor= reads the new and changed sales
	More      bool   `json:"more"`             // the provider has more; another fetch follows at once
	Error     string `json:"error,omitempty"`
}

// HasSales tells whether the integration's provider can give sales.
func (s *Service) HasSales(i domain.Integration) bool {
	p, ok := s.con.Provider(i.Type)
	return ok && p.Has(domain.CapSales)
}

// Refresh fetches the integration's sales now (the console's Refresh button,
// POST /api/v1/integrations/{id}/refresh-sales). A called-off or inactive integration answers
// 409; a provider without sales 422.
func (s *Service) Refresh(ctx context.Context, accountID, actor, id string) (domain.Integration, Result, error) {
	i, err := s.con.Get(ctx, accountID, id)
	if err != nil {
		return i, Result{}, err
	}
	if err := i.CheckAllowed(); err != nil {
		return i, Result{}, err
	}
	if !s.HasSales(i) {
		return i, Result{}, &domain.Error{Code: domain.CodeUnsupported,
			Message: s.con.DisplayName(i.Type) + " does not give sales to fetch"}
	}
	return s.Fetch(ctx, i, actor)
}

// SetInterval sets how often the integration's sales are fetched (5 to 360 minutes) and
// schedules its next fetch at its spread phase of the new interval.
func (s *Service) SetInterval(ctx context.Context, accountID, actor, id string, minutes int) (domain.Integration, error) {
	if err := domain.ValidateSalesInterval(minutes); err != nil {
		return domain.Integration{}, err
	}
	var out domain.Integration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := tx.LockIntegration(ctx, accountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return domain.NotFound("integration")
		}
		if err != nil {
			return err
		}
		out = i
		if i.SalesIntervalMinutes == minutes {
			return nil
		}
		next := domain.NextSalesAt(i.ID, time.Duration(minutes)*time.Minute, s.now())
		if err := tx.SetSalesSchedule(ctx, accountID, id, minutes, &next); err != nil {
			return err
		}
		out.SalesIntervalMinutes = minutes
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: s.now(), Kind: domain.KindSettingsChanged,
			IntegrationID: id, Actor: actor, Message: "Settings changed: sales check frequency to " + Every(minutes)})
	})
	return out, err
}

// Every says a sales check frequency in words ("every 6 hours").
func Every(minutes int) string {
	switch {
	case minutes%60 == 0 && minutes == 60:
		return "every hour"
	case minutes%60 == 0:
		return fmt.Sprintf("every %d hours", minutes/60)
	}
	return fmt.Sprintf("every %d minutes", minutes)
}

// intervalOf is the integration's sales interval.
func intervalOf(i domain.Integration) time.Duration {
	if i.SalesIntervalMinutes <= 0 {
		return domain.DefaultSalesInterval
	}
	return time.Duration(i.SalesIntervalMinutes) * time.Minute
}

// read fetches the provider's sales from cursor on: every page, or MaxSalesPerFetch sales.
// It returns the cursor to resume from and whether more are waiting.
func (s *Service) read(ctx context.Context, i domain.Integration, cursor string) ([]domain.Sale, string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
	defer cancel()
	c, err := s.con.Connector(ctx, i)
	if err != nil {
		return nil, "", false, err
	}
	src, err := connector.As[connector.SalesSource](c, domain.CapSales)
	if err != nil {
		return nil, "", false, err
	}
	var all []domain.Sale
	cur := cursor
	for {
		p, err := src.SalesSince(ctx, cur)
		if err != nil {
			return nil, "", false, err
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			if p.Resume != "" {
				cur = p.Resume
			}
			return all, cur, false, nil
		}
		if p.Next == cur {
			return nil, "", false, fmt.Errorf("the POS answered the same page cursor again (%q)", cur)
		}
		cur = p.Next
		if len(all) >= s.cfg.MaxSalesPerFetch {
			return all, cur, true, nil
		}
	}
}

// Fetch reads the integration's new sales from its provider and imports them in one
// transaction with the outcome: the status machine, the times, the cursor and the timeline.
func (s *Service) Fetch(ctx context.Context, before domain.Integration, actor string) (domain.Integration, Result, error) {
	state, err := s.st.GetSalesState(ctx, before.AccountID, before.ID)
	if err != nil {
		return before, Result{}, err
	}
	sales, cursor, more, perr := s.read(ctx, before, state.Cursor)
	var imported []domain.ImportedSale
	if perr == nil {
		imported, perr = convert(sales)
	}
	return s.record(ctx, before, actor, "the POS", importSales(imported, func(tx *store.Tx) error {
		return tx.SetSalesCursor(ctx, before.AccountID, before.ID, cursor)
	}), perr, more)
}

// importer imports within the transaction of a fetch's outcome; an error it wraps in badInput
// (a bad line of a sales file) rolls the import back and is recorded as the fetch's failure.
type importer func(ctx context.Context, tx *store.Tx, i domain.Integration, now time.Time) (store.ImportResult, error)

// badInput marks an importer's error as the data's fault, not the database's.
type badInput struct{ err error }

func (b badInput) Error() string { return b.err.Error() }
func (b badInput) Unwrap() error { return b.err }

// importSales is the importer of sales read whole, plus onOK in the same transaction.
func importSales(sales []domain.ImportedSale, onOK func(tx *store.Tx) error) importer {
	return func(ctx context.Context, tx *store.Tx, i domain.Integration, now time.Time) (store.ImportResult, error) {
		r, err := tx.ImportSales(ctx, i.AccountID, i.ID, sales, auth.NewID, now)
		if err == nil && onOK != nil {
			err = onOK(tx)
		}
		return r, err
	}
}

// record imports sales (perr nil) or records a failed fetch, in one transaction each: a failed
// import leaves no sale behind and is recorded as a failure.
func (s *Service) record(ctx context.Context, before domain.Integration, actor, source string, imp importer, perr error,
	more bool) (domain.Integration, Result, error) {
	i, res, err := s.recordOnce(ctx, before, actor, source, imp, perr, more)
	var bad badInput
	if errors.As(err, &bad) {
		return s.recordOnce(ctx, before, actor, source, nil, bad.err, false)
	}
	return i, res, err
}

func (s *Service) recordOnce(ctx context.Context, before domain.Integration, actor, source string, imp importer, perr error,
	more bool) (domain.Integration, Result, error) {
	var res Result
	var result domain.Integration
	kind := connector.KindOf(perr)
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := tx.LockIntegration(ctx, before.AccountID, before.ID)
		if err != nil {
			return err
		}
		result = i
		if !i.Status.Scheduled() {
			return nil // deactivated or called off meanwhile: nothing to record, nothing imported
		}
		now := s.now()
		if perr != nil && kind == connector.KindRateLimited {
			i.LastSalesCheckAt, i.UpdatedAt = &now, now
			result = i
			if err := tx.UpdateIntegration(ctx, i); err != nil {
				return err
			}
			return s.timeline(ctx, tx, i, actor, "Sales fetch postponed: the POS asked to slow down ("+connector.Message(perr)+")")
		}
		outcome := domain.SalesFetchOutcome{CheckOutcome: domain.CheckOutcome{OK: perr == nil}}
		if perr != nil {
			outcome.Message = message(perr)
			outcome.CredentialsRejected = kind == connector.KindCredentials
			res.Error = outcome.Message
		} else {
			r, err := imp(ctx, tx, i, now)
			if err != nil {
				return err
			}
			res = Result{New: r.New, Updated: r.Updated, Unchanged: r.Unchanged, NewItems: r.NewItems, More: more}
			if r.FirstSeq > 0 {
				res.Cursor = strconv.FormatInt(r.FirstSeq-1, 10)
			}
			outcome.NewSales = r.New > 0
		}
		t := i.ApplySalesFetch(outcome, s.status.CallOffAfter(), now)
		i.UpdatedAt = now
		if err := tx.UpdateIntegration(ctx, i); err != nil {
			return err
		}
		result = i
		var msg string
		if perr != nil {
			msg = fmt.Sprintf("Sales fetch from %s failed (%d in a row): %s", source, i.ConsecutiveFailures, outcome.Message)
		} else {
			msg = fmt.Sprintf("Sales fetched from %s: %d new, %d updated, %d already imported", source, res.New, res.Updated, res.Unchanged)
			if res.NewItems > 0 {
				msg += fmt.Sprintf("; %d new POS item(s)", res.NewItems)
			}
		}
		if err := s.timeline(ctx, tx, i, actor, msg); err != nil {
			return err
		}
		if res.New+res.Updated > 0 {
			if err := s.out.Publish(ctx, tx, i.AccountID, domain.EventSalesImported, map[string]any{
				"integration_id": i.ID, "count": res.New + res.Updated, "new": res.New, "updated": res.Updated, "cursor": res.Cursor,
			}); err != nil {
				return err
			}
		}
		if more && s.q != nil {
			if err := s.enqueue(ctx, tx, i); err != nil {
				return err
			}
		}
		return s.status.RecordTransition(ctx, tx, i, actor, t)
	})
	if err != nil {
		return before, Result{}, err
	}
	if perr != nil {
		s.log.Info("sales fetch failed", "integration", before.ID, "type", before.Type, "kind", kind.String(), "status", result.Status)
	}
	return result, res, nil
}

func (s *Service) timeline(ctx context.Context, tx *store.Tx, i domain.Integration, actor, msg string) error {
	return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: i.AccountID, At: s.now(), Kind: domain.KindSalesFetched,
		IntegrationID: i.ID, Actor: actor, Message: msg})
}

// message is a failure in the merchant's words: the provider's, or ours.
func message(err error) string {
	var ce *connector.Error
	if errors.As(err, &ce) {
		return connector.Message(err)
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// Bounds on what one sale may carry (a POS's data is input like any other).
const (
	maxLines    = 1000
	maxPayments = 50
	maxText     = 500
)

// convert turns provider sales into posbridge's form: one of three statuses, amounts in the
// sale's currency, and each line's POS item key.
func convert(in []domain.Sale) ([]domain.ImportedSale, error) {
	out := make([]domain.ImportedSale, 0, len(in))
	seen := make(map[string]int, len(in))
	for _, s := range in {
		if s.ID == "" {
			return nil, errors.New("the POS sent a sale without an id")
		}
		if len(s.Lines) > maxLines || len(s.Payments) > maxPayments {
			return nil, fmt.Errorf("sale %s has %d lines and %d payments (at most %d and %d)", clip(s.ID), len(s.Lines), len(s.Payments), maxLines, maxPayments)
		}
		at := s.CompletedAt
		if at.IsZero() {
			at = s.UpdatedAt
		}
		x := domain.ImportedSale{ExternalID: clip(s.ID), Number: clip(s.Number), StoreID: clip(s.StoreID), Status: SaleStatus(s.Status),
			Currency: s.Total.Currency, Total: s.Total.Amount, SoldAt: at.UTC().Truncate(time.Microsecond)}
		for _, l := range s.Lines {
			x.Lines = append(x.Lines, domain.SaleLine{ItemKey: ItemKey(l), SKU: clip(l.SKU), Name: clip(l.Name), Quantity: clip(l.Quantity),
				UnitPrice: l.UnitPrice.Amount, Total: l.Total.Amount})
		}
		for _, p := range s.Payments {
			x.Payments = append(x.Payments, domain.SalePayment{Method: clip(p.Method), Amount: p.Amount.Amount})
		}
		// A sale listed twice in one read (it changed while we paged): its last state counts.
		if n, ok := seen[x.ExternalID]; ok {
			out[n] = x
			continue
		}
		seen[x.ExternalID] = len(out)
		out = append(out, x)
	}
	return out, nil
}

func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	s = s[:maxText]
	for len(s) > 0 && !isRuneStart(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// SaleStatus maps a provider's sale status to completed, refunded or voided.
func SaleStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "refunded", "partially_refunded", "refund", "returned", "exchanged":
		return domain.SaleRefunded
	case "voided", "void", "cancelled", "canceled", "deleted":
		return domain.SaleVoided
	}
	return domain.SaleCompleted
}

// ItemKey names a line's POS item within its integration: the provider's product (and
// variant) id, else its SKU, else its name.
func ItemKey(l domain.OrderLine) string {
	switch {
	case l.ProductID != "" && l.VariantID != "":
		return clip(l.ProductID + "/" + l.VariantID)
	case l.ProductID != "":
		return clip(l.ProductID)
	case l.VariantID != "":
		return clip("variant:" + l.VariantID)
	case l.SKU != "":
		return clip("sku:" + l.SKU)
	}
	return clip("name:" + strings.ToLower(strings.TrimSpace(l.Name)))
}

// FetchArgs asks for one sales fetch of an integration.
type FetchArgs struct {
	AccountID     string `json:"account_id"`
	IntegrationID string `json:"integration_id"`
}

// Kind implements river.JobArgs.
func (FetchArgs) Kind() string { return "fetch_sales" }

// enqueue adds a fetch unless one is already waiting or running for the integration.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, i domain.Integration) error {
	return s.q.InsertTx(ctx, tx, FetchArgs{AccountID: i.AccountID, IntegrationID: i.ID}, &river.InsertOpts{MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable,
			rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}})
}

// SweepArgs is the periodic sweep that enqueues due sales fetches.
type SweepArgs struct{}

// Kind implements river.JobArgs.
func (SweepArgs) Kind() string { return "schedule_sales" }

// PeriodicJobs is the sweep, every interval (a minute is right: a fetch is never more than that late).
func (s *Service) PeriodicJobs(every time.Duration) []*river.PeriodicJob {
	if every <= 0 {
		every = time.Minute
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: max(every, time.Second)}}
		}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// Register adds the workers.
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &fetchWorker{s: s})
	river.AddWorker(w, &sweepWorker{s: s})
}

type fetchWorker struct {
	river.WorkerDefaults[FetchArgs]
	s *Service
}

func (w *fetchWorker) Work(ctx context.Context, job *river.Job[FetchArgs]) error {
	i, err := w.s.con.Get(ctx, job.Args.AccountID, job.Args.IntegrationID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !i.Status.Scheduled() || !w.s.HasSales(i) {
		return nil // deactivated, called off, or nothing to fetch: no work
	}
	_, _, err = w.s.Fetch(ctx, i, domain.ActorSystem)
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

// Work enqueues a fetch for every integration whose sales fetch is due (up to 1,000 a sweep;
// the next sweep takes the rest) and gives those not yet scheduled their first time.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	s := w.s
	now := s.now()
	due, err := s.st.DueSales(ctx, now, 1000)
	if err != nil {
		return err
	}
	for _, i := range due {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			if !s.HasSales(i) {
				// Nothing to fetch: look again in a day (an email integration's files come by
				// SMTP; 30 days without one calls it off).
				claimed, err := tx.ClaimDueSales(ctx, i.AccountID, i.ID, now, now.Add(24*time.Hour))
				if err != nil || !claimed || i.Type != email.Type {
					return err
				}
				return s.callOffSilentEmail(ctx, tx, i, now)
			}
			unscheduled := false
			if st, err := tx.GetSalesState(ctx, i.AccountID, i.ID); err != nil {
				return err
			} else if st.NextAt == nil {
				unscheduled = true
			}
			next := domain.NextSalesAt(i.ID, intervalOf(i), now)
			claimed, err := tx.ClaimDueSales(ctx, i.AccountID, i.ID, now, next)
			if err != nil || !claimed {
				return err
			}
			if unscheduled && now.Sub(i.CreatedAt) > time.Hour {
				// A first schedule of an older integration waits for its phase: 10,000
				// integrations scheduled at once by an upgrade must not all fetch in the same
				// minute. A new one fetches now, so its merchant sees sales at once.
				return nil
			}
			return s.enqueue(ctx, tx, i)
		})
		if err != nil {
			return fmt.Errorf("schedule sales fetch of %s: %w", i.ID, err)
		}
	}
	return nil
}
