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

// Mailer sends one-time links by email (internal/outbox).
type Mailer interface {
	EmailConfigured() bool
	EmailTo(ctx context.Context, tx *store.Tx, accountID, to, subject, text string) (bool, error)
}

// Link lifetimes and kinds.
const (
	InviteTTL  = 7 * 24 * time.Hour
	ResetTTL   = time.Hour
	kindInvite = "invite"
	kindReset  = "reset"
	// MinPasswordLen is the shortest password a person may choose.
	MinPasswordLen = 10
)

// Configure sets how one-time links reach people: the mailer (nil: never emailed) and the
// console's base URL the links start with.
func (s *Service) Configure(m Mailer, baseURL func() string) { s.mail, s.baseURL = m, baseURL }

func (s *Service) link(path, token string) string {
	base := ""
	if s.baseURL != nil {
		base = strings.TrimRight(s.baseURL(), "/")
	}
	return base + path + token
}

func userNotFound() error { return &domain.Error{Code: domain.CodeNotFound, Message: "user not found"} }

// ListUsers lists the account's users.
func (s *Service) ListUsers(ctx context.Context, p Principal) ([]domain.User, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return nil, err
	}
	return s.st.ListUsers(ctx, p.AccountID)
}

// Invited is the outcome of an invitation: the link is set when it was not emailed (no SMTP),
// to be shown once to the inviting admin.
type Invited struct {
	User    domain.User
	Emailed bool
	Link    string
}

// InviteUser creates an invited user with a role and a one-time link to set a password.
func (s *Service) InviteUser(ctx context.Context, p Principal, email, name, roleID string) (Invited, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return Invited{}, err
	}
	if err := domain.CheckText("email", email, domain.TextEmail); err != nil {
		return Invited{}, err
	}
	email, err := domain.NormalizeEmail("email", email)
	if err != nil {
		return Invited{}, err
	}
	name = strings.TrimSpace(name)
	if err := domain.CheckText("name", name, domain.TextName); err != nil {
		return Invited{}, err
	}
	role, err := s.roleFor(ctx, p, roleID)
	if err != nil {
		return Invited{}, err
	}
	now := s.now()
	u := domain.User{ID: auth.NewID("usr"), AccountID: p.AccountID, Email: email, Name: name, Role: domain.Role(role.ID), CreatedAt: now, InvitedBy: p.Actor}
	token := auth.NewSessionToken()
	out := Invited{User: u}
	link := s.link("/invite/", token)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateUserToken(ctx, auth.HashToken(token), store.UserToken{UserID: u.ID, AccountID: p.AccountID, Kind: kindInvite, ExpiresAt: now.Add(InviteTTL)}, now); err != nil {
			return err
		}
		if s.mail != nil {
			sent, err := s.mail.EmailTo(ctx, tx, p.AccountID, email, "You are invited to posbridge",
				fmt.Sprintf("You have been invited to posbridge as %s.\n\nSet your password with this link (valid for 7 days, once):\n%s\n", role.Name, link))
			if err != nil {
				return err
			}
			out.Emailed = sent
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "user.invited", Actor: p.Actor,
			Message: "Invited " + email + " as " + role.Name})
	})
	if err != nil {
		return Invited{}, err
	}
	if !out.Emailed {
		out.Link = link
	}
	return out, nil
}

// roleFor checks a role id the principal may give.
func (s *Service) roleFor(ctx context.Context, p Principal, roleID string) (domain.AccessRole, error) {
	if roleID == "" {
		return domain.AccessRole{}, domain.Invalid("role", "role is required: admin (Store Admin), manager, staff or a custom role's id")
	}
	if err := domain.CheckText("role", roleID, domain.TextID); err != nil {
		return domain.AccessRole{}, err
	}
	role, err := s.Role(ctx, p.AccountID, roleID)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.CodeNotFound {
		return role, domain.Invalid("role", "there is no role %q in your account; GET /api/v1/roles lists them", clip(roleID, 64))
	}
	if err != nil {
		return role, err
	}
	return role, grantable(p, role)
}

// UserUpdate changes a user: its role, or whether it is active.
type UserUpdate struct {
	Role   *string
	Active *bool
}

// UpdateUser changes a user's role or deactivates / reactivates it. Deactivating ends its
// sessions at once; nobody deactivates themselves or takes away their own role.
func (s *Service) UpdateUser(ctx context.Context, p Principal, id string, in UserUpdate) (domain.User, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return domain.User{}, err
	}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return domain.User{}, userNotFound()
	}
	var role domain.AccessRole
	if in.Role != nil {
		r, err := s.roleFor(ctx, p, *in.Role)
		if err != nil {
			return domain.User{}, err
		}
		role = r
	}
	var out domain.User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.GetUser(ctx, p.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			return userNotFound()
		}
		if err != nil {
			return err
		}
		self := p.Kind == "user" && p.ID == u.ID
		now := s.now()
		if in.Role != nil && string(u.Role) != role.ID {
			if self {
				return &domain.Error{Code: domain.CodeConflict, Field: "role", Message: "you cannot change your own role; ask another admin"}
			}
			if err := tx.SetUserRole(ctx, p.AccountID, id, role.ID); err != nil {
				return err
			}
			u.Role = domain.Role(role.ID)
			if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "user.role_changed", Actor: p.Actor,
				Message: u.Email + " now has the role " + role.Name}); err != nil {
				return err
			}
		}
		if in.Active != nil && *in.Active != (u.DeactivatedAt == nil) {
			if self {
				return &domain.Error{Code: domain.CodeConflict, Field: "active", Message: "you cannot deactivate yourself"}
			}
			var at *time.Time
			msg := u.Email + " reactivated"
			if !*in.Active {
				at, msg = &now, u.Email+" deactivated; their sessions ended"
			}
			if err := tx.SetUserDeactivated(ctx, p.AccountID, id, at); err != nil {
				return err
			}
			u.DeactivatedAt = at
			if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "user.changed", Actor: p.Actor, Message: msg}); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// ResetLink makes a password-reset link for a user of the principal's account (the console's
