// Package backoffice is the back office of POS terminals: a draft per store of what the POS terminals run
// with (products and prices, categories, tax rates, discounts, POS settings and the receipt),
// "Save and Publish" freezing an immutable numbered version (who, when, a diff against the one
// before) that is delivered after a short period (a River job scheduled at delivers_at; of
// several publishes within the period only the newest is delivered), and the terminals: paired
// with a one-time code from the console, holding a device token, long-polling for the newest
// delivered version, and "Sync Back Office" answering the newest published version at once.
// A delivered version is also written to the store's POS integrations where a connector can
// take it (product prices, found at the POS by SKU), each outcome in the timeline.
package backoffice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/store"
)

// DefaultDelay is how long after Save and Publish terminals get a version by themselves.
const DefaultDelay = 30 * time.Second

// PairingCodeTTL is how long a pairing code works.
const PairingCodeTTL = 15 * time.Minute

// Service runs the back office.
type Service struct {
	st    *store.Store
	q     jobs.Enqueuer
	log   *slog.Logger
	conns Connectors
	now   func() time.Time
	Delay time.Duration // the publish delay of accounts that have not set theirs

	fan     fanout
	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a version is delivered in this process
}

// New returns the service.
func New(st *store.Store, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{st: st, log: log, now: time.Now, Delay: DefaultDelay, changed: make(chan struct{})}
}

// SetQueue sets the River queue deliveries are scheduled on.
func (s *Service) SetQueue(q jobs.Enqueuer) { s.q = q }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Draft is a store's draft with its state.
type Draft struct {
	StoreID string     `json:"store_id"`
	Content Content    `json:"content"`
	Saved   bool       `json:"saved"` // false: never saved; the content is the newest version's or empty
	Updated *time.Time `json:"updated_at"`
	By      string     `json:"updated_by"`
	// Version is the newest published version (0 when none).
	Version int64 `json:"published_version"`
}

func checkStore(p access.Principal, storeID string, perm domain.Permission) error {
	if storeID == "" {
		return domain.Invalid("store_id", "store_id is required")
	}
	if err := domain.CheckText("store_id", storeID, domain.TextID); err != nil {
		return err
	}
	if err := p.Require(perm); err != nil {
		return err
	}
	if !p.Role.CoversStore(storeID) {
		return &domain.Error{Code: domain.CodeForbidden, Field: string(perm),
			Message: fmt.Sprintf("your role %q is limited to other stores than %q", p.Role.Name, storeID)}
	}
	return nil
}

func decodeContent(s string) (Content, error) {
	var c Content
	err := json.Unmarshal([]byte(s), &c)
	c.normalize()
	return c, err
}

