// Package access decides who may do what in an account: the fixed permissions, the preset roles
// (Store Admin, Manager, Staff) and the account's custom roles, API keys (created with a name and
// a role, shown once, stored hashed, revoked at once) and the principal of a request (an API key
// or a console user with its role). Every check reads the database, so a revoked key or a
// deactivated user is refused at once by every process sharing it.
package access

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Principal is who makes a request: an API key or a console user, acting with a role.
type Principal struct {
	AccountID string
	Kind      string // "api_key" or "user"
	ID        string // the key's or the user's id
	Actor     string // how the timeline names it
	Role      domain.AccessRole
}

// Can tells whether the principal's role grants p.
func (p Principal) Can(perm domain.Permission) bool { return p.Role.Has(perm) }

// Require answers the forbidden error naming perm when the principal lacks it.
func (p Principal) Require(perm domain.Permission) error {
	if perm == "" || p.Can(perm) {
		return nil
	}
	return domain.Forbidden(perm)
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal of ctx.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Service manages roles and API keys.
type Service struct {
	st  *store.Store
	now func() time.Time
}

// New returns the service.
func New(st *store.Store) *Service { return &Service{st: st, now: time.Now} }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Role returns a role of the account: a preset or one of its custom roles.
func (s *Service) Role(ctx context.Context, accountID, id string) (domain.AccessRole, error) {
	if id == "" {
		id = domain.RoleStoreAdmin
	}
	if r, ok := domain.PresetRole(id); ok {
		return r, nil
	}
	r, err := s.st.GetRole(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return domain.AccessRole{}, &domain.Error{Code: domain.CodeNotFound, Message: "role not found"}
	}
	return r, err
}

// AuthenticateKey finds the live API key plain and the role it acts with, and records its use.
func (s *Service) AuthenticateKey(ctx context.Context, plain string) (Principal, error) {
	plain = strings.TrimSpace(plain)
	if plain == "" {
		return Principal{}, &domain.Error{Code: domain.CodeUnauthorized, Message: "send your API key as Authorization: Bearer <key>"}
	}
	k, err := s.st.APIKeyByHash(ctx, auth.HashToken(plain))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, &domain.Error{Code: domain.CodeUnauthorized, Message: "the API key is not valid (it may have been revoked)"}
	}
	if err != nil {
		return Principal{}, err
	}
	role, err := s.Role(ctx, k.AccountID, k.Role)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeNotFound {
		role = domain.AccessRole{ID: k.Role, Name: "(deleted role)"} // no permissions
	} else if err != nil {
		return Principal{}, err
	}
	if err := s.st.TouchAPIKey(ctx, k.ID, s.now()); err != nil {
		return Principal{}, err
	}
	return Principal{AccountID: k.AccountID, Kind: "api_key", ID: k.ID, Actor: domain.ActorAPI, Role: role}, nil
}

// CreateAPIKey makes a key with a name and a role for the principal's account; plain is shown once.
// A principal cannot give a key a permission its own role lacks.
func (s *Service) CreateAPIKey(ctx context.Context, p Principal, name, roleID string) (k domain.APIKey, plain string, err error) {
	if err := p.Require(domain.PermManageAPIKeys); err != nil {
		return k, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return k, "", domain.Invalid("name", "name is required: say what the key is for (\"Web shop\", \"Stock tool\")")
	}
	if err := domain.CheckText("name", name, domain.TextName); err != nil {
		return k, "", err
	}
	if roleID == "" {
		return k, "", domain.Invalid("role", "role is required: admin (Store Admin), manager, staff or a custom role's id")
	}
	if err := domain.CheckText("role", roleID, domain.TextID); err != nil {
		return k, "", err
	}
	role, err := s.Role(ctx, p.AccountID, roleID)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeNotFound {
		return k, "", domain.Invalid("role", "there is no role %q in your account; GET /api/v1/roles lists them", roleID)
	}
	if err != nil {
		return k, "", err
	}
	for _, perm := range role.Permissions {
		if !p.Can(perm) {
			return k, "", &domain.Error{Code: domain.CodeForbidden, Field: string(perm),
				Message: "a key cannot get a permission your own role lacks: " + domain.PermissionLabels[perm] + " (" + string(perm) + ")"}
		}
	}
	plain, prefix, hash := auth.NewAPIKey()
	k = domain.APIKey{ID: auth.NewID("key"), AccountID: p.AccountID, Name: name, Prefix: prefix, Hash: hash, Role: role.ID, CreatedAt: s.now()}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: k.CreatedAt, Kind: "api_key.created", Actor: p.Actor,
			Message: "API key \"" + name + "\" (" + prefix + "…) created with the role " + role.Name})
	})
	if err != nil {
		return domain.APIKey{}, "", err
	}
	return k, plain, nil
}

// ListAPIKeys lists the account's live keys.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal) ([]domain.APIKey, error) {
	if err := p.Require(domain.PermManageAPIKeys); err != nil {
		return nil, err
	}
	return s.st.ListAPIKeys(ctx, p.AccountID)
}

// RevokeAPIKey revokes a key of the principal's account; it is refused from the next request on.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id string) error {
	if err := p.Require(domain.PermManageAPIKeys); err != nil {
		return err
	}
	notFound := &domain.Error{Code: domain.CodeNotFound, Message: "API key not found"}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return notFound
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		k, err := tx.GetAPIKey(ctx, p.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		if err := tx.RevokeAPIKey(ctx, p.AccountID, id, s.now()); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: s.now(), Kind: "api_key.revoked", Actor: p.Actor,
			Message: "API key \"" + k.Name + "\" (" + k.Prefix + "…) revoked"})
	})
}

// RoleName names a role id for display ("Store Admin"); an unknown id shows as itself.
func (s *Service) RoleName(ctx context.Context, accountID, id string) string {
	r, err := s.Role(ctx, accountID, id)
	if err != nil {
		return id
	}
	return r.Name
}

// ListRoles lists the presets and then the account's custom roles.
func (s *Service) ListRoles(ctx context.Context, accountID string) ([]domain.AccessRole, error) {
	custom, err := s.st.ListRoles(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]domain.AccessRole, 0, len(domain.PresetRoles)+len(custom))
	for _, r := range domain.PresetRoles {
		r.StoreIDs = []string{}
		out = append(out, r)
	}
	return append(out, custom...), nil
}
