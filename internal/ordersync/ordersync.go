// Package ordersync keeps the business app's documents (jobs, invoices, sales, bookings) in step
// with orders in the POS. A document write decides from the account's "Automatic
// Sync" settings whether it goes to the POS, and enqueues the push in the same transaction
// (River InsertTx). One worker pushes a document at a time (a lease on its row), always its
// latest version, so a burst of edits ends as the newest state and never as a second order; the
// provider's idempotency key (or a look-up by the document's reference) makes a retry after a
// crash find the order it already created. Inbound POS webhooks are stored before they are
// answered and applied in the background: a completed POS order marks the invoice paid and the
// job completed, per the settings.
package ordersync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/circuit"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
)

// Service is the order sync engine.
type Service struct {
	st  *store.Store
	q   jobs.Enqueuer
	con *integrationconn.Opener
	out *outbox.Outbox
	log *slog.Logger
	now func() time.Time
	// Lease is how long a worker holds a document while pushing it (a crashed worker's lease
	// runs out after this).
	Lease time.Duration
	// Circuit caps each integration's calls in flight and breaks its circuit after repeated
	// timeouts, so that one merchant's hanging POS never holds the workers of the others.
	Circuit *circuit.Guard
	// IntakeCommitters is how many transactions storing inbound webhooks may be in flight at
	// once (default 1 on SQLite, 2 on PostgreSQL).
	IntakeCommitters int
	// OtherEvents, when set, is told of the inbound events order sync does not act on (product,
	// stock, customer and sale events: catalog sync reads the source's changes on them).
	OtherEvents func(ctx context.Context, i domain.Integration, topic string) (store.EventStatus, string, error)
	// OtherEventsWanted, when set, tells whether anything acts on the integration's events that
	// order sync does not act on (catalog sync: it is the account's source). When it answers no,
	// those events are acknowledged without being stored, only counted (see Receive): a web
	// shop posbridge pushes to sends one back for every product it creates. Asked once per
	// verifierTTL, so a change of the answer takes effect within it.
	OtherEventsWanted func(ctx context.Context, i domain.Integration) (bool, error)

	noGroupCommit atomic.Bool
	verifiers     verifierCache
	intakeOnce    sync.Once
	intakeQ       *intakeQueue
	ignored       ignoredCounts

	// Foreground, when set, is told of the invoice writes and pushes in flight (Put, the push
	// job): catalog work gives way to them between its steps.
	Foreground *jobs.Foreground
}

// New returns the engine. SetQueue connects it to River.
// conns opens connectors (lifecycle.Service.Opener).
func New(st *store.Store, conns *integrationconn.Opener, out *outbox.Outbox, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{st: st, con: conns, out: out, log: log, now: time.Now, Lease: time.Minute, Circuit: circuit.NewGuard(st, circuit.Policy{}, log)}
}

// SetQueue connects the engine to the job queue.
func (s *Service) SetQueue(q jobs.Enqueuer) { s.q = q }

// PutInput is a write of a document by the app.
type PutInput struct {
	domain.DocContent
	SyncToPOS *bool // the "Sync to POS" choice for this action; nil = the settings decide
}

// PutResult tells what a write did.
type PutResult struct {
	Document domain.Document
	Created  bool
	Changed  bool
	Queued   bool
}

