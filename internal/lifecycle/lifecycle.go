// Package lifecycle is the life of a POS integration: adding one (with the
// nickname and "Restore inactive / Create new" rules), verifying its credentials in the
// background, the health status machine driven by manual and periodic checks, deactivation
// ("Disconnect POS") and restoring or resuming, and the account timeline of every step.
// Provider calls go through the connector registry; the called-off notice goes out through
// the outbox.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/outbox"
	"github.com/posbridge/posbridge/internal/store"
)

// Config tunes the lifecycle.
type Config struct {
	Providers     []connector.Provider
	CallOffAfter  int           // consecutive failures that call an integration off (default 5)
	CheckInterval time.Duration // periodic check of each active integration (default 15m)
	SelfURL       string        // posbridge's own URL, where self-hosted sandboxes live
	HookBaseURL   string        // the public URL providers post webhooks to (default SelfURL)
	// Sandboxes are the sandbox stores of real providers this posbridge serves, for
	// integrations added with Sandbox (no provider account needed); nil: none.
	Sandboxes    integrationconn.SandboxStores
	AllowPrivate bool          // --allow-private-provider-hosts
	CheckTimeout time.Duration // bound on one check's provider calls (default 30s)
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	// PrepareCredentials, when set, checks and completes the credentials given for a new or
	// changed integration, in the transaction that stores them, before they are sealed. posbridge
	// mints a Sandbox POS key here when none is given and refuses another account's key (a
	// *domain.Error naming the field). It returns the credentials to store.
	PrepareCredentials func(ctx context.Context, tx *store.Tx, accountID string, p connector.Provider, creds map[string]string) (map[string]string, error)
}

// Service runs the integration lifecycle for every account.
type Service struct {
	st        *store.Store
	q         jobs.Enqueuer
	box       integrationconn.Sealer
	conns     *integrationconn.Opener
	out       *outbox.Outbox
	cfg       Config
	providers map[string]connector.Provider
	log       *slog.Logger
	now       func() time.Time

	transitions *prometheus.CounterVec
	checks      *prometheus.CounterVec

	// CheckObserver, when set, hears the outcome of every check's provider calls (the order
	// sync's circuit breaker: a check that gets an answer closes an open circuit).
	CheckObserver func(ctx context.Context, accountID, integrationID string, err error)
}

// New builds the service. SetQueue connects it to River once the client exists.
func New(st *store.Store, box integrationconn.Sealer, out *outbox.Outbox, cfg Config) *Service {
	if cfg.CallOffAfter <= 0 {
		cfg.CallOffAfter = domain.DefaultCallOffAfter
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 15 * time.Minute
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{st: st, box: box, out: out, cfg: cfg, providers: map[string]connector.Provider{}, log: cfg.Logger, now: time.Now}
	for _, p := range cfg.Providers {
		s.providers[p.Type] = p
	}
	s.conns = integrationconn.New(st, box, integrationconn.Config{Providers: cfg.Providers, SelfURL: cfg.SelfURL,
		Sandboxes: cfg.Sandboxes, AllowPrivate: cfg.AllowPrivate, Timeout: cfg.CheckTimeout})
	s.transitions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posbridge_integration_transitions_total",
		Help: "Integration status transitions."}, []string{"from", "to"})
	s.checks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posbridge_integration_checks_total",
		Help: "Provider checks by outcome."}, []string{"type", "outcome"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.transitions, s.checks, &statusCollector{st: st})
	}
	return s
}

// SetQueue connects the service to the job queue.
func (s *Service) SetQueue(q jobs.Enqueuer) { s.q = q }

// Opener opens connectors for integrations with the providers, sandboxes and rate limiters of
// this service (the other services share it).
func (s *Service) Opener() *integrationconn.Opener { return s.conns }

// Providers lists the providers, sorted by display name with the sandbox first.
func (s *Service) Providers() []connector.Provider { return s.conns.Providers() }

// Provider returns a provider by type.
func (s *Service) Provider(typ string) (connector.Provider, bool) { return s.conns.Provider(typ) }