// GetDraft reads a store's draft; never saved, it starts from the newest version.
func (s *Service) GetDraft(ctx context.Context, p access.Principal, storeID string) (Draft, error) {
	if err := checkStore(p, storeID, ""); err != nil {
		return Draft{}, err
	}
	d := Draft{StoreID: storeID, Content: Content{}}
	d.Content.normalize()
	v, err := s.st.LatestVersion(ctx, p.AccountID, storeID, false)
	if err == nil {
		d.Version = v.Version
		if d.Content, err = decodeContent(v.Content); err != nil {
			return Draft{}, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return Draft{}, err
	}
	dr, err := s.st.GetDraft(ctx, p.AccountID, storeID)
	if errors.Is(err, store.ErrNotFound) {
		return d, nil
	}
	if err != nil {
		return Draft{}, err
	}
	if d.Content, err = decodeContent(dr.Content); err != nil {
		return Draft{}, err
	}
	d.Saved, d.Updated, d.By = true, &dr.UpdatedAt, dr.UpdatedBy
	return d, nil
}

// SaveDraft replaces a store's draft after checking it.
func (s *Service) SaveDraft(ctx context.Context, p access.Principal, storeID string, c Content) (Draft, error) {
	if err := checkStore(p, storeID, domain.PermEditBackOffice); err != nil {
		return Draft{}, err
	}
	if err := c.Validate(); err != nil {
		return Draft{}, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return Draft{}, err
	}
	if err := s.st.PutDraft(ctx, p.AccountID, store.BackOfficeDraft{StoreID: storeID, Content: string(b), UpdatedAt: s.now(), UpdatedBy: p.Actor}); err != nil {
		return Draft{}, err
	}
	return s.GetDraft(ctx, p, storeID)
}

// Version is a published version as the API shows it.
type Version struct {
	StoreID     string     `json:"store_id"`
	Version     int64      `json:"version"`
	PublishedBy string     `json:"published_by"`
	PublishedAt time.Time  `json:"published_at"`
	DeliversAt  time.Time  `json:"delivers_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	Diff        []string   `json:"diff"`
	Content     *Content   `json:"content,omitempty"`
	// Deliveries says where the version went: the store's terminals and POS integrations.
	Deliveries Deliveries `json:"deliveries"`
}

// Deliveries are where a version went.
type Deliveries struct {
	Terminals TerminalDeliveries `json:"terminals"`
	POS       []POSDelivery      `json:"pos"`
}

// TerminalDeliveries counts the store's paired terminals that have the version (or a newer one).
type TerminalDeliveries struct {
	Synced int `json:"synced"`
	Total  int `json:"total"`
}

// POSDelivery is what became of a delivered version at one POS integration of its store.
type POSDelivery struct {
	IntegrationID string    `json:"integration_id"`
	Integration   string    `json:"integration"` // its provider and nickname
	Status        string    `json:"status"`
	Message       string    `json:"message"` // for the merchant
	Detail        string    `json:"detail"`  // the technical text behind it ("" when none)
	Attempts      int       `json:"attempts"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func versionOf(v store.BackOfficeVersion, withContent bool) (Version, error) {
	out := Version{StoreID: v.StoreID, Version: v.Version, PublishedBy: v.PublishedBy, PublishedAt: v.PublishedAt, DeliversAt: v.DeliversAt,
		DeliveredAt: v.DeliveredAt, Diff: []string{}}
	if err := json.Unmarshal([]byte(v.Diff), &out.Diff); err != nil {
		return out, err
	}
	if withContent {
		c, err := decodeContent(v.Content)
		if err != nil {
			return out, err
		}
		out.Content = &c
	}
	return out, nil
}

// DeliverArgs is the River job delivering a version when its period ends.
type DeliverArgs struct {
	AccountID string `json:"account_id"`
	StoreID   string `json:"store_id"`
	Version   int64  `json:"version"`
}

// Kind implements river.JobArgs.
func (DeliverArgs) Kind() string { return "backoffice_deliver" }

// Publish freezes the store's draft as the next version ("Save and Publish"); it is delivered
// to the terminals after the period.
func (s *Service) Publish(ctx context.Context, p access.Principal, storeID string) (Version, error) {
	if err := checkStore(p, storeID, domain.PermPublish); err != nil {
		return Version{}, err
	}
	d, err := s.GetDraft(ctx, p, storeID)
	if err != nil {
		return Version{}, err
	}
	if !d.Saved {
		return Version{}, &domain.Error{Code: domain.CodeConflict, Field: "store_id", Message: "the store has no saved draft to publish; save it first"}
	}
	content, err := json.Marshal(d.Content)
	if err != nil {
		return Version{}, err
	}
	now := s.now()
	var out store.BackOfficeVersion
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.LatestVersionNumber(ctx, p.AccountID, storeID, false)
		if err != nil {
			return err
		}
		var old *Content
		if n > 0 {
			prev, err := tx.LatestVersion(ctx, p.AccountID, storeID, false)
			if err != nil {
				return err
			}
			c, err := decodeContent(prev.Content)
			if err != nil {
				return err
			}
			old = &c
		}
		diff, _ := json.Marshal(Diff(old, d.Content))
		delay, err := s.delay(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		out = store.BackOfficeVersion{StoreID: storeID, Version: n + 1, Content: string(content), Diff: string(diff), PublishedBy: p.Actor,
			PublishedAt: now, DeliversAt: now.Add(delay)}
		if err := tx.InsertVersion(ctx, p.AccountID, out); err != nil {
			return err
		}
		if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "back_office.published", Actor: p.Actor,
			Message: fmt.Sprintf("Back office of store %s published as version %d; terminals get it at %s", storeID, out.Version, out.DeliversAt.UTC().Format("15:04:05 UTC"))}); err != nil {
			return err
		}
		if s.q == nil {
			return errors.New("back office: no queue")
		}
		opts := &river.InsertOpts{ScheduledAt: out.DeliversAt, MaxAttempts: 10}
		if delay <= 0 {
			// Due now: available at once (River moves a scheduled job to its workers only
			// every few seconds).
			opts.ScheduledAt = time.Time{}
		}
		return s.q.InsertTx(ctx, tx, DeliverArgs{AccountID: p.AccountID, StoreID: storeID, Version: out.Version}, opts)
	})
	if err != nil {
		return Version{}, err
	}
	return versionOf(out, false)
}

