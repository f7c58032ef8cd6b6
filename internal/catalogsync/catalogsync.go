// Package catalogsync brings the system of record's catalog to posbridge and on to web shops:
// an account names the POS that is master of products, stock and
// customers (the source) and the web shops its products go to (the destinations). An import
// reads every product, stock level and customer from the source page by page in the River
// queue "catalog", resumable from a stored cursor; deletions are concluded only after a complete
// pass. The records feed the app's product search, customers list and change feed; every change
// of a linked product is pushed whole to each destination, except the fields the destination owns.
package catalogsync

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
)

// Queue is the River queue of catalog work: bulk reads and pushes run there with workers of
// their own, so one merchant's backfill never sits in front of another's orders.
const Queue = "catalog"

// Service is the catalog sync engine.
type Service struct {
	st  *store.Store
	con *integrationconn.Opener
	out *outbox.Outbox
	q   jobs.Enqueuer
	log *slog.Logger
	now func() time.Time

	// PushCalls counts the batch calls of pushes to destinations, PushedProducts the products
	// they took (posbridge_catalog_push_calls_total, posbridge_catalog_pushed_products_total).
	PushCalls, PushedProducts atomic.Int64

	analyzedAt atomic.Int64 // when the push last refreshed PostgreSQL's statistics (Unix ns)
	// pushFrom is, per account and destination, the product id after which the destination's
	// last push step yielded: the next step goes on from there instead of reading the products
	// pushed already again (a hint: a push ends only after a pass from the start found nothing).
	pushFrom sync.Map
	// partialSince is, per account and destination, when its push first held back a batch not
	// full while the import was writing products (see PartialWait).
	partialSince sync.Map
	// importChunk, when above 0, is ImportWriteChunk for this engine (tests).
	importChunk atomic.Int64
	// StepMax, when above 0, bounds how long one run of an import or push job goes on (below
	// ImportStepMax): it must stay well below the time after which River takes a running job for
	// one a crashed process left (a job rescued while it runs is run again beside itself, an
	// attempt spent each time).
	StepMax time.Duration

	// Foreground, when set, is the work merchants wait for in this process (order sync's
	// invoice writes and pushes): an import waits for it before each transaction, a push before
	// each batch and before recording it, up to YieldMax each time.
	Foreground *jobs.Foreground
}

// PartialWait is how long a push holds back a batch that is not full while the account's import
// is writing products: an import writes a page in transactions of ImportWriteChunk, so a push
// beside it finds a page in parts and would send each as a batch call of its own; snoozed, it
// finds the page whole. Bounded, so changes pushed during a long full refresh wait at most this.
var PartialWait = 2 * time.Second

// YieldMax bounds each wait of catalog work for foreground work (jobs.Foreground), so a steady
// stream of invoices slows a backfill down but never stops it.
var YieldMax = 20 * time.Millisecond

// SetImportWriteChunk sets how many records of a page one import transaction writes at most (0:
// ImportWriteChunk).
func (s *Service) SetImportWriteChunk(n int) { s.importChunk.Store(int64(n)) }

// New returns the engine; conns opens the integrations' connectors. SetQueue connects it to River.
func New(st *store.Store, conns *integrationconn.Opener, out *outbox.Outbox, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{st: st, con: conns, out: out, log: log, now: time.Now}
}

// SetQueue connects the engine to the job queue.
func (s *Service) SetQueue(q jobs.Enqueuer) { s.q = q }

// SetClock sets the clock of the engine's timestamps (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Settings reads the account's catalog sync settings.
func (s *Service) Settings(ctx context.Context, accountID string) (domain.CatalogSyncSettings, error) {
	return s.st.GetCatalogSyncSettings(ctx, accountID)
}

// SaveSettings validates and saves the settings; every change is a timeline entry.
func (s *Service) SaveSettings(ctx context.Context, accountID, actor string, in domain.CatalogSyncSettings) (domain.CatalogSyncSettings, error) {
	if in.Destinations == nil {
		in.Destinations = []domain.CatalogDestination{}
	}
	if err := in.Validate(); err != nil {
		return in, err
	}
	if in.SourceIntegrationID != "" {
		if err := s.checkIntegration(ctx, accountID, "source_integration_id", in.SourceIntegrationID, "is not a source of products"); err != nil {
			return in, err
		}
	}
	for i, d := range in.Destinations {
		if err := s.checkIntegration(ctx, accountID, fmt.Sprintf("destinations[%d].integration_id", i), d.IntegrationID, "cannot receive products"); err != nil {
			return in, err
		}
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.GetCatalogSyncSettings(ctx, accountID)
		if err != nil {
			return err
		}
		diff := settingsDiff(old, in)
		if diff == "" {
			return nil
		}
		if err := tx.SaveCatalogSyncSettings(ctx, accountID, in, s.now()); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: s.now(), Kind: domain.KindCatalogSettingsChanged,
			IntegrationID: in.SourceIntegrationID, Actor: actor, Message: "Catalog sync settings changed: " + diff}); err != nil {
			return err
		}
		return s.pushAfterSettings(ctx, tx, accountID, actor, old, in)
	})
	return in, err
}