// DisplayName is the provider's name for a type, or the type itself.
func (s *Service) DisplayName(typ string) string { return s.conns.DisplayName(typ) }

// AddInput is a request to add an integration.
type AddInput struct {
	Type        string
	Nickname    string
	Credentials map[string]string
	StoreID     string
	OnConflict  string // "", "restore" or "new"
	RestoreID   string
	Sandbox     bool // connect to posbridge's own simulator of the provider; no credentials
}

// Add adds an integration (or restores an inactive one) by these rules, in this
// order: an inactive one of the type asks restore-or-new; a second active one of a type needs
// its own nickname. The new integration is initializing; a job verifies it.
func (s *Service) Add(ctx context.Context, accountID, actor string, in AddInput) (domain.Integration, error) {
	p, ok := s.providers[strings.TrimSpace(in.Type)]
	if !ok {
		return domain.Integration{}, domain.Invalid("type", "unknown provider type %q; GET /api/v1/providers lists them", in.Type)
	}
	nick, err := domain.ValidateNickname(in.Nickname)
	if err != nil {
		return domain.Integration{}, err
	}
	switch in.OnConflict {
	case "", "restore", "new":
	default:
		return domain.Integration{}, domain.Invalid("on_conflict", `on_conflict must be "restore" or "new"`)
	}
	for _, t := range [][2]string{{"store_id", in.StoreID}, {"restore_id", in.RestoreID}} {
		if err := domain.CheckText(t[0], t[1], domain.TextID); err != nil {
			return domain.Integration{}, err
		}
	}
	if in.OnConflict == "restore" && in.RestoreID == "" {
		return domain.Integration{}, domain.Invalid("restore_id", `restore_id is required with on_conflict "restore"`)
	}
	var creds map[string]string
	if in.Sandbox && p.SelfHosted {
		in.Sandbox = false // the Sandbox POS is a sandbox already: "sandbox": true changes nothing
	}
	if in.Sandbox {
		if !s.conns.HasSandbox(p.Type) {
			return domain.Integration{}, domain.Invalid("sandbox", "%s has no sandbox store here", p.DisplayName)
		}
		if len(in.Credentials) > 0 {
			return domain.Integration{}, domain.Invalid("credentials", "a sandbox store needs no credentials")
		}
		creds = map[string]string{integrationconn.SandboxCredential: "true"}
	} else if in.OnConflict != "restore" || len(in.Credentials) > 0 {
		if creds, err = checkCredentials(p, in.Credentials); err != nil {
			return domain.Integration{}, err
		}
	}
	var result domain.Integration
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		all, err := tx.ListIntegrations(ctx, accountID, store.IntegrationFilter{Type: p.Type})
		if err != nil {
			return err
		}
		var inactive []string
		var active []domain.Integration
		for _, i := range all {
			if i.Status == domain.StatusInactive {
				inactive = append(inactive, i.ID)
			} else {
				active = append(active, i)
			}
		}
		if len(inactive) > 0 && in.OnConflict == "" {
			return &domain.Error{Code: domain.CodeInactiveExists,
				Message: fmt.Sprintf("an inactive %s integration exists: restore it (on_conflict \"restore\" with restore_id) or create a new one (on_conflict \"new\")", p.DisplayName),
				Details: map[string]any{"inactive_ids": inactive}}
		}
		if !in.Sandbox && (in.OnConflict != "restore" || creds != nil) {
			// In the transaction: what it records (a minted sandbox) goes if the add fails.
			if creds, err = s.prepare(ctx, tx, accountID, p, creds); err != nil {
				return err
			}
		}
		if in.OnConflict == "restore" {
			result, err = s.restoreTx(ctx, tx, accountID, actor, in.RestoreID, p.Type, creds, nick)
			return err
		}
		if err := nicknameFree(active, "", nick, p.DisplayName); err != nil {
			return err
		}
		result, err = s.createTx(ctx, tx, accountID, actor, p, nick, creds, strings.TrimSpace(in.StoreID))
		return err
	})
	return result, err
}