// Versions lists a store's versions, newest first, with their diffs.
func (s *Service) Versions(ctx context.Context, p access.Principal, storeID string) ([]Version, error) {
	if err := checkStore(p, storeID, ""); err != nil {
		return nil, err
	}
	vs, err := s.st.ListVersions(ctx, p.AccountID, storeID, 100)
	if err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(vs))
	for _, v := range vs {
		j, err := versionOf(v, false)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	if err := s.addDeliveries(ctx, p.AccountID, storeID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetVersion reads one version of a store, with its content and where it went.
func (s *Service) GetVersion(ctx context.Context, p access.Principal, storeID string, version int64) (Version, error) {
	if err := checkStore(p, storeID, ""); err != nil {
		return Version{}, err
	}
	v, err := s.st.GetVersion(ctx, p.AccountID, storeID, version)
	if errors.Is(err, store.ErrNotFound) {
		return Version{}, domain.NotFound(fmt.Sprintf("version %d of store %s", version, storeID))
	}
	if err != nil {
		return Version{}, err
	}
	out, err := versionOf(v, true)
	if err != nil {
		return Version{}, err
	}
	vs := []Version{out}
	if err := s.addDeliveries(ctx, p.AccountID, storeID, vs); err != nil {
		return Version{}, err
	}
	return vs[0], nil
}

// addDeliveries fills in where each version (newest first) went.
func (s *Service) addDeliveries(ctx context.Context, accountID, storeID string, vs []Version) error {
	if len(vs) == 0 {
		return nil
	}
	terms, err := s.st.StoreTerminalVersions(ctx, accountID, storeID)
	if err != nil {
		return fmt.Errorf("read the terminals of store %s: %w", storeID, err)
	}
	ds, err := s.st.ListPOSDeliveries(ctx, accountID, storeID, vs[len(vs)-1].Version, vs[0].Version)
	if err != nil {
		return fmt.Errorf("read the POS deliveries of store %s: %w", storeID, err)
	}
	labels := map[string]string{}
	label := func(id string) string {
		if l, ok := labels[id]; ok {
			return l
		}
		l := id
		if s.conns != nil {
			if i, err := s.conns.Get(ctx, accountID, id); err == nil {
				l = i.Label(s.conns.DisplayName(i.Type))
			}
		}
		labels[id] = l
		return l
	}
	byVersion := map[int64][]POSDelivery{}
	for _, d := range ds {
		byVersion[d.Version] = append(byVersion[d.Version], POSDelivery{IntegrationID: d.IntegrationID, Integration: label(d.IntegrationID),
			Status: d.Status, Message: d.Message, Detail: d.Detail, Attempts: d.Attempts, UpdatedAt: d.UpdatedAt})
	}
	for n := range vs {
		v := &vs[n]
		v.Deliveries = Deliveries{Terminals: TerminalDeliveries{Total: len(terms)}, POS: byVersion[v.Version]}
		if v.Deliveries.POS == nil {
			v.Deliveries.POS = []POSDelivery{}
		}
		if v.DeliveredAt != nil {
			for _, t := range terms {
				if t >= v.Version {
					v.Deliveries.Terminals.Synced++
				}
			}
		}
	}
	return nil
}

// Register adds the workers delivering versions to terminals and POS integrations.
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &deliverWorker{s: s})
	river.AddWorker(w, &posWorker{s: s})
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	a := job.Args
	var ok bool
	err := w.s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if ok, err = tx.MarkDelivered(ctx, a.AccountID, a.StoreID, a.Version, w.s.now()); err != nil || !ok {
			return err
		}
		return w.s.enqueuePOS(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("deliver version %d of store %s: %w", a.Version, a.StoreID, err)
	}
	if ok {
		w.s.notify()
	}
	return nil
}

// notify wakes this process's long-polls.
func (s *Service) notify() {
	s.fan.invalidate()
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Service) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// CreatePairingCode makes a one-time code a terminal of the store pairs with.
func (s *Service) CreatePairingCode(ctx context.Context, p access.Principal, storeID string) (string, time.Time, error) {
	if err := checkStore(p, storeID, domain.PermEditBackOffice); err != nil {
		return "", time.Time{}, err
	}
	code := strings.ToUpper(strings.ReplaceAll(auth.NewPassword(), "-", ""))[:8]
	now := s.now()
	exp := now.Add(PairingCodeTTL)
	if err := s.st.CreatePairingCode(ctx, p.AccountID, storeID, auth.HashToken(code), now, exp); err != nil {
		return "", time.Time{}, err
	}
	return code, exp, nil
}