// pushAfterSettings queues a push (in batches, as any) to each destination a change of the
// settings affects, with a timeline entry for each: every product to a destination added, or to
// all when catalog sync was turned on or given another source; the products linked to a
// destination again when the fields it owns, whether empty values overwrite or the locations it
// counts changed (what it gets changed, though the products did not).
func (s *Service) pushAfterSettings(ctx context.Context, tx *store.Tx, accountID, actor string, old, in domain.CatalogSyncSettings) error {
	if !in.Enabled || in.SourceIntegrationID == "" {
		return nil
	}
	before := map[string]domain.CatalogDestination{}
	for _, d := range old.Destinations {
		before[d.IntegrationID] = d
	}
	for _, d := range in.Destinations {
		o, had := before[d.IntegrationID]
		var msg string
		switch {
		case !old.Enabled || old.SourceIntegrationID == "":
			msg = "Catalog push queued: catalog sync was turned on, so every product this shop does not have as the POS has it goes to it."
		case old.SourceIntegrationID != in.SourceIntegrationID:
			msg = "Catalog push queued: the source changed, so every product of the new source goes to this shop."
		case !had:
			msg = "Catalog push queued: the shop was added as a destination, so every product of the source goes to it."
		default:
			fields := !slices.Equal(o.OwnedFields, d.OwnedFields) || o.EmptyOverwrites != d.EmptyOverwrites
			stock := !maps.Equal(o.StockLocations, d.StockLocations)
			if !fields && !stock {
				continue
			}
			n, err := tx.RepushCatalogLinks(ctx, accountID, d.IntegrationID, stock)
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			var why []string
			if !slices.Equal(o.OwnedFields, d.OwnedFields) {
				why = append(why, "the fields the shop owns")
			}
			if o.EmptyOverwrites != d.EmptyOverwrites {
				why = append(why, "whether empty values overwrite")
			}
			if stock {
				why = append(why, "the stock locations it counts")
			}
			msg = fmt.Sprintf("Catalog push queued: %s changed, so the %d products linked to this shop go to it again.", strings.Join(why, " and "), n)
		}
		if err := s.enqueuePush(ctx, tx, accountID, d.IntegrationID); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: s.now(), Kind: domain.KindCatalogPushQueued,
			IntegrationID: d.IntegrationID, Actor: actor, Message: msg}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) checkIntegration(ctx context.Context, accountID, field, id, cannot string) error {
	i, err := s.con.Get(ctx, accountID, id)
	if domain.IsCode(err, domain.CodeNotFound) {
		return domain.Invalid(field, "no integration %q in this account", id)
	}
	if err != nil {
		return err
	}
	p, ok := s.con.Provider(i.Type)
	if !ok || !p.Has(domain.CapProducts) {
		return domain.Invalid(field, "%s %s", s.con.DisplayName(i.Type), cannot)
	}
	return nil
}

// settingsDiff says what changed in words, "" when nothing did.
func settingsDiff(a, b domain.CatalogSyncSettings) string {
	var parts []string
	if a.SourceIntegrationID != b.SourceIntegrationID {
		parts = append(parts, fmt.Sprintf("source %q -> %q", a.SourceIntegrationID, b.SourceIntegrationID))
	}
	if a.Enabled != b.Enabled {
		parts = append(parts, fmt.Sprintf("enabled %v -> %v", a.Enabled, b.Enabled))
	}
	old := map[string]domain.CatalogDestination{}
	for _, d := range a.Destinations {
		old[d.IntegrationID] = d
	}
	for _, d := range b.Destinations {
		o, ok := old[d.IntegrationID]
		delete(old, d.IntegrationID)
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("destination %s added (shop owns %s; empty values overwrite: %v)", d.IntegrationID, ownedWords(d.OwnedFields), d.EmptyOverwrites))
		default:
			if !slices.Equal(o.OwnedFields, d.OwnedFields) {
				parts = append(parts, fmt.Sprintf("destination %s: shop owns %s -> %s", d.IntegrationID, ownedWords(o.OwnedFields), ownedWords(d.OwnedFields)))
			}
			if o.EmptyOverwrites != d.EmptyOverwrites {
				parts = append(parts, fmt.Sprintf("destination %s: empty values overwrite %v -> %v", d.IntegrationID, o.EmptyOverwrites, d.EmptyOverwrites))
			}
			if !maps.Equal(o.StockLocations, d.StockLocations) {
				parts = append(parts, fmt.Sprintf("destination %s: stock from %s -> %s", d.IntegrationID, locationWords(o.StockLocations), locationWords(d.StockLocations)))
			}
		}
	}
	for _, d := range a.Destinations {
		if _, gone := old[d.IntegrationID]; gone {
			parts = append(parts, fmt.Sprintf("destination %s removed", d.IntegrationID))
		}
	}
	return strings.Join(parts, ", ")
}

func locationWords(m map[string]string) string {
	if len(m) == 0 {
		return "every location"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		to := m[k]
		if to == "" {
			to = "the shop's default location"
		}
		parts = append(parts, k+" to "+to)
	}
	return strings.Join(parts, ", ")
}

func ownedWords(f []string) string {
	if len(f) == 0 {
		return "no fields"
	}
	return strings.Join(f, " and ")
}
