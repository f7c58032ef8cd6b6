// Package access decides who may do what in an account: the fixed permissions, the preset roles
// (Store Admin, Manager, Staff) and the account's custom roles, API keys (created with a name and
// a role, shown once, stored hashed, revoked at once) and the principal of a request (an API key
// or a console user with its role). Every check reads the database, so a revoked key or a
// deactivated user is refused at once by every process sharing it.
package access

import (
	"context"
	"errors"
	"fmt"
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
	st      *store.Store
	now     func() time.Time
	mail    Mailer
	baseURL func() string
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

// RoleInput is a custom role's name, permissions and store limits; nil leaves a field as it is (update).
type RoleInput struct {
	Name        *string
	Permissions *[]string
	StoreIDs    *[]string
}

// MaxRoleStores is how many stores a role may be limited to.
const MaxRoleStores = 100

func (s *Service) applyRoleInput(r *domain.AccessRole, in RoleInput) error {
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if name == "" {
			return domain.Invalid("name", "name is required")
		}
		if err := domain.CheckText("name", name, domain.TextName); err != nil {
			return err
		}
		for _, pr := range domain.PresetRoles {
			if strings.EqualFold(pr.Name, name) || strings.EqualFold(pr.ID, name) {
				return &domain.Error{Code: domain.CodeConflict, Field: "name", Message: "\"" + name + "\" is the name of a preset role; choose another"}
			}
		}
		r.Name = name
	}
	if in.Permissions != nil {
		seen := map[domain.Permission]bool{}
		perms := []domain.Permission{}
		for i, v := range *in.Permissions {
			p := domain.Permission(v)
			if !p.Valid() {
				return domain.Invalid(fmt.Sprintf("permissions[%d]", i), "%q is not a permission; GET /api/v1/permissions lists them", clip(v, 64))
			}
			if !seen[p] {
				seen[p] = true
			}
		}
		for _, p := range domain.Permissions { // kept in the fixed order
			if seen[p] {
				perms = append(perms, p)
			}
		}
		r.Permissions = perms
	}
	if in.StoreIDs != nil {
		if len(*in.StoreIDs) > MaxRoleStores {
			return domain.Invalid("store_ids", "a role may be limited to at most %d stores", MaxRoleStores)
		}
		ids := []string{}
		seen := map[string]bool{}
		for i, v := range *in.StoreIDs {
			v = strings.TrimSpace(v)
			f := fmt.Sprintf("store_ids[%d]", i)
			if v == "" {
				return domain.Invalid(f, "a store id is empty")
			}
			if err := domain.CheckText(f, v, domain.TextID); err != nil {
				return err
			}
			if !seen[v] {
				seen[v] = true
				ids = append(ids, v)
			}
		}
		r.StoreIDs = ids
	}
	return nil
}

// grantable refuses a role with a permission the principal's own role lacks.
func grantable(p Principal, r domain.AccessRole) error {
	for _, perm := range r.Permissions {
		if !p.Can(perm) {
			return &domain.Error{Code: domain.CodeForbidden, Field: string(perm),
				Message: "you cannot give a permission your own role lacks: " + domain.PermissionLabels[perm] + " (" + string(perm) + ")"}
		}
	}
	return nil
}

// CreateRole makes a custom role.
func (s *Service) CreateRole(ctx context.Context, p Principal, in RoleInput) (domain.AccessRole, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return domain.AccessRole{}, err
	}
	if in.Name == nil {
		return domain.AccessRole{}, domain.Invalid("name", "name is required")
	}
	r := domain.AccessRole{ID: auth.NewID("rol"), Permissions: []domain.Permission{}, StoreIDs: []string{}}
	if err := s.applyRoleInput(&r, in); err != nil {
		return domain.AccessRole{}, err
	}
	if err := grantable(p, r); err != nil {
		return domain.AccessRole{}, err
	}
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateRole(ctx, p.AccountID, r, now); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "role.created", Actor: p.Actor,
			Message: "Role \"" + r.Name + "\" created with " + permList(r.Permissions)})
	})
	if err != nil {
		return domain.AccessRole{}, err
	}
	return s.st.GetRole(ctx, p.AccountID, r.ID)
}

func permList(ps []domain.Permission) string {
	if len(ps) == 0 {
		return "no permissions"
	}
	var names []string
	for _, p := range ps {
		names = append(names, domain.PermissionLabels[p])
	}
	return strings.Join(names, ", ")
}

func roleNotFound() error { return &domain.Error{Code: domain.CodeNotFound, Message: "role not found"} }

// UpdateRole changes a custom role; presets cannot be changed.
func (s *Service) UpdateRole(ctx context.Context, p Principal, id string, in RoleInput) (domain.AccessRole, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return domain.AccessRole{}, err
	}
	if _, ok := domain.PresetRole(id); ok {
		return domain.AccessRole{}, &domain.Error{Code: domain.CodeConflict, Message: "preset roles cannot be changed; create a custom role instead"}
	}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return domain.AccessRole{}, roleNotFound()
	}
	var out domain.AccessRole
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.GetRole(ctx, p.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return roleNotFound()
		}
		if err != nil {
			return err
		}
		if err := s.applyRoleInput(&r, in); err != nil {
			return err
		}
		if err := grantable(p, r); err != nil {
			return err
		}
		if err := tx.UpdateRole(ctx, p.AccountID, r, s.now()); err != nil {
			return err
		}
		out = r
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: s.now(), Kind: "role.changed", Actor: p.Actor,
			Message: "Role \"" + r.Name + "\" now has " + permList(r.Permissions)})
	})
	return out, err
}

// DeleteRole removes a custom role that no user or API key has.
func (s *Service) DeleteRole(ctx context.Context, p Principal, id string) error {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return err
	}
	if _, ok := domain.PresetRole(id); ok {
		return &domain.Error{Code: domain.CodeConflict, Message: "preset roles cannot be deleted"}
	}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return roleNotFound()
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		r, err := tx.GetRole(ctx, p.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return roleNotFound()
		}
		if err != nil {
			return err
		}
		keys, err := tx.CountAPIKeysWithRole(ctx, p.AccountID, id)
		if err != nil {
			return err
		}
		users, err := tx.CountUsersWithRole(ctx, p.AccountID, id)
		if err != nil {
			return err
		}
		if keys+users > 0 {
			return &domain.Error{Code: domain.CodeConflict, Message: fmt.Sprintf("the role \"%s\" is in use by %d user(s) and %d API key(s); give them another role first", r.Name, users, keys)}
		}
		if err := tx.DeleteRole(ctx, p.AccountID, id); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: s.now(), Kind: "role.deleted", Actor: p.Actor,
			Message: "Role \"" + r.Name + "\" deleted"})
	})
}

// GetRole reads a role (preset or custom) for the principal.
func (s *Service) GetRole(ctx context.Context, p Principal, id string) (domain.AccessRole, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return domain.AccessRole{}, err
	}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return domain.AccessRole{}, roleNotFound()
	}
	r, err := s.Role(ctx, p.AccountID, id)
	if err == nil && r.StoreIDs == nil {
		r.StoreIDs = []string{}
	}
	return r, err
}

// clip shortens s to at most n runes for a message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