// prepare runs Config.PrepareCredentials, if any.
func (s *Service) prepare(ctx context.Context, tx *store.Tx, accountID string, p connector.Provider, creds map[string]string) (map[string]string, error) {
	if s.cfg.PrepareCredentials == nil {
		return creds, nil
	}
	if creds == nil {
		creds = map[string]string{}
	}
	return s.cfg.PrepareCredentials(ctx, tx, accountID, p, creds)
}

func nicknameFree(active []domain.Integration, exceptID, nick, display string) error {
	for _, a := range active {
		if a.ID == exceptID {
			continue
		}
		if nick == "" {
			return &domain.Error{Code: domain.CodeNicknameRequired, Field: "nickname",
				Message: fmt.Sprintf("an active %s integration already exists: give this one a nickname to tell them apart", display)}
		}
		if strings.EqualFold(a.Nickname, nick) {
			return &domain.Error{Code: domain.CodeNicknameRequired, Field: "nickname",
				Message: fmt.Sprintf("another active %s integration is already called %q: choose another nickname", display, nick)}
		}
	}
	return nil
}

// checkCredentials keeps the provider's fields, requires the required ones and refuses others.
func checkCredentials(p connector.Provider, in map[string]string) (map[string]string, error) {
	known := map[string]bool{}
	out := map[string]string{}
	for _, f := range p.Fields {
		known[f.Name] = true
		v := strings.TrimSpace(in[f.Name])
		if v == "" && f.Required {
			return nil, domain.Invalid("credentials."+f.Name, "%s is required", f.Label)
		}
		if err := domain.CheckText("credentials."+f.Name, v, domain.TextSecret); err != nil {
			return nil, err
		}
		if v != "" {
			out[f.Name] = v
		}
	}
	for k := range in {
		if !known[k] {
			return nil, domain.Invalid("credentials."+k, "%s does not take a field %q", p.DisplayName, k)
		}
	}
	return out, nil
}

func (s *Service) createTx(ctx context.Context, tx *store.Tx, accountID, actor string, p connector.Provider, nick string, creds map[string]string, storeID string) (domain.Integration, error) {
	now := s.now()
	next := now.Add(s.cfg.CheckInterval)
	i := domain.Integration{ID: auth.NewID("int"), AccountID: accountID, Type: p.Type, Nickname: nick,
		Status: domain.StatusInitializing, StatusReason: "Verifying credentials", StoreID: storeID,
		NextCheckAt: &next, CreatedAt: now, UpdatedAt: now}
	sealed, err := s.sealCredentials(i.ID, creds)
	if err != nil {
		return i, err
	}
	whSecret, err := s.box.Seal([]byte(auth.NewSessionToken()), i.ID+"/webhook")
	if err != nil {
		return i, fmt.Errorf("seal webhook secret: %w", err)
	}
	if err := tx.CreateIntegration(ctx, i, sealed, whSecret); err != nil {
		return i, err
	}
	s.transitions.WithLabelValues("", string(domain.StatusInitializing)).Inc()
	if err := s.timeline(ctx, tx, i, actor, domain.KindIntegrationAdded, i.Label(p.DisplayName)+" integration added; verifying credentials"); err != nil {
		return i, err
	}
	return i, s.enqueueCheck(ctx, tx, i)
}

func (s *Service) sealCredentials(id string, creds map[string]string) (string, error) {
	b, err := json.Marshal(creds)
	if err != nil {
		return "", err
	}
	sealed, err := s.box.Seal(b, id+"/credentials")
	if err != nil {
		return "", fmt.Errorf("seal credentials: %w", err)
	}
	return sealed, nil
}

