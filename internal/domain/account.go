package domain

import (
	"net/mail"
	"strings"
	"time"
)

// Account is one merchant business. Every other object belongs to exactly one account.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Role decides what a console user may do.
type Role string

// Roles: admins manage integrations and settings; staff see them.
const (
	RoleAdmin Role = "admin"
	RoleStaff Role = "staff"
)

// Valid tells whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleStaff }

// User is a person who logs in to the console.
type User struct {
	ID           string
	AccountID    string
	Email        string
	Role         Role
	PasswordHash string
	CreatedAt    time.Time
	Name         string
	InvitedBy    string     // who invited the user ("" for the first admin)
	ActivatedAt  *time.Time // when the user set a password (nil: invited, not yet accepted)
	// DeactivatedAt is when the user was deactivated: no login, sessions ended.
	DeactivatedAt *time.Time
}

// Active tells whether the user may log in: accepted the invitation and not deactivated.
func (u User) Active() bool { return u.ActivatedAt != nil && u.DeactivatedAt == nil }

// UserStatus is "active", "invited" or "deactivated".
func (u User) UserStatus() string {
	switch {
	case u.DeactivatedAt != nil:
		return "deactivated"
	case u.ActivatedAt == nil:
		return "invited"
	}
	return "active"
}

// APIKey lets the business app call the REST API for one account. Only a hash is kept.
type APIKey struct {
	ID        string
	AccountID string
	Name      string
	Prefix    string // the first characters, shown to tell keys apart
	Hash      string
	CreatedAt time.Time
	// Role is the role the key acts with (a preset id or a custom role's id); "" is Store Admin.
	Role       string
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// NormalizeEmail lower-cases and checks an email address.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return "", Invalid(field, "%q is not an email address", s)
	}
	return s, nil
}