// TerminalJSON is a terminal as the API shows it.
type TerminalJSON struct {
	ID                string     `json:"id"`
	StoreID           string     `json:"store_id"`
	Name              string     `json:"name"`
	PairedAt          time.Time  `json:"paired_at"`
	LastSyncedVersion int64      `json:"last_synced_version"`
	LastSyncedAt      *time.Time `json:"last_synced_at"`
}

func terminalJSON(t store.Terminal) TerminalJSON {
	return TerminalJSON{ID: t.ID, StoreID: t.StoreID, Name: t.Name, PairedAt: t.PairedAt, LastSyncedVersion: t.LastSyncedVersion, LastSyncedAt: t.LastSyncedAt}
}

// Terminals lists the account's paired terminals (those of the stores the role covers).
func (s *Service) Terminals(ctx context.Context, p access.Principal) ([]TerminalJSON, error) {
	ts, err := s.st.ListTerminals(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	out := []TerminalJSON{}
	for _, t := range ts {
		if p.Role.CoversStore(t.StoreID) {
			out = append(out, terminalJSON(t))
		}
	}
	return out, nil
}

// RevokeTerminal unpairs a terminal at once.
func (s *Service) RevokeTerminal(ctx context.Context, p access.Principal, id string) error {
	nf := &domain.Error{Code: domain.CodeNotFound, Message: "terminal not found"}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return nf
	}
	t, err := s.st.GetTerminal(ctx, p.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nf
	}
	if err != nil {
		return err
	}
	if err := checkStore(p, t.StoreID, domain.PermEditBackOffice); err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeTerminal(ctx, p.AccountID, id, s.now()); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: s.now(), Kind: "terminal.revoked", Actor: p.Actor,
			Message: fmt.Sprintf("Terminal %q of store %s revoked", t.Name, t.StoreID)})
	})
}

// Pair spends a pairing code and answers the new terminal and its device token (shown once).
func (s *Service) Pair(ctx context.Context, code, name string) (TerminalJSON, string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || len(code) > 64 {
		return TerminalJSON{}, "", domain.Invalid("code", "code is required: the pairing code shown in the console")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Terminal"
	}
	if err := domain.CheckText("name", name, domain.TextName); err != nil {
		return TerminalJSON{}, "", err
	}
	token := "pbt_" + auth.NewSessionToken()
	now := s.now()
	var t store.Terminal
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		acct, storeID, err := tx.UsePairingCode(ctx, auth.HashToken(code), now)
		if errors.Is(err, store.ErrNotFound) {
			return domain.Invalid("code", "this pairing code is not valid: it was used or it expired; make a new one in the console")
		}
		if err != nil {
			return err
		}
		t = store.Terminal{ID: auth.NewID("trm"), AccountID: acct, StoreID: storeID, Name: name, PairedAt: now}
		if err := tx.CreateTerminal(ctx, t, auth.HashToken(token)); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: acct, At: now, Kind: "terminal.paired", Actor: domain.ActorSystem,
			Message: fmt.Sprintf("Terminal %q paired with store %s", name, storeID)})
	})
	if err != nil {
		return TerminalJSON{}, "", err
	}
	return terminalJSON(t), token, nil
}

// Authenticate finds the live terminal of a device token (read from the database every time:
// a revoked terminal is refused at once).
func (s *Service) Authenticate(ctx context.Context, token string) (store.Terminal, error) {
	if token == "" || len(token) > 100 {
		return store.Terminal{}, &domain.Error{Code: domain.CodeUnauthorized, Message: "send the terminal's device token as Authorization: Bearer <token>"}
	}
	t, err := s.st.TerminalByToken(ctx, auth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return t, &domain.Error{Code: domain.CodeUnauthorized, Message: "this terminal is not paired (it may have been revoked); pair it again with a code from the console"}
	}
	return t, err
}

// TerminalConfig is what a terminal receives.
type TerminalConfig struct {
	StoreID string   `json:"store_id"`
	Version int64    `json:"version"`
	Content *Content `json:"content"`
	Message string   `json:"message,omitempty"`
}