func (s *Service) restoreTx(ctx context.Context, tx *store.Tx, accountID, actor, id, typ string, creds map[string]string, nick string) (domain.Integration, error) {
	i, err := s.lock(ctx, tx, accountID, id)
	if err != nil {
		return i, err
	}
	if i.Type != typ {
		return i, domain.Invalid("restore_id", "integration %s is of type %s, not %s", id, i.Type, typ)
	}
	t, err := i.Restore()
	if err != nil {
		return i, &domain.Error{Code: domain.CodeConflict, Field: "restore_id", Message: err.(*domain.Error).Message}
	}
	if nick != "" {
		i.Nickname = nick
	}
	active, err := tx.ListIntegrations(ctx, accountID, store.IntegrationFilter{Type: i.Type, Active: ptr(true)})
	if err != nil {
		return i, err
	}
	if err := nicknameFree(active, i.ID, i.Nickname, s.DisplayName(i.Type)); err != nil {
		return i, err
	}
	if creds != nil {
		sealed, err := s.sealCredentials(i.ID, creds)
		if err != nil {
			return i, err
		}
		if err := tx.SetIntegrationCredentials(ctx, accountID, i.ID, sealed); err != nil {
			return i, err
		}
	}
	next := s.now().Add(s.cfg.CheckInterval)
	i.NextCheckAt, i.UpdatedAt = &next, s.now()
	if err := tx.UpdateIntegration(ctx, i); err != nil {
		return i, err
	}
	if err := s.timeline(ctx, tx, i, actor, domain.KindRestored, i.Label(s.DisplayName(i.Type))+" integration restored; verifying credentials"); err != nil {
		return i, err
	}
	if err := s.recordTransition(ctx, tx, i, actor, t); err != nil {
		return i, err
	}
	return i, s.enqueueCheck(ctx, tx, i)
}

func (s *Service) lock(ctx context.Context, tx *store.Tx, accountID, id string) (domain.Integration, error) {
	i, err := tx.LockIntegration(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return i, domain.NotFound("integration")
	}
	return i, err
}

// Get reads an integration of the account.
func (s *Service) Get(ctx context.Context, accountID, id string) (domain.Integration, error) {
	i, err := s.st.GetIntegration(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return i, domain.NotFound("integration")
	}
	return i, err
}

// List lists the account's integrations; state is "", "active" or "inactive".
func (s *Service) List(ctx context.Context, accountID, state string) ([]domain.Integration, error) {
	var f store.IntegrationFilter
	switch state {
	case "":
	case "active", "inactive":
		active := state == "active"
		f.Active = &active
	default:
		return nil, domain.Invalid("state", `state must be "active" or "inactive"`)
	}
	return s.st.ListIntegrations(ctx, accountID, f)
}

// Stores lists the stores loaded from the provider for an integration.
func (s *Service) Stores(ctx context.Context, accountID, id string) ([]domain.Store, error) {
	if _, err := s.Get(ctx, accountID, id); err != nil {
		return nil, err
	}
	return s.st.ListStores(ctx, accountID, id)
}

// UpdateInput changes an integration's settings; nil fields stay.
type UpdateInput struct {
	Nickname    *string
	StoreID     *string
	Credentials map[string]string
}