func hashContent(c domain.DocContent) string {
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Put creates or updates a document. The same content twice changes nothing.
func (s *Service) Put(ctx context.Context, accountID string, kind domain.DocKind, ref string, in PutInput) (PutResult, error) {
	defer s.Foreground.Begin()()
	if err := domain.ValidateRef(ref); err != nil {
		return PutResult{}, err
	}
	if in.Lines == nil {
		in.Lines = []domain.DocLine{}
	}
	if err := in.Validate(kind); err != nil {
		return PutResult{}, err
	}
	hash := hashContent(in.DocContent)
	for attempt := 1; ; attempt++ {
		res, err := s.put(ctx, accountID, kind, ref, in, hash)
		if !errors.Is(err, errCreatedMeanwhile) || attempt == 5 {
			return res, err
		}
		// Another first write of this ref committed between our look and our insert: start over,
		// now as an update of what it wrote.
	}
}

// errCreatedMeanwhile says a document Put was about to create exists now.
var errCreatedMeanwhile = errors.New("the document was created meanwhile")

func (s *Service) put(ctx context.Context, accountID string, kind domain.DocKind, ref string, in PutInput, hash string) (PutResult, error) {
	var res PutResult
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		settings, exists, err := tx.SettingsAndDocumentExists(ctx, accountID, kind, ref)
		if err != nil {
			return err
		}
		now := s.now()
		d, err := domain.Document{}, store.ErrNotFound
		if exists {
			d, err = tx.LockDocument(ctx, accountID, kind, ref)
		}
		change := domain.Change{Override: in.SyncToPOS}
		switch {
		case errors.Is(err, store.ErrNotFound):
			d = domain.Document{AccountID: accountID, Kind: kind, Ref: ref, CreatedAt: now,
				Sync: domain.DocSync{Status: domain.SyncNotSent, AutoSync: in.SyncToPOS == nil || *in.SyncToPOS}}
			change.Created, res.Created = true, true
		case err != nil:
			return err
		case d.Hash == hash && !syncAgain(d, in.SyncToPOS):
			res.Document = d // the same body again: nothing to do
			return nil
		default:
			change.LinesChanged = hashLines(d.Lines) != hashLines(in.Lines) || !sameCustomer(d.Customer, in.Customer)
			change.StatusChanged = d.Status != in.Status
		}
		changed := d.Hash != hash
		change.OtherChanged = changed && !change.Created
		if changed {
			d.DocContent, d.Hash, d.UpdatedAt = in.DocContent, hash, now
			d.Version++
		}
		res.Changed = changed
		if domain.ShouldSync(settings, &d, change) {
			if d.Sync.IntegrationID == "" {
				d.Sync.IntegrationID = settings.IntegrationID
			}
			d.Sync.Status = domain.SyncPending
			res.Queued = true
		}
		if !changed && !res.Queued {
			res.Document = d
			return nil
		}
		if res.Created {
			// Two first writes of one ref at once: the insert of the second finds the first's
			// row (PostgreSQL waits for the first to commit), changes nothing, and starts over.
			if created, err := tx.InsertDocument(ctx, d); err != nil {
				return err
			} else if !created {
				return errCreatedMeanwhile
			}
		} else if err := tx.SaveDocument(ctx, d); err != nil {
			return err
		}
		if res.Queued {
			if err := s.enqueue(ctx, tx, d, "auto"); err != nil {
				return err
			}
		}
		res.Document = d
		return nil
	})
	return res, err
}

// syncAgain tells whether the same body written again with sync_to_pos asks for a push: only
// when the POS does not hold this version yet and no push of it is already queued, so that an
// app retrying its request changes nothing.
func syncAgain(d domain.Document, override *bool) bool {
	if override == nil || !*override {
		return false
	}
	switch d.Sync.Status {
	case domain.SyncPending, domain.SyncSyncing:
		return false
	case domain.SyncSynced:
		return d.Sync.SyncedVersion != d.Version
	}
	return true
}

func hashLines(l []domain.DocLine) string {
	b, _ := json.Marshal(l)
	return string(b)
}

func sameCustomer(a, b *domain.DocCustomer) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// PushArgs asks for a document to be brought in step with the POS.
type PushArgs struct {
	AccountID string         `json:"account_id"`
	DocKind   domain.DocKind `json:"kind"`
	Ref       string         `json:"ref"`
	Reason    string         `json:"reason"`
	// IntegrationID is the POS the document goes to, so that a job of an integration whose
	// circuit is open snoozes before it touches the document (empty in jobs queued before it
	// existed: the document says then).
	IntegrationID string `json:"integration_id,omitempty"`
}

// Kind implements river.JobArgs.
func (PushArgs) Kind() string { return "push_document" }

