package api

import (
	"net/http"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/domain"
)

// PermissionJSON is one permission as GET /api/v1/permissions shows it.
type PermissionJSON struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

func (a *API) listPermissions(w http.ResponseWriter, r *http.Request, _ string) error {
	out := make([]PermissionJSON, 0, len(domain.Permissions))
	for _, p := range domain.Permissions {
		out = append(out, PermissionJSON{ID: string(p), Label: domain.PermissionLabels[p]})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request, acct string) error {
	roles, err := a.acc.ListRoles(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": roles})
}

// RoleRequest is the body of POST /api/v1/roles and PATCH /api/v1/roles/{id}.
type RoleRequest struct {
	Name        *string   `json:"name"`
	Permissions *[]string `json:"permissions"`
	StoreIDs    *[]string `json:"store_ids"`
}

func (in RoleRequest) input() access.RoleInput {
	return access.RoleInput{Name: in.Name, Permissions: in.Permissions, StoreIDs: in.StoreIDs}
}

func (a *API) createRole(w http.ResponseWriter, r *http.Request, _ string) error {
	var in RoleRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	ro, err := a.acc.CreateRole(r.Context(), principal(r), in.input())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ro)
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request, _ string) error {
	ro, err := a.acc.GetRole(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ro)
}

func (a *API) updateRole(w http.ResponseWriter, r *http.Request, _ string) error {
	var in RoleRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	ro, err := a.acc.UpdateRole(r.Context(), principal(r), r.PathValue("id"), in.input())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ro)
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request, _ string) error {
	if err := a.acc.DeleteRole(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
