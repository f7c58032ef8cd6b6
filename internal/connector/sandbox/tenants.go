package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Tenants. Every sandbox belongs to an account, and its api key is minted by the server:
// "sbx_" and 40 hex digits (160 random bits), so nobody can guess another account's sandbox.
// A key the TenantAuthority does not know is refused (401) on every route and creates nothing.

// APIKeyPrefix starts every sandbox api key.
const APIKeyPrefix = "sbx_"

// apiKeyHexLen is the number of hex digits after the prefix (160 bits).
const apiKeyHexLen = 40

// DefaultMaxTenants is how many sandboxes one account may have.
const DefaultMaxTenants = 20

// NewAPIKey returns a new random sandbox api key: "sbx_" and 40 lower-case hex digits.
func NewAPIKey() string {
	b := make([]byte, apiKeyHexLen/2)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("sandbox: no randomness for an api key: %v", err)) // crypto/rand never fails on supported systems
	}
	return APIKeyPrefix + hex.EncodeToString(b)
}

// WellFormedKey tells whether key has the shape of a minted api key. Keys of another shape are
// refused without a look-up.
func WellFormedKey(key string) bool {
	if len(key) != len(APIKeyPrefix)+apiKeyHexLen || !strings.HasPrefix(key, APIKeyPrefix) {
		return false
	}
	for _, c := range key[len(APIKeyPrefix):] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// KeyHint shows the last four characters of a key, enough to tell keys apart.
func KeyHint(key string) string { return "…" + key[max(0, len(key)-4):] }

// Errors a TenantAuthority returns.
var (
	// ErrUnknownTenant: the api key is not a sandbox tenant's.
	ErrUnknownTenant = errors.New("the sandbox API key is not valid")
	// ErrNoAccount: the request carries no valid account credentials.
	ErrNoAccount = errors.New("no valid account credentials")
	// ErrNoIntegration: the account has no Sandbox POS integration of that id.
	ErrNoIntegration = errors.New("no such Sandbox POS integration")
	// ErrTenantLimit: the account has as many sandboxes as it may. Wrap it with the details.
	ErrTenantLimit = errors.New("tenant limit reached")
)

// TenantAuthority knows the sandbox tenants and the accounts they belong to. posbridge
// implements it with its database and its accounts' credentials; MemoryTenants keeps tenants
// in memory for a sandbox served on its own.
type TenantAuthority interface {
	// TenantAccount returns the account an api key was minted for, or ErrUnknownTenant.
	TenantAccount(ctx context.Context, apiKey string) (accountID string, err error)
	// Account returns the account whose own credentials (its posbridge API key or a console
	// session) r carries, or ErrNoAccount.
	Account(r *http.Request) (accountID string, err error)
	// IntegrationKey returns the api key of the account's Sandbox POS integration, or
	// ErrNoIntegration (another account's integration included).
	IntegrationKey(ctx context.Context, accountID, integrationID string) (apiKey string, err error)
	// Mint creates a new tenant for the account and returns its api key, or an error wrapping
	// ErrTenantLimit when the account has as many as it may.
	Mint(ctx context.Context, accountID string) (apiKey string, err error)
}

// MemoryTenants is a TenantAuthority in memory, for a sandbox served on its own (posbridge sim
// sandbox) and for tests. It knows no account credentials or integrations: Account and
// IntegrationKey always refuse. Safe for concurrent use.
type MemoryTenants struct {
	// Max caps the tenants of one account; DefaultMaxTenants when 0.
	Max int

	mu   sync.Mutex
	keys map[string]string // api key -> account
	n    map[string]int    // account -> tenants
}

// NewMemoryTenants returns an empty MemoryTenants.
func NewMemoryTenants() *MemoryTenants {
	return &MemoryTenants{keys: map[string]string{}, n: map[string]int{}}
}

// TenantAccount implements TenantAuthority.
func (m *MemoryTenants) TenantAccount(_ context.Context, apiKey string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.keys[apiKey]; ok {
		return a, nil
	}
	return "", ErrUnknownTenant
}

// Account implements TenantAuthority: there are no accounts here.
func (m *MemoryTenants) Account(*http.Request) (string, error) { return "", ErrNoAccount }

// IntegrationKey implements TenantAuthority: there are no integrations here.
func (m *MemoryTenants) IntegrationKey(context.Context, string, string) (string, error) {
	return "", ErrNoIntegration
}

// Mint implements TenantAuthority.
func (m *MemoryTenants) Mint(_ context.Context, accountID string) (string, error) {
	limit := m.Max
	if limit <= 0 {
		limit = DefaultMaxTenants
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n[accountID] >= limit {
		return "", fmt.Errorf("%w: an account may have at most %d sandboxes", ErrTenantLimit, limit)
	}
	key := NewAPIKey()
	m.keys[key] = accountID
	m.n[accountID]++
	return key, nil
}
