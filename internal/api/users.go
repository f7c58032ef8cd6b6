package api

import (
	"net/http"
	"time"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/domain"
)

// UserJSON is a console user as the API shows it.
type UserJSON struct {
	ID            string     `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Role          string     `json:"role"`
	Status        string     `json:"status"` // active, invited or deactivated
	CreatedAt     time.Time  `json:"created_at"`
	ActivatedAt   *time.Time `json:"activated_at"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
}

func userJSON(u domain.User) UserJSON {
	return UserJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Status: u.UserStatus(), CreatedAt: u.CreatedAt,
		ActivatedAt: u.ActivatedAt, DeactivatedAt: u.DeactivatedAt}
}

// NewUserJSON is an invited user: the invitation link when it was not emailed (shown once).
type NewUserJSON struct {
	UserJSON
	Emailed   bool    `json:"emailed"`
	InviteURL *string `json:"invite_url"`
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ string) error {
	users, err := a.acc.ListUsers(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := make([]UserJSON, 0, len(users))
	for _, u := range users {
		out = append(out, userJSON(u))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// InviteUserRequest is the body of POST /api/v1/users.
type InviteUserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func (a *API) inviteUser(w http.ResponseWriter, r *http.Request, _ string) error {
	var in InviteUserRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Email == "" {
		return domain.Invalid("email", "email is required")
	}
	inv, err := a.acc.InviteUser(r.Context(), principal(r), in.Email, in.Name, in.Role)
	if err != nil {
		return err
	}
	out := NewUserJSON{UserJSON: userJSON(inv.User), Emailed: inv.Emailed}
	if inv.Link != "" {
		out.InviteURL = &inv.Link
	}
	return writeJSON(w, http.StatusCreated, out)
}

// UpdateUserRequest is the body of PATCH /api/v1/users/{id}.
type UpdateUserRequest struct {
	Role   *string `json:"role"`
	Active *bool   `json:"active"`
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request, _ string) error {
	var in UpdateUserRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := a.acc.UpdateUser(r.Context(), principal(r), r.PathValue("id"), access.UserUpdate{Role: in.Role, Active: in.Active})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userJSON(u))
}

func (a *API) deactivateUser(w http.ResponseWriter, r *http.Request, _ string) error {
	off := false
	if _, err := a.acc.UpdateUser(r.Context(), principal(r), r.PathValue("id"), access.UserUpdate{Active: &off}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SetAccess replaces the access service (the app shares one, configured with its mailer).
func (a *API) SetAccess(s *access.Service) { a.acc = s }
