// Package accounts creates merchant accounts with their first admin user and API key, for
// `posbridge account create` and for the first start of `serve` on an empty database.
package accounts

import (
	"context"
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
