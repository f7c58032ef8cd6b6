package backoffice

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Connectors opens the POS integrations a delivered version is written to
// (internal/integrationconn.Opener).
type Connectors interface {
	Get(ctx context.Context, accountID, id string) (domain.Integration, error)
	Connector(ctx context.Context, i domain.Integration) (connector.Connector, error)
	DisplayName(typ string) string
}

// SetConnectors lets delivered versions reach the store's POS integrations; without it only
// terminals get them.
func (s *Service) SetConnectors(c Connectors) { s.conns = c }

// POSArgs is the River job writing a delivered version to one POS integration of its store.
type POSArgs struct {
	AccountID     string `json:"account_id"`
	StoreID       string `json:"store_id"`
	Version       int64  `json:"version"`
	IntegrationID string `json:"integration_id"`
}

// Kind implements river.JobArgs.
func (POSArgs) Kind() string { return "backoffice_pos" }

// posAttempts bounds the attempts of a POS write; the last failure goes to the timeline.
const posAttempts = 6

// maxPOSPages bounds how many pages of the POS's products are read to find them by SKU.
const maxPOSPages = 2000

// KindPOSDelivered and KindPOSFailed are the timeline kinds of a version written (or not) to a
// POS integration.
const (
	KindPOSDelivered = "back_office.pos_delivered"
	KindPOSFailed    = "back_office.pos_failed"
)

// enqueuePOS schedules the version's write to each POS integration of the store (in the
// transaction marking it delivered).
func (s *Service) enqueuePOS(ctx context.Context, tx *store.Tx, a DeliverArgs) error {
	if s.conns == nil {
		return nil
	}
	ids, err := tx.StoreIntegrations(ctx, a.AccountID, a.StoreID)
	if err != nil {
		return fmt.Errorf("list the POS integrations of store %s: %w", a.StoreID, err)
	}
	for _, id := range ids {
		if err := tx.PutPOSDelivery(ctx, a.AccountID, store.POSDelivery{StoreID: a.StoreID, Version: a.Version, IntegrationID: id,
			Status: POSPending, Message: "Waiting to be written to the POS.", UpdatedAt: s.now()}); err != nil {
			return fmt.Errorf("record the write of version %d to %s: %w", a.Version, id, err)
		}
		if err := s.q.InsertTx(ctx, tx, POSArgs{AccountID: a.AccountID, StoreID: a.StoreID, Version: a.Version, IntegrationID: id},
			&river.InsertOpts{MaxAttempts: posAttempts}); err != nil {
			return fmt.Errorf("schedule the write of version %d to %s: %w", a.Version, id, err)
		}
	}
	return nil
}

type posWorker struct {
	river.WorkerDefaults[POSArgs]
	s *Service
}

// Timeout bounds one write: reading a large POS catalogue takes a while.
func (w *posWorker) Timeout(*river.Job[POSArgs]) time.Duration { return 5 * time.Minute }