// Update changes nickname, default store or credentials. New credentials are verified again.
func (s *Service) Update(ctx context.Context, accountID, actor, id string, in UpdateInput) (domain.Integration, error) {
	var result domain.Integration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := s.lock(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		p := s.providers[i.Type]
		var changed []string
		if in.Nickname != nil {
			nick, err := domain.ValidateNickname(*in.Nickname)
			if err != nil {
				return err
			}
			if nick != i.Nickname {
				if i.Status != domain.StatusInactive {
					all, err := tx.ListIntegrations(ctx, accountID, store.IntegrationFilter{Type: i.Type, Active: ptr(true)})
					if err != nil {
						return err
					}
					if err := nicknameFree(all, i.ID, nick, p.DisplayName); err != nil {
						return err
					}
				}
				changed = append(changed, fmt.Sprintf("nickname to %q", nick))
				i.Nickname = nick
			}
		}
		if in.StoreID != nil {
			if err := domain.CheckText("store_id", *in.StoreID, domain.TextID); err != nil {
				return err
			}
		}
		if in.StoreID != nil && *in.StoreID != i.StoreID {
			stores, err := tx.ListStores(ctx, accountID, i.ID)
			if err != nil {
				return err
			}
			name, ok := storeName(stores, *in.StoreID)
			if !ok && *in.StoreID != "" {
				return domain.Invalid("store_id", "store %q is not one of this integration's stores", *in.StoreID)
			}
			i.StoreID = *in.StoreID
			changed = append(changed, fmt.Sprintf("default store to %q", name))
		}
		var t *domain.Transition
		if in.Credentials != nil {
			creds, err := checkCredentials(p, in.Credentials)
			if err != nil {
				return err
			}
			if creds, err = s.prepare(ctx, tx, accountID, p, creds); err != nil {
				return err
			}
			sealed, err := s.sealCredentials(i.ID, creds)
			if err != nil {
				return err
			}
			if err := tx.SetIntegrationCredentials(ctx, accountID, i.ID, sealed); err != nil {
				return err
			}
			changed = append(changed, "credentials")
			if i.Status != domain.StatusInactive {
				from := i.Status
				i.Status, i.StatusReason, i.ConsecutiveFailures = domain.StatusInitializing, "Verifying new credentials", 0
				if from != i.Status {
					t = &domain.Transition{From: from, To: i.Status, Reason: i.StatusReason}
				}
			}
		}
		if len(changed) == 0 {
			result = i
			return nil
		}
		i.UpdatedAt = s.now()
		if err := tx.UpdateIntegration(ctx, i); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, i, actor, domain.KindSettingsChanged, "Settings changed: "+strings.Join(changed, ", ")); err != nil {
			return err
		}
		if err := s.recordTransition(ctx, tx, i, actor, t); err != nil {
			return err
		}
		if in.Credentials != nil && i.Status == domain.StatusInitializing {
			if err := s.enqueueCheck(ctx, tx, i); err != nil {
				return err
			}
		}
		result = i
		return nil
	})
	return result, err
}

func storeName(stores []domain.Store, id string) (string, bool) {
	for _, st := range stores {
		if st.ID == id {
			return st.Name, true
		}
	}
	return id, false
}

func ptr[T any](v T) *T { return &v }

// Deactivate stops all future work for the integration and keeps every record.
func (s *Service) Deactivate(ctx context.Context, accountID, actor, id string) (domain.Integration, error) {
	return s.change(ctx, accountID, actor, id, domain.KindDeactivated, "integration deactivated; syncing stopped, all data kept",
		func(i *domain.Integration) (*domain.Transition, error) { return i.Deactivate(s.now()) })
}

// Restore reactivates an inactive integration (same id, history kept) and verifies it again.
func (s *Service) Restore(ctx context.Context, accountID, actor, id string) (domain.Integration, error) {
	var result domain.Integration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := s.lock(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		result, err = s.restoreTx(ctx, tx, accountID, actor, id, i.Type, nil, "")
		var de *domain.Error
		if errors.As(err, &de) && de.Field == "restore_id" {
			de.Field = "" // the id is in the path here, not a field of a body
		}
		return err
	})
	return result, err
}

// Resume brings a called-off integration back to initializing and checks it.
func (s *Service) Resume(ctx context.Context, accountID, actor, id string) (domain.Integration, error) {
	return s.change(ctx, accountID, actor, id, domain.KindResumed, "integration resumed; verifying credentials",
		func(i *domain.Integration) (*domain.Transition, error) { return i.Resume() })
}