func (s *Service) configOf(ctx context.Context, t store.Terminal, delivered bool) (TerminalConfig, error) {
	out := TerminalConfig{StoreID: t.StoreID}
	v, err := s.st.LatestVersion(ctx, t.AccountID, t.StoreID, delivered)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	c, err := decodeContent(v.Content)
	if err != nil {
		return out, err
	}
	out.Version, out.Content = v.Version, &c
	if v.Version != t.LastSyncedVersion {
		if err := s.recordSynced(ctx, t.ID, v.Version); err != nil {
			return out, err
		}
	}
	return out, nil
}

// Sync answers the newest published version at once ("Sync Back Office").
func (s *Service) Sync(ctx context.Context, t store.Terminal) (TerminalConfig, error) {
	c, err := s.configOf(ctx, t, false)
	c.Message = "Synced successfully"
	return c, err
}

// PollInterval is how often a long-poll looks at the database for a delivery made by another process.
var PollInterval = time.Second

// Config answers the newest delivered version as soon as it is newer than since, waiting up
// to wait; at the end of the wait it answers what there is (changed false).
func (s *Service) Config(ctx context.Context, t store.Terminal, since int64, wait time.Duration) (TerminalConfig, bool, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		ch := s.changes()
		n, content, err := s.delivered(ctx, t.AccountID, t.StoreID)
		if err != nil {
			return TerminalConfig{}, false, err
		}
		if n > since {
			if n != t.LastSyncedVersion {
				if err := s.recordSynced(ctx, t.ID, n); err != nil {
					return TerminalConfig{}, false, err
				}
			}
			return TerminalConfig{StoreID: t.StoreID, Version: n, Content: content}, true, nil
		}
		select {
		case <-ctx.Done():
			return TerminalConfig{}, false, ctx.Err()
		case <-deadline.C:
			return TerminalConfig{StoreID: t.StoreID, Version: n}, false, nil
		case <-ch: // a delivery in this process; the terminal was live when the request began
			continue
		case <-tick.C:
		}
		if ok, err := s.st.TerminalLive(ctx, t.ID); err != nil || !ok {
			if err == nil {
				err = &domain.Error{Code: domain.CodeUnauthorized, Message: "this terminal was revoked"}
			}
			return TerminalConfig{}, false, err
		}
	}
}

// SeedDemo gives a store a sample back office, publishes it and pairs a terminal, for
// `serve --demo`; it answers the terminal's device token.
func (s *Service) SeedDemo(ctx context.Context, accountID, storeID string) (string, error) {
	return s.SeedDemoWith(ctx, accountID, storeID, nil)
}

// SeedDemoWith is SeedDemo with the given products (a POS's, so the demo's back office is
// that POS store's); none: a café's sample products.
func (s *Service) SeedDemoWith(ctx context.Context, accountID, storeID string, products []Product) (string, error) {
	admin, _ := domain.PresetRole(domain.RoleStoreAdmin)
	p := access.Principal{AccountID: accountID, Kind: "system", Actor: domain.ActorSystem, Role: admin}
	c := Content{Currency: "EUR",
		Categories: []Category{{ID: "coffee", Name: "Coffee"}, {ID: "bakery", Name: "Bakery"}},
		TaxRates:   []TaxRate{{ID: "low", Name: "Low rate", Rate: 900}},
		Discounts:  []Discount{{ID: "staff", Name: "Staff discount", Percent: 1000}},
		Products: []Product{
			{ID: "espresso", Name: "Espresso", SKU: "ESP", Price: 250, CategoryID: "coffee", TaxRateID: "low"},
			{ID: "cappuccino", Name: "Cappuccino", SKU: "CAP", Price: 350, CategoryID: "coffee", TaxRateID: "low"},
			{ID: "croissant", Name: "Croissant", SKU: "CRO", Price: 225, CategoryID: "bakery", TaxRateID: "low"},
		},
		Settings: Settings{ReceiptHeader: "Welcome to the demo store", ReceiptFooter: "Thank you for your visit!", OpeningFloat: 10000}}
	if len(products) > 0 {
		c.Categories = []Category{{ID: "shop", Name: "Shop"}}
		c.Products = nil
		for _, pr := range products {
			pr.CategoryID, pr.TaxRateID = "shop", "low"
			c.Products = append(c.Products, pr)
		}
	}
	if _, err := s.SaveDraft(ctx, p, storeID, c); err != nil {
		return "", err
	}
	if _, err := s.Publish(ctx, p, storeID); err != nil {
		return "", err
	}
	code, _, err := s.CreatePairingCode(ctx, p, storeID)
	if err != nil {
		return "", err
	}
	_, token, err := s.Pair(ctx, code, "Demo till")
	return token, err
}