func (w *posWorker) Work(ctx context.Context, job *river.Job[POSArgs]) error {
	s, a := w.s, job.Args
	if s.conns == nil {
		return nil
	}
	newest, err := s.st.LatestVersionNumber(ctx, a.AccountID, a.StoreID, true)
	if err != nil {
		return err
	}
	if newest > a.Version {
		// A newer version was delivered; its own write follows.
		return s.posRecord(ctx, a, POSSkipped, fmt.Sprintf("Not written: version %d was delivered after it and is written instead.", newest), "", job.Attempt)
	}
	v, err := s.st.GetVersion(ctx, a.AccountID, a.StoreID, a.Version)
	if err != nil {
		return fmt.Errorf("read version %d of store %s: %w", a.Version, a.StoreID, err)
	}
	c, err := decodeContent(v.Content)
	if err != nil {
		return err
	}
	i, err := s.conns.Get(ctx, a.AccountID, a.IntegrationID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !i.Status.Active() || i.StoreID != a.StoreID {
		// Turned off or moved to another store meanwhile.
		return s.posRecord(ctx, a, POSSkipped, "Not written: the integration was disconnected or moved to another store before its turn.", "", job.Attempt)
	}
	label := i.Label(s.conns.DisplayName(i.Type))
	r, err := s.writePrices(ctx, i, c)
	if err != nil {
		k := connector.KindOf(err)
		if k == connector.KindRateLimited {
			wait := time.Second
			var ce *connector.Error
			if errors.As(err, &ce) && ce.RetryAfter > 0 {
				wait = ce.RetryAfter
			}
			return river.JobSnooze(wait)
		}
		retry := k == connector.KindTemporary || k == connector.KindConflict
		why := domain.Explain("The prices could not be written: " + err.Error())
		if retry && job.Attempt < job.MaxAttempts {
			if rerr := s.posRecord(ctx, a, POSRetrying, why.Text+fmt.Sprintf(" posbridge tries again by itself (attempt %d of %d).", job.Attempt, job.MaxAttempts),
				why.Detail, job.Attempt); rerr != nil {
				s.log.Warn("record a back-office POS write", "err", rerr)
			}
			return fmt.Errorf("write back-office version %d to %s: %w", a.Version, a.IntegrationID, err)
		}
		msg := fmt.Sprintf("Back office version %d of store %s could not be written to %s: %s.", a.Version, a.StoreID, label,
			strings.TrimSuffix(connector.Message(err), "."))
		if k == connector.KindUnsupported {
			msg = fmt.Sprintf("%s does not take product prices from posbridge; its own prices stay as they are (back office version %d of store %s).",
				label, a.Version, a.StoreID)
			why = domain.Explained{Text: "Not written: this POS does not take product prices from posbridge; its own prices stay as they are.",
				Detail: connector.Message(err)}
		}
		if err := s.posRecord(ctx, a, POSFailed, why.Text, why.Detail, job.Attempt); err != nil {
			return err
		}
		return s.posTimeline(ctx, a, KindPOSFailed, msg)
	}
	kind, msg, status := KindPOSDelivered, r.sentence(a, label), POSDelivered
	detail := ""
	if len(r.failed) > 0 {
		kind, status = KindPOSFailed, POSFailed
		detail = "Refused by the POS: " + strings.Join(r.failed, "; ")
	}
	if err := s.posRecord(ctx, a, status, r.summary(), detail, job.Attempt); err != nil {
		return err
	}
	return s.posTimeline(ctx, a, kind, msg)
}

// Statuses of a version's delivery to a POS integration (store.POSDelivery.Status).
const (
	POSPending   = "pending"   // scheduled, not yet tried
	POSRetrying  = "retrying"  // failed for a reason that may pass; posbridge tries again
	POSDelivered = "delivered" // written (prices changed or already right)
	POSFailed    = "failed"    // refused, in whole or in part; posbridge does not try again
	POSSkipped   = "skipped"   // not written: a newer version went instead, or the integration went
)

// posRecord records what became of the write, for the back office page and the API.
func (s *Service) posRecord(ctx context.Context, a POSArgs, status, msg, detail string, attempt int) error {
	return s.st.PutPOSDelivery(ctx, a.AccountID, store.POSDelivery{StoreID: a.StoreID, Version: a.Version, IntegrationID: a.IntegrationID,
		Status: status, Message: msg, Detail: detail, Attempts: attempt, UpdatedAt: s.now()})
}

func (s *Service) posTimeline(ctx context.Context, a POSArgs, kind, msg string) error {
	return s.st.AddTimeline(ctx, domain.TimelineEntry{AccountID: a.AccountID, At: s.now(), Kind: kind, IntegrationID: a.IntegrationID,
		Actor: domain.ActorSystem, Message: msg})
}

// posResult is what one write did.
type posResult struct {
	updated, same int
	missing       []string // back-office products the POS has no product or variant of (by SKU)
	noSKU         int
	failed        []string // "name: the POS's words"
}

func (r posResult) sentence(a POSArgs, label string) string {
	return fmt.Sprintf("Back office version %d of store %s written to %s: %s", a.Version, a.StoreID, label, r.summary())
}

// summary is what the write did, as the version's delivery to the integration says it.
func (r posResult) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d price(s) changed, %d already right", r.updated, r.same)
	if len(r.failed) > 0 {
		fmt.Fprintf(&b, "; %d refused by the POS (%s)", len(r.failed), listSome(r.failed))
	}
	if len(r.missing) > 0 {
		fmt.Fprintf(&b, "; %d not found at the POS by SKU (%s)", len(r.missing), listSome(r.missing))
	}
	if r.noSKU > 0 {
		fmt.Fprintf(&b, "; %d without a SKU, left out", r.noSKU)
	}
	b.WriteString(".")
	return b.String()
}