func (s *Service) change(ctx context.Context, accountID, actor, id, kind, msg string, fn func(*domain.Integration) (*domain.Transition, error)) (domain.Integration, error) {
	var result domain.Integration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := s.lock(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		t, err := fn(&i)
		if err != nil {
			return err
		}
		i.UpdatedAt = s.now()
		if i.Status == domain.StatusInitializing {
			next := s.now().Add(s.cfg.CheckInterval)
			i.NextCheckAt = &next
		}
		if err := tx.UpdateIntegration(ctx, i); err != nil {
			return err
		}
		if err := s.timeline(ctx, tx, i, actor, kind, i.Label(s.DisplayName(i.Type))+" "+msg); err != nil {
			return err
		}
		if err := s.recordTransition(ctx, tx, i, actor, t); err != nil {
			return err
		}
		if i.Status == domain.StatusInitializing {
			if err := s.enqueueCheck(ctx, tx, i); err != nil {
				return err
			}
		}
		result = i
		return nil
	})
	return result, err
}

// Timeline lists the account's timeline, newest first.
func (s *Service) Timeline(ctx context.Context, accountID string, f store.TimelineFilter) ([]domain.TimelineEntry, error) {
	if f.Limit < 0 || f.Limit > 500 {
		return nil, domain.Invalid("limit", "limit must be between 1 and 500")
	}
	if f.IntegrationID != "" {
		if _, err := s.Get(ctx, accountID, f.IntegrationID); err != nil {
			return nil, err
		}
	}
	return s.st.ListTimeline(ctx, accountID, f)
}

func (s *Service) timeline(ctx context.Context, tx *store.Tx, i domain.Integration, actor, kind, msg string) error {
	return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: i.AccountID, At: s.now(), Kind: kind, IntegrationID: i.ID, Actor: actor, Message: msg})
}

// StatusLabel is the word a merchant reads for a status (Healthy, Failed, Called off...).
func StatusLabel(st domain.Status) string {
	switch st {
	case domain.StatusInitializing:
		return "Initializing"
	case domain.StatusHealthy:
		return "Healthy"
	case domain.StatusFailed:
		return "Failed"
	case domain.StatusCalledOff:
		return "CalledOff"
	case domain.StatusInactive:
		return "Inactive"
	}
	return string(st)
}

// recordTransition writes a status change to the timeline and metrics, tells the app's
// endpoints, and emails the admins when the integration is called off.
func (s *Service) recordTransition(ctx context.Context, tx *store.Tx, i domain.Integration, actor string, t *domain.Transition) error {
	if t == nil {
		return nil
	}
	s.transitions.WithLabelValues(string(t.From), string(t.To)).Inc()
	msg := fmt.Sprintf("Status changed from %s to %s", StatusLabel(t.From), StatusLabel(t.To))
	if t.Reason != "" && t.To != domain.StatusHealthy {
		msg += ": " + t.Reason
	}
	if err := s.timeline(ctx, tx, i, actor, domain.KindStatusChanged, msg); err != nil {
		return err
	}
	if err := s.out.Publish(ctx, tx, i.AccountID, domain.EventIntegrationStatusChanged, map[string]any{
		"integration_id": i.ID, "type": i.Type, "nickname": i.Nickname,
		"from": t.From, "to": t.To, "reason": t.Reason, "consecutive_failures": i.ConsecutiveFailures,
	}); err != nil {
		return err
	}
	if t.To == domain.StatusCalledOff {
		label := i.Label(s.DisplayName(i.Type))
		text := fmt.Sprintf("Your %s integration has been called off and stopped syncing.\n\nReason: %s\n\n"+
			"Open posbridge, check the integration's credentials and settings, then click Resume.\n", label, t.Reason)
		return s.out.EmailAdmins(ctx, tx, i.AccountID, i.ID, "POS integration called off: "+label, text)
	}
	return nil
}

// CheckArgs asks for one check of an integration.
type CheckArgs struct {
	AccountID     string `json:"account_id"`
	IntegrationID string `json:"integration_id"`
}

// Kind implements river.JobArgs.
func (CheckArgs) Kind() string { return "check_integration" }

func (s *Service) enqueueCheck(ctx context.Context, tx *store.Tx, i domain.Integration) error {
	// No uniqueness needed: the sweep claims due checks one by one (ClaimDueCheck), and the
	// other callers (add, restore, resume, new credentials) are single state changes.
	return s.q.InsertTx(ctx, tx, CheckArgs{AccountID: i.AccountID, IntegrationID: i.ID}, &river.InsertOpts{MaxAttempts: 3})
}