// "Reset password"): emailed when SMTP is on, else answered to be shown once.
func (s *Service) ResetLink(ctx context.Context, p Principal, id string) (Invited, error) {
	if err := p.Require(domain.PermManageUsers); err != nil {
		return Invited{}, err
	}
	if domain.HasControl(id) || len(id) > domain.MaxIDLen {
		return Invited{}, userNotFound()
	}
	u, err := s.st.GetUser(ctx, p.AccountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return Invited{}, userNotFound()
	}
	if err != nil {
		return Invited{}, err
	}
	return s.sendReset(ctx, u, p.Actor)
}

// RequestReset emails a password-reset link to email when it is an active user's ("Forgot
// password"). It says nothing about whether the address is known.
func (s *Service) RequestReset(ctx context.Context, email string) error {
	email, err := domain.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	u, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.DeactivatedAt != nil {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.sendReset(ctx, u, domain.ActorUser(u.Email))
	return err
}

func (s *Service) sendReset(ctx context.Context, u domain.User, actor string) (Invited, error) {
	if u.DeactivatedAt != nil {
		return Invited{}, &domain.Error{Code: domain.CodeConflict, Message: "the user is deactivated; reactivate them first"}
	}
	now := s.now()
	token := auth.NewSessionToken()
	link := s.link("/reset/", token)
	out := Invited{User: u}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUserToken(ctx, auth.HashToken(token), store.UserToken{UserID: u.ID, AccountID: u.AccountID, Kind: kindReset, ExpiresAt: now.Add(ResetTTL)}, now); err != nil {
			return err
		}
		if s.mail != nil {
			sent, err := s.mail.EmailTo(ctx, tx, u.AccountID, u.Email, "Reset your posbridge password",
				"Choose a new password with this link (valid for one hour, once):\n"+link+"\n\nIf you did not ask for this, ignore this email.\n")
			if err != nil {
				return err
			}
			out.Emailed = sent
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: u.AccountID, At: now, Kind: "user.password_reset", Actor: actor,
			Message: "Password reset link made for " + u.Email})
	})
	if err != nil {
		return Invited{}, err
	}
	if !out.Emailed {
		out.Link = link
	}
	return out, nil
}

// CheckLink tells which user a live one-time link (invite or reset) is for.
func (s *Service) CheckLink(ctx context.Context, token string) (domain.User, string, error) {
	t, err := s.st.PeekUserToken(ctx, auth.HashToken(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return domain.User{}, "", &domain.Error{Code: domain.CodeNotFound, Message: "this link is not valid any more: it was used already or it expired. Ask an admin of your account for a new one."}
	}
	if err != nil {
		return domain.User{}, "", err
	}
	u, err := s.st.GetUser(ctx, t.AccountID, t.UserID)
	return u, t.Kind, err
}

// CheckNewPassword refuses a password too short or too long.
func CheckNewPassword(field, pw string) error {
	if len([]rune(pw)) < MinPasswordLen {
		return domain.Invalid(field, "the password must have at least %d characters", MinPasswordLen)
	}
	if len(pw) > 72 {
		return domain.Invalid(field, "the password must have at most 72 bytes")
	}
	return nil
}

// UseLink sets the password of the user of a one-time link, once; every session of the user ends.
func (s *Service) UseLink(ctx context.Context, token, password string) (domain.User, error) {
	if err := CheckNewPassword("password", password); err != nil {
		return domain.User{}, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return domain.User{}, err
	}
	var u domain.User
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.UseUserToken(ctx, auth.HashToken(token), s.now())
		if errors.Is(err, store.ErrNotFound) {
			return &domain.Error{Code: domain.CodeNotFound, Message: "this link is not valid any more: it was used already or it expired. Ask an admin of your account for a new one."}
		}
		if err != nil {
			return err
		}
		if u, err = tx.GetUser(ctx, t.AccountID, t.UserID); err != nil {
			return err
		}
		if u.DeactivatedAt != nil {
			return &domain.Error{Code: domain.CodeConflict, Message: "your user is deactivated; ask an admin of your account"}
		}
		if err := tx.SetUserPassword(ctx, u.AccountID, u.ID, hash, "", s.now()); err != nil {
			return err
		}
		what := "accepted the invitation"
		if t.Kind == kindReset {
			what = "reset their password"
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: u.AccountID, At: s.now(), Kind: "user.password_set", Actor: domain.ActorUser(u.Email),
			Message: u.Email + " " + what})
	})
	return u, err
}

// ChangePassword changes a user's own password after checking the current one; every other
// session of the user ends (keepSessionHash stays).
func (s *Service) ChangePassword(ctx context.Context, u domain.User, current, next, keepSessionHash string) error {
	if !auth.CheckPassword(u.PasswordHash, current) {
		return domain.Invalid("current_password", "the current password is not right")
	}
	if err := CheckNewPassword("new_password", next); err != nil {
		return err
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserPassword(ctx, u.AccountID, u.ID, hash, keepSessionHash, s.now()); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: u.AccountID, At: s.now(), Kind: "user.password_changed", Actor: domain.ActorUser(u.Email),
			Message: u.Email + " changed their password; their other sessions ended"})
	})
}
