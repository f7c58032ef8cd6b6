// Package integrationconn opens a connector for an integration with its decrypted credentials.
// It is the plumbing every service that calls a POS shares (lifecycle, ordersync, catalog and
// sales): the providers of this build, the integration's credentials opened from their sealed
// form, the HTTP client the provider gets (guarded against private addresses unless allowed,
// open for posbridge's own simulators), the sandbox stores served by this process, and one rate
// limiter per integration shared by every connector opened for it in this process.
package integrationconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Sealer encrypts secrets at rest (internal/secrets.Box).
type Sealer interface {
	Seal(plaintext []byte, aad string) (string, error)
	Open(sealed, aad string) ([]byte, error)
}

// SandboxCredential is the one credential of an integration connected to posbridge's own
// simulator of its provider ("true"); the simulator's credentials are used in its place.
const SandboxCredential = "sandbox"

// SandboxStores are the sandbox stores a posbridge serves: simulators of real providers, one
// per account and provider type, each with its own data and its own credentials, so that one
// account's credentials open nothing of another's.
type SandboxStores interface {
	// Serves tells whether a sandbox store of the provider type is served.
	Serves(typ string) bool
	// Store is the account's sandbox store of the provider type (made on its first use) and its
	// path on the server that serves it ("/sandbox/<type>/<tenant>").
	Store(ctx context.Context, accountID, typ string) (sim connector.Simulator, path string, err error)
}

// Config says which providers exist and how to reach them.
type Config struct {
	Providers []connector.Provider
	SelfURL   string // posbridge's own URL, where self-hosted sandboxes live
	// Sandboxes are the sandbox stores of real providers this posbridge serves, for
	// integrations added as sandbox stores (nil: none).
	Sandboxes    SandboxStores
	AllowPrivate bool          // --allow-private-provider-hosts
	Timeout      time.Duration // the HTTP clients' bound on one provider call (default 30s)
}

// Opener opens connectors for integrations.
type Opener struct {
	st        *store.Store
	box       Sealer
	cfg       Config
	providers map[string]connector.Provider
	guarded   *http.Client
	self      *http.Client
	now       func() time.Time

	limMu    sync.Mutex
	limiters map[string]*connector.Limiter
}

// New returns an opener over the store's sealed credentials.
func New(st *store.Store, box Sealer, cfg Config) *Opener {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	o := &Opener{st: st, box: box, cfg: cfg, providers: map[string]connector.Provider{}, now: time.Now,
		limiters: map[string]*connector.Limiter{}}
	for _, p := range cfg.Providers {
		o.providers[p.Type] = p
	}
	o.guarded = connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout})
	o.self = connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: cfg.Timeout})
	return o
}

// SetClock replaces the clock connectors are given (default time.Now).
func (o *Opener) SetClock(now func() time.Time) {
	if now != nil {
		o.now = now
	}
}

// SetSelfURL tells the opener where this process serves its sandboxes (known once it listens;
// call it before connectors are opened).
func (o *Opener) SetSelfURL(u string) { o.cfg.SelfURL = u }

// Providers lists the providers, sorted by display name with the self-hosted Sandbox POS first.
func (o *Opener) Providers() []connector.Provider {
	out := make([]connector.Provider, 0, len(o.providers))
	for _, p := range o.providers {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].SelfHosted != out[j].SelfHosted {
			return out[i].SelfHosted
		}
		return out[i].DisplayName < out[j].DisplayName
	})
	return out
}

// Provider returns a provider by type.
func (o *Opener) Provider(typ string) (connector.Provider, bool) {
	p, ok := o.providers[typ]
	return p, ok
}

// DisplayName is the provider's name for a type, or the type itself.
func (o *Opener) DisplayName(typ string) string {
	if p, ok := o.providers[typ]; ok {
		return p.DisplayName
	}
	return typ
}

// HasSandbox tells whether a simulator of the provider type is served here.
func (o *Opener) HasSandbox(typ string) bool {
	return o.cfg.Sandboxes != nil && o.cfg.Sandboxes.Serves(typ)
}

// sandboxStore is the account's sandbox store of the type and how it is reached from here.
func (o *Opener) sandboxStore(ctx context.Context, accountID, typ string) (connector.Simulator, connector.SimInfo, error) {
	if !o.HasSandbox(typ) {
		return nil, connector.SimInfo{}, &connector.Error{Kind: connector.KindInvalid,
			Message: "the sandbox store of " + o.DisplayName(typ) + " is not served here (--no-sandbox?)"}
	}
	sim, path, err := o.cfg.Sandboxes.Store(ctx, accountID, typ)
	if err != nil {
		return nil, connector.SimInfo{}, err
	}
	return sim, sim.Info(strings.TrimRight(o.cfg.SelfURL, "/") + path), nil
}