func listSome(xs []string) string {
	if len(xs) > 5 {
		return strings.Join(xs[:5], ", ") + fmt.Sprintf(" and %d more", len(xs)-5)
	}
	return strings.Join(xs, ", ")
}

// posTarget is where a back-office product's price lives at the POS: a product, or one of its
// variants (variant >= 0).
type posTarget struct {
	product int
	variant int
}

// writePrices sets the POS's prices of the version's products, found by SKU (a product's or a
// variant's), where they differ; products are written in batches.
func (s *Service) writePrices(ctx context.Context, i domain.Integration, c Content) (posResult, error) {
	var r posResult
	conn, err := s.conns.Connector(ctx, i)
	if err != nil {
		return r, err
	}
	src, err := connector.As[connector.ProductSource](conn, domain.CapProducts)
	if err != nil {
		return r, err
	}
	sink, err := connector.As[connector.ProductSink](conn, domain.CapProducts)
	if err != nil {
		return r, err
	}
	var ps []domain.Product
	bySKU := map[string]posTarget{}
	cursor := ""
	for page := 0; page < maxPOSPages; page++ {
		pg, err := src.ListProducts(ctx, cursor)
		if err != nil {
			return r, err
		}
		for _, p := range pg.Items {
			if p.Deleted {
				continue
			}
			ps = append(ps, p)
			n := len(ps) - 1
			if p.SKU != "" {
				bySKU[p.SKU] = posTarget{n, -1}
			}
			for vi, v := range p.Variants {
				if v.SKU != "" {
					bySKU[v.SKU] = posTarget{n, vi}
				}
			}
		}
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
	}
	changed := map[int][]string{} // POS product -> the back-office names changed in it
	for _, bp := range c.Products {
		if bp.SKU == "" {
			r.noSKU++
			continue
		}
		t, ok := bySKU[bp.SKU]
		if !ok {
			r.missing = append(r.missing, bp.Name)
			continue
		}
		price := &ps[t.product].Price
		if t.variant >= 0 {
			price = &ps[t.product].Variants[t.variant].Price
		}
		if price.Currency != "" && c.Currency != "" && !strings.EqualFold(price.Currency, c.Currency) {
			r.failed = append(r.failed, fmt.Sprintf("%s: the POS prices it in %s, the back office in %s", bp.Name, price.Currency, c.Currency))
			continue
		}
		if price.Amount == bp.Price {
			r.same++
			continue
		}
		price.Amount = bp.Price
		changed[t.product] = append(changed[t.product], bp.Name)
	}
	idx := make([]int, 0, len(changed))
	for n := range changed {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	const batch = 100
	for len(idx) > 0 {
		part := idx[:min(batch, len(idx))]
		idx = idx[len(part):]
		out := make([]domain.Product, 0, len(part))
		for _, n := range part {
			out = append(out, ps[n])
		}
		res, err := sink.UpsertProducts(ctx, out)
		if err != nil && len(res) == 0 {
			return r, err
		}
		for _, br := range res {
			if br.Index < 0 || br.Index >= len(part) {
				continue
			}
			names := changed[part[br.Index]]
			if br.Err != nil {
				k := connector.KindOf(br.Err)
				if k == connector.KindTemporary || k == connector.KindRateLimited || k == connector.KindConflict {
					return r, br.Err // the whole write is tried again
				}
				for _, name := range names {
					r.failed = append(r.failed, name+": "+connector.Message(br.Err))
				}
				continue
			}
			r.updated += len(names)
		}
	}
	return r, nil
}