// SetSelfURL tells the service where this process serves the self-hosted sandbox (known once it listens).
func (s *Service) SetSelfURL(u string) {
	s.cfg.SelfURL = u
	s.conns.SetSelfURL(u)
}

// HasSandbox tells whether this posbridge serves a sandbox store of the provider type.
func (s *Service) HasSandbox(typ string) bool { return s.conns.HasSandbox(typ) }

// SandboxStore tells whether the integration is a sandbox store (posbridge's own simulator of
// a real provider) and how that simulator is reached; see integrationconn.Opener.SandboxStore.
func (s *Service) SandboxStore(ctx context.Context, i domain.Integration) (connector.SimInfo, bool, error) {
	return s.conns.SandboxStore(ctx, i)
}

// SandboxStoreOrder reads an order of the account's sandbox store integration from its
// simulator, with the document it belongs to. A sandbox store is the account's own (its
// own data and credentials); an order is found only when one of the account's documents is
// linked to it on this integration: any other order, an integration of another account and one
// that is not a sandbox store are not found.
func (s *Service) SandboxStoreOrder(ctx context.Context, accountID, integrationID, orderID string) (domain.Integration, domain.Document, domain.Order, error) {
	i, err := s.Get(ctx, accountID, integrationID)
	if err != nil {
		return i, domain.Document{}, domain.Order{}, err
	}
	if _, ok, err := s.conns.SandboxStore(ctx, i); err != nil || !ok {
		if err == nil {
			err = domain.NotFound("sandbox store")
		}
		return i, domain.Document{}, domain.Order{}, err
	}
	d, err := s.st.DocumentByExternalID(ctx, accountID, i.ID, orderID)
	if errors.Is(err, store.ErrNotFound) {
		return i, d, domain.Order{}, domain.NotFound("sandbox store order")
	}
	if err != nil {
		return i, d, domain.Order{}, fmt.Errorf("document of order %s: %w", orderID, err)
	}
	conn, err := s.conns.Connector(ctx, i)
	if err != nil {
		return i, d, domain.Order{}, err
	}
	sink, err := connector.As[connector.OrderSink](conn, domain.CapOrders)
	if err != nil {
		return i, d, domain.Order{}, err
	}
	o, err := sink.GetOrder(ctx, orderID)
	if err != nil {
		return i, d, o, fmt.Errorf("read order %s of the sandbox store: %w", orderID, err)
	}
	return i, d, o, nil
}

// SandboxStoreAct completes ("complete") or voids ("void") an order of the account's sandbox
// store integration as a person at the provider's till or admin would: the simulator sends
// its webhooks and the document follows (an invoice turns paid per the settings). The order
// must be the account's (see SandboxStoreOrder) and still open.
func (s *Service) SandboxStoreAct(ctx context.Context, accountID, integrationID, orderID, action string) error {
	i, _, o, err := s.SandboxStoreOrder(ctx, accountID, integrationID, orderID)
	if err != nil {
		return err
	}
	desk, err := s.conns.OrderDesk(ctx, accountID, i.Type)
	if err != nil {
		return err
	}
	if desk == nil {
		return domain.Errorf(domain.CodeUnsupported, "The sandbox store of %s cannot complete or void orders.", s.DisplayName(i.Type))
	}
	var done bool
	switch action {
	case "complete":
		done = desk.CompleteOrder(o.ID)
	case "void":
		done = desk.VoidOrder(o.ID)
	default:
		return domain.Invalid("action", "unknown sandbox order action %q", action)
	}
	if !done {
		return domain.Errorf(domain.CodeConflict, "The order is no longer open in the sandbox store of %s (it is %s), so it cannot be %s.",
			s.DisplayName(i.Type), o.State, map[string]string{"complete": "completed", "void": "voided"}[action])
	}
	return nil
}