// SandboxStore tells whether the integration is connected to posbridge's own simulator of its
// provider (added with "sandbox": true) and, when it is, how that simulator is reached: its
// address on this server and its credentials (the account's own), for the account's admins to
// try it by hand.
func (o *Opener) SandboxStore(ctx context.Context, i domain.Integration) (connector.SimInfo, bool, error) {
	p, ok := o.providers[i.Type]
	if !ok || p.SelfHosted {
		return connector.SimInfo{}, false, nil
	}
	sealed, _, err := o.st.IntegrationSecrets(ctx, i.AccountID, i.ID)
	if err != nil {
		return connector.SimInfo{}, false, fmt.Errorf("read credentials of %s: %w", i.ID, err)
	}
	plain, err := o.box.Open(sealed, i.ID+"/credentials")
	if err != nil {
		return connector.SimInfo{}, false, fmt.Errorf("decrypt credentials of %s: %w", i.ID, err)
	}
	creds := map[string]string{}
	if err := json.Unmarshal(plain, &creds); err != nil {
		return connector.SimInfo{}, false, fmt.Errorf("decode credentials of %s: %w", i.ID, err)
	}
	if creds[SandboxCredential] != "true" || !o.HasSandbox(i.Type) {
		return connector.SimInfo{}, false, nil
	}
	_, info, err := o.sandboxStore(ctx, i.AccountID, i.Type)
	return info, err == nil, err
}

// OrderDesk is the account's sandbox store of the provider type as a person at its till or
// admin uses it (complete, void), or nil when none is served here.
func (o *Opener) OrderDesk(ctx context.Context, accountID, typ string) (connector.OrderDesk, error) {
	if !o.HasSandbox(typ) {
		return nil, nil
	}
	sim, _, err := o.sandboxStore(ctx, accountID, typ)
	if err != nil {
		return nil, err
	}
	d, _ := sim.(connector.OrderDesk)
	return d, nil
}

// Get reads an integration of the account; one that does not exist (or is another account's)
// is domain.NotFound.
func (o *Opener) Get(ctx context.Context, accountID, id string) (domain.Integration, error) {
	i, err := o.st.GetIntegration(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return i, domain.NotFound("integration")
	}
	return i, err
}

// Connector opens a connector for an integration with its decrypted credentials.
func (o *Opener) Connector(ctx context.Context, i domain.Integration) (connector.Connector, error) {
	sealed, _, err := o.st.IntegrationSecrets(ctx, i.AccountID, i.ID)
	if err != nil {
		return nil, fmt.Errorf("read credentials of %s: %w", i.ID, err)
	}
	return o.openConnector(ctx, i, sealed)
}

// OpenConnector is Connector with the integration's sealed credentials already read (by
// store.GetOrderTarget, say).
func (o *Opener) OpenConnector(i domain.Integration, sealed string) (connector.Connector, error) {
	return o.openConnector(context.Background(), i, sealed)
}

func (o *Opener) openConnector(ctx context.Context, i domain.Integration, sealed string) (connector.Connector, error) {
	p, ok := o.providers[i.Type]
	if !ok {
		return nil, fmt.Errorf("integration %s: provider %q is not available in this build", i.ID, i.Type)
	}
	plain, err := o.box.Open(sealed, i.ID+"/credentials")
	if err != nil {
		return nil, fmt.Errorf("decrypt credentials of %s (was --secret-key changed?): %w", i.ID, err)
	}
	creds := map[string]string{}
	if err := json.Unmarshal(plain, &creds); err != nil {
		return nil, fmt.Errorf("decode credentials of %s: %w", i.ID, err)
	}
	client := o.guarded
	if p.SelfHosted {
		client = o.self
	}
	if creds[SandboxCredential] == "true" {
		// Its address is this server's, as it is now; its credentials are the account's store's.
		_, info, err := o.sandboxStore(ctx, i.AccountID, i.Type)
		if err != nil {
			return nil, err
		}
		creds = info.Credentials
		client = o.self
	}
	return p.Open(connector.Config{IntegrationID: i.ID, Credentials: creds, HTTP: client, SelfURL: o.cfg.SelfURL,
		Limiter: o.limiter(p, i.ID), Now: o.now})
}

// WebhookSecret is the secret the integration's inbound webhooks are signed with: the one
// posbridge generated and gave the provider on subscribing, decrypted.
// A provider that signs with a secret of the integration's credentials (connector.
// OwnSigningSecret, such as Shopify's API secret key) is given that one instead.
func (o *Opener) WebhookSecret(ctx context.Context, i domain.Integration) (string, error) {
	if p, ok := o.providers[i.Type]; ok && !p.SelfHosted {
		// A connector that cannot be opened (its provider gone, say) falls back to the stored secret.
		conn, err := o.Connector(ctx, i)
		if own, ok := conn.(connector.OwnSigningSecret); err == nil && ok && own.WebhookSigningSecret() != "" {
			return own.WebhookSigningSecret(), nil
		}
	}
	_, sealed, err := o.st.IntegrationSecrets(ctx, i.AccountID, i.ID)
	if err != nil {
		return "", err
	}
	b, err := o.box.Open(sealed, i.ID+"/webhook")
	if err != nil {
		return "", fmt.Errorf("decrypt webhook secret of %s: %w", i.ID, err)
	}
	return string(b), nil
}

// limiter is the integration's one limiter, shared by every connector opened for it in this
// process. Self-hosted sandboxes are not paced (their 429s come from fault injection).
func (o *Opener) limiter(p connector.Provider, id string) *connector.Limiter {
	if p.SelfHosted {
		return nil
	}
	o.limMu.Lock()
	defer o.limMu.Unlock()
	l, ok := o.limiters[id]
	if !ok {
		rate, burst := p.Rate, p.Burst
		if rate <= 0 {
			rate, burst = 10, 10
		}
		l = connector.NewLimiter(rate, max(burst, 1))
		o.limiters[id] = l
	}
	return l
}
