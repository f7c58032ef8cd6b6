// Package accounts creates merchant accounts with their first admin user and API key, for
// `posbridge account create` and for the first start of `serve` on an empty database.
package accounts

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

// Created is what a new account's owner needs, shown once: the password and key are not kept.
type Created struct {
	AccountID     string `json:"account_id"`
	AdminEmail    string `json:"admin_email"`
	AdminPassword string `json:"admin_password"`
	APIKey        string `json:"api_key"`
}

// Create makes an account, its admin user with a generated password, and an API key.
func Create(ctx context.Context, st *store.Store, name, adminEmail string) (Created, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Created{}, domain.Invalid("name", "the account name must have 1 to 200 characters")
	}
	email, err := domain.NormalizeEmail("admin_email", adminEmail)
	if err != nil {
		return Created{}, err
	}
	now := time.Now()
	acct := domain.Account{ID: auth.NewID("acct"), Name: name, CreatedAt: now}
	password := auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return Created{}, err
	}
	plain, prefix, keyHash := auth.NewAPIKey()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, domain.User{ID: auth.NewID("usr"), AccountID: acct.ID, Email: email, Role: domain.RoleAdmin,
			PasswordHash: hash, CreatedAt: now}); err != nil {
			return err
		}
		return tx.CreateAPIKey(ctx, domain.APIKey{ID: auth.NewID("key"), AccountID: acct.ID, Name: "default", Prefix: prefix, Hash: keyHash, CreatedAt: now})
	})
	if err != nil {
		return Created{}, err
	}
	return Created{AccountID: acct.ID, AdminEmail: email, AdminPassword: password, APIKey: plain}, nil
}

// Reset is a user's new password, shown once.
type Reset struct {
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
	Password  string `json:"password"`
}

// ResetPassword gives the user with the email a new generated password, for an operator
// recovering a lost one (`posbridge account reset-password`): every session of the user ends
// and the account's timeline says so. An invited user is activated by it; a deactivated user
// is refused (an admin reactivates users in the console).
func ResetPassword(ctx context.Context, st *store.Store, email string) (Reset, error) {
	email, err := domain.NormalizeEmail("email", email)
	if err != nil {
		return Reset{}, err
	}
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return Reset{}, domain.Invalid("email", "no console user has the email %s", email)
	}
	if err != nil {
		return Reset{}, fmt.Errorf("find user %s: %w", email, err)
	}
	if u.DeactivatedAt != nil {
		return Reset{}, domain.Invalid("email", "%s is deactivated; another admin can reactivate the user first", email)
	}
	password := auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return Reset{}, err
	}
	now := time.Now()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetUserPassword(ctx, u.AccountID, u.ID, hash, "", now); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: u.AccountID, At: now, Kind: "user.password_reset", Actor: ActorCommandLine,
			Message: "The password of " + email + " was reset on the command line; the user's sessions ended"})
	})
	if err != nil {
		return Reset{}, fmt.Errorf("reset password of %s: %w", email, err)
	}
	return Reset{AccountID: u.AccountID, Email: email, Password: password}, nil
}

// ActorCommandLine is how the timeline names an operator acting with the posbridge command.
const ActorCommandLine = "command line"

// Find reads an account by its id or, when id is empty, the account of the console user with
// the email: how the command line names the account whose keys it manages.
func Find(ctx context.Context, st *store.Store, id, email string) (domain.Account, error) {
	if id != "" {
		a, err := st.GetAccount(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return a, domain.Invalid("account", "there is no account %s", id)
		}
		return a, err
	}
	email, err := domain.NormalizeEmail("email", email)
	if err != nil {
		return domain.Account{}, err
	}
	u, err := st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return domain.Account{}, domain.Invalid("email", "no console user has the email %s", email)
	}
	if err != nil {
		return domain.Account{}, fmt.Errorf("find user %s: %w", email, err)
	}
	return st.GetAccount(ctx, u.AccountID)
}