func (s *Service) enqueue(ctx context.Context, tx *store.Tx, d domain.Document, reason string) error {
	return s.q.InsertTx(ctx, tx, PushArgs{AccountID: d.AccountID, DocKind: d.Kind, Ref: d.Ref, Reason: reason, IntegrationID: d.Sync.IntegrationID}, &river.InsertOpts{MaxAttempts: 8})
}

// Get reads a document.
func (s *Service) Get(ctx context.Context, accountID string, kind domain.DocKind, ref string) (domain.Document, error) {
	d, err := s.st.GetDocument(ctx, accountID, kind, ref)
	if errors.Is(err, store.ErrNotFound) {
		return d, domain.NotFound(string(kind) + " " + ref)
	}
	return d, err
}

// List lists documents of a kind ("" = all), most recently changed first.
func (s *Service) List(ctx context.Context, accountID string, kind domain.DocKind, limit int) ([]domain.Document, error) {
	return s.st.ListDocuments(ctx, accountID, store.DocumentFilter{Kind: kind, Limit: limit})
}

// History lists a document's sync history, newest first.
func (s *Service) History(ctx context.Context, accountID string, kind domain.DocKind, ref string) ([]store.HistoryEntry, error) {
	if _, err := s.Get(ctx, accountID, kind, ref); err != nil {
		return nil, err
	}
	return s.st.ListHistory(ctx, accountID, kind, ref, 200)
}

// SetAutoSync turns the per-document auto-sync toggle on or off.
func (s *Service) SetAutoSync(ctx context.Context, accountID string, kind domain.DocKind, ref string, on bool) (domain.Document, error) {
	var d domain.Document
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = s.lockDoc(ctx, tx, accountID, kind, ref); err != nil {
			return err
		}
		if d.Sync.AutoSync == on {
			return nil
		}
		d.Sync.AutoSync = on
		if err := tx.SaveDocument(ctx, d); err != nil {
			return err
		}
		word := "off"
		if on {
			word = "on"
		}
		return tx.AddHistory(ctx, accountID, kind, ref, store.HistoryEntry{At: s.now(), Action: "auto_sync", Outcome: "ok", Summary: "Auto-sync turned " + word})
	})
	return d, err
}

func (s *Service) lockDoc(ctx context.Context, tx *store.Tx, accountID string, kind domain.DocKind, ref string) (domain.Document, error) {
	d, err := tx.LockDocument(ctx, accountID, kind, ref)
	if errors.Is(err, store.ErrNotFound) {
		return d, domain.NotFound(string(kind) + " " + ref)
	}
	return d, err
}

// Manual actions of the sync dialog.
const (
	ActionResync  = "resync"
	ActionNew     = "new"
	ActionNewVoid = "new_void"
	ActionRetry   = "retry"
)

// Act runs a manual action: resync (push the latest data to the existing order now),
// new / new_void (send as a new order, voiding the existing one first with new_void), retry
// (only after a failure).
func (s *Service) Act(ctx context.Context, accountID string, kind domain.DocKind, ref, action string) (domain.Document, error) {
	var d domain.Document
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = s.lockDoc(ctx, tx, accountID, kind, ref); err != nil {
			return err
		}
		if d.Sync.IntegrationID == "" {
			settings, err := tx.GetOrderSyncSettings(ctx, accountID)
			if err != nil {
				return err
			}
			if settings.IntegrationID == "" {
				return domain.Errorf(domain.CodeConflict, "no POS integration is chosen for orders: set integration_id in the order sync settings")
			}
			d.Sync.IntegrationID = settings.IntegrationID
		}
		switch action {
		case ActionRetry:
			if d.Sync.Status != domain.SyncFailed && d.Sync.Status != domain.SyncRetrying {
				return domain.Errorf(domain.CodeConflict, "retry is only possible after a failed sync; this %s is %s", kind, d.Sync.Status)
			}
		case ActionResync:
			if d.Sync.ExternalID == "" {
				d.Sync.Action = "" // no order yet: a resync creates it
			} else {
				d.Sync.Action = ActionResync
			}
		case ActionNew, ActionNewVoid:
			d.Sync.Action = action
		default:
			return domain.Invalid("action", "unknown action %q", action)
		}
		d.Sync.Status = domain.SyncPending
		if err := tx.SaveDocument(ctx, d); err != nil {
			return err
		}
		if err := tx.AddHistory(ctx, accountID, kind, ref, store.HistoryEntry{At: s.now(), Action: action, Outcome: "queued", Summary: actionSummary(action)}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, d, action)
	})
	return d, err
}

