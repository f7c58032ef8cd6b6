package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
)

// consoleSessionCookie is the console's session cookie (internal/console): a console user may
// use the sandbox admin routes of their account's sandboxes.
const consoleSessionCookie = "posbridge_session"

// csrfHeader carries the console session's CSRF token on a sandbox admin request that changes
// something and is authenticated by the session cookie.
const csrfHeader = "X-CSRF-Token"

// sandboxTenants is the Sandbox POS's sandbox.TenantAuthority: tenants are rows of
// sandbox_tenants (by the hash of their key, with the account they were minted for); an
// account is recognised by its API key or its console session.
type sandboxTenants struct {
	st      *store.Store
	box     *secrets.Box
	csrfKey []byte
	max     int
	now     func() time.Time
}

var _ sandbox.TenantAuthority = (*sandboxTenants)(nil)

// TenantAccount implements sandbox.TenantAuthority.
func (t *sandboxTenants) TenantAccount(ctx context.Context, apiKey string) (string, error) {
	if !sandbox.WellFormedKey(apiKey) {
		return "", sandbox.ErrUnknownTenant
	}
	acct, err := t.st.SandboxTenantAccount(ctx, keyHash(apiKey))
	if errors.Is(err, store.ErrNotFound) {
		return "", sandbox.ErrUnknownTenant
	}
	if err != nil {
		return "", fmt.Errorf("read sandbox tenant: %w", err)
	}
	return acct, nil
}

// Account implements sandbox.TenantAuthority: the account of the request's API key
// (Authorization: Bearer pbk_...) or console session. A session-authenticated request that
// changes something must carry the session's CSRF token in X-CSRF-Token.
func (t *sandboxTenants) Account(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || auth.APIKeyPrefixOf(token) == "" {
			return "", sandbox.ErrNoAccount
		}
		acct, err := t.st.AccountByAPIKeyHash(r.Context(), auth.HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return "", sandbox.ErrNoAccount
		}
		if err != nil {
			return "", fmt.Errorf("read API key: %w", err)
		}
		return acct, nil
	}
	ck, err := r.Cookie(consoleSessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return "", sandbox.ErrNoAccount
	}
	sess, err := t.st.GetSession(r.Context(), auth.HashToken(ck.Value), t.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", sandbox.ErrNoAccount
	}
	if err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A change: the session's CSRF token, and an admin (staff may only look, as in the console).
		if !auth.CheckCSRF(ck.Value, r.Header.Get(csrfHeader), t.csrfKey) {
			return "", sandbox.ErrNoAccount
		}
		u, err := t.st.GetUser(r.Context(), sess.AccountID, sess.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != domain.RoleAdmin) {
			return "", sandbox.ErrNoAccount
		}
		if err != nil {
			return "", fmt.Errorf("read user of session: %w", err)
		}
	}
	return sess.AccountID, nil
}

// IntegrationKey implements sandbox.TenantAuthority: the API key of the account's Sandbox POS
// integration.
func (t *sandboxTenants) IntegrationKey(ctx context.Context, accountID, integrationID string) (string, error) {
	if integrationID == "" || len(integrationID) > 100 {
		return "", sandbox.ErrNoIntegration
	}
	i, err := t.st.GetIntegration(ctx, accountID, integrationID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && i.Type != sandbox.Provider.Type) {
		return "", sandbox.ErrNoIntegration
	}
	if err != nil {
		return "", fmt.Errorf("read integration: %w", err)
	}
	sealed, _, err := t.st.IntegrationSecrets(ctx, accountID, integrationID)
	if err != nil {
		return "", fmt.Errorf("read credentials of %s: %w", integrationID, err)
	}
	plain, err := t.box.Open(sealed, integrationID+"/credentials")
	if err != nil {
		return "", fmt.Errorf("decrypt credentials of %s: %w", integrationID, err)
	}
	var creds map[string]string
	if err := json.Unmarshal(plain, &creds); err != nil {
		return "", fmt.Errorf("decode credentials of %s: %w", integrationID, err)
	}
	return creds["api_key"], nil
}

// Mint implements sandbox.TenantAuthority.
func (t *sandboxTenants) Mint(ctx context.Context, accountID string) (string, error) {
	var key string
	err := t.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		key, err = t.mint(ctx, tx, accountID)
		return err
	})
	return key, err
}

// mint records a new tenant of the account in tx and returns its key.
func (t *sandboxTenants) mint(ctx context.Context, tx *store.Tx, accountID string) (string, error) {
	key := sandbox.NewAPIKey()
	err := tx.CreateSandboxTenant(ctx, store.SandboxTenant{KeyHash: keyHash(key), AccountID: accountID,
		KeyHint: sandbox.KeyHint(key), CreatedAt: t.now()}, t.max)
	if errors.Is(err, store.ErrSandboxTenantLimit) {
		return "", fmt.Errorf("%w: an account may have at most %d sandboxes", sandbox.ErrTenantLimit, t.max)
	}
	if err != nil {
		return "", err
	}
	return key, nil
}

// prepareCredentials is the lifecycle's Config.PrepareCredentials: a Sandbox POS integration
// added or changed without an API key gets a sandbox minted for its account; a key of another
// account's sandbox is refused. A key the server does not know is kept: the integration's check
// then reports it refused, as a real POS refuses a wrong key.
func (t *sandboxTenants) prepareCredentials(ctx context.Context, tx *store.Tx, accountID string, p connector.Provider, creds map[string]string) (map[string]string, error) {
	if p.Type != sandbox.Provider.Type {
		return creds, nil
	}
	key := creds["api_key"]
	if key == "" {
		key, err := t.mint(ctx, tx, accountID)
		if errors.Is(err, sandbox.ErrTenantLimit) {
			return nil, &domain.Error{Code: domain.CodeTenantLimit, Field: "credentials.api_key",
				Message: fmt.Sprintf("your account has %d sandboxes, the most it may have: give the API key of one of them", t.max)}
		}
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for k, v := range creds {
			out[k] = v
		}
		out["api_key"] = key
		return out, nil
	}
	if !sandbox.WellFormedKey(key) {
		return creds, nil
	}
	owner, err := tx.SandboxTenantAccount(ctx, keyHash(key))
	if errors.Is(err, store.ErrNotFound) {
		return creds, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox tenant: %w", err)
	}
	if owner != accountID {
		return nil, domain.Invalid("credentials.api_key",
			"this API key is not one of your account's sandboxes; leave it empty and posbridge creates a sandbox for you")
	}
	return creds, nil
}