func actionSummary(a string) string {
	switch a {
	case ActionResync:
		return "Re-sync requested"
	case ActionNew:
		return "Send as new order requested (existing order kept)"
	case ActionNewVoid:
		return "Send as new order requested (existing order to be voided first)"
	case ActionRetry:
		return "Retry requested"
	}
	return a
}

// Settings reads the account's order sync settings.
func (s *Service) Settings(ctx context.Context, accountID string) (domain.OrderSyncSettings, error) {
	return s.st.GetOrderSyncSettings(ctx, accountID)
}

// SaveSettings validates and saves the settings; every change is a timeline entry.
func (s *Service) SaveSettings(ctx context.Context, accountID, actor string, in domain.OrderSyncSettings) (domain.OrderSyncSettings, error) {
	if err := in.Validate(); err != nil {
		return in, err
	}
	if in.IntegrationID != "" {
		i, err := s.con.Get(ctx, accountID, in.IntegrationID)
		if domain.IsCode(err, domain.CodeNotFound) {
			return in, domain.Invalid("integration_id", "no integration %q in this account", in.IntegrationID)
		}
		if err != nil {
			return in, err
		}
		p, ok := s.con.Provider(i.Type)
		if !ok || !p.Has(domain.CapOrders) {
			return in, domain.Invalid("integration_id", "%s cannot receive orders", s.con.DisplayName(i.Type))
		}
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.GetOrderSyncSettings(ctx, accountID)
		if err != nil {
			return err
		}
		if old == in {
			return nil
		}
		if err := tx.SaveOrderSyncSettings(ctx, accountID, in, s.now()); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: s.now(), Kind: "order_sync.settings_changed",
			IntegrationID: in.IntegrationID, Actor: actor, Message: "Automatic sync settings changed: " + settingsDiff(old, in)})
	})
	return in, err
}

// settingNames are the Automatic Sync page's words for each setting, for the timeline.
var settingNames = map[string]string{
	"integration_id": "POS", "auto_sync": "Automatic Sync", "sync_on_job_created": "Sync when a job is created",
	"sync_on_items_changed": "Sync when products/services are changed", "sync_on_invoice_created": "Sync when creating an invoice",
	"sync_on_sale_completed": "Sync when completing a sale", "sync_on_booking": "Sync on online bookings",
	"on_cancel": "When a document is cancelled", "mark_invoice_paid_on_completion": "Mark invoice paid on completion",
	"mark_job_completed_on_completion": "Mark job completed on completion",
}

// settingValue shows a setting's value in words: on/off, "none" for an empty one. An integration
// id stays an id: the console names it.
func settingValue(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case nil:
		return "none"
	case string:
		if x == "" {
			return "none"
		}
		return x
	}
	return fmt.Sprint(v)
}

func settingsDiff(a, b domain.OrderSyncSettings) string {
	var am, bm map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &am) //nolint:errcheck // our own encoding
	json.Unmarshal(jb, &bm) //nolint:errcheck
	out := ""
	for _, k := range []string{"integration_id", "auto_sync", "sync_on_job_created", "sync_on_items_changed", "sync_on_invoice_created",
		"sync_on_sale_completed", "sync_on_booking", "on_cancel", "mark_invoice_paid_on_completion", "mark_job_completed_on_completion"} {
		if fmt.Sprint(am[k]) != fmt.Sprint(bm[k]) {
			if out != "" {
				out += ", "
			}
			out += fmt.Sprintf("%s %s -> %s", settingNames[k], settingValue(am[k]), settingValue(bm[k]))
		}
	}
	return out
}
