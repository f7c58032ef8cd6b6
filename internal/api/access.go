package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// routePermissions name the permission a route needs, by method and path pattern. Routes not
// listed: reads need none beyond a valid key; writes need the permission of their path prefix
// (permissionPrefixes), and Store Admin's manage_integrations when no prefix matches.
var routePermissions = map[string]domain.Permission{
	"GET /api/v1/api-keys":         domain.PermManageAPIKeys,
	"POST /api/v1/api-keys":        domain.PermManageAPIKeys,
	"DELETE /api/v1/api-keys/{id}": domain.PermManageAPIKeys,
	// Mapping a POS item to the app's product or recipe changes how sales are costed.
	"PUT /api/v1/pos-items/{id}/mapping": domain.PermManageIntegrations,
}

// permissionPrefixes give the permission of every route under a path prefix; the first match
// wins. readsToo: also GET routes need it.
var permissionPrefixes = []struct {
	prefix   string
	perm     domain.Permission
	readsToo bool
}{
	{"/api/v1/api-keys", domain.PermManageAPIKeys, true},
	{"/api/v1/users", domain.PermManageUsers, true},
	{"/api/v1/roles", domain.PermManageUsers, true},
	{"/api/v1/sales", domain.PermViewSales, true},
	{"/api/v1/pos-items", domain.PermViewSales, true},
	{"/api/v1/back-office/publish", domain.PermPublish, false},
	{"/api/v1/back-office", domain.PermEditBackOffice, false},
	{"/api/v1/terminals", domain.PermEditBackOffice, false},
	{"/api/v1/documents", domain.PermManageOrderSync, false},
	{"/api/v1/order-sync", domain.PermManageOrderSync, false},
	{"/api/v1/catalog", domain.PermManageCatalogSync, false},
	{"/api/v1/products", domain.PermManageCatalogSync, false},
	{"/api/v1/customers", domain.PermManageCatalogSync, false},
	{"/api/v1/links", domain.PermManageCatalogSync, false},
	{"/api/v1/stock", domain.PermManageCatalogSync, false},
	{"/api/v1/integrations", domain.PermManageIntegrations, false},
	{"/api/v1/webhook-endpoints", domain.PermManageIntegrations, false},
}

// RoutePermission is the permission a route of Routes needs ("" when any valid key may call it).
func RoutePermission(method, path string) domain.Permission {
	if p, ok := routePermissions[method+" "+path]; ok {
		return p
	}
	for _, pp := range permissionPrefixes {
		if strings.HasPrefix(path, pp.prefix) {
			if method == http.MethodGet && !pp.readsToo {
				return ""
			}
			return pp.perm
		}
	}
	if method == http.MethodGet {
		return ""
	}
	return domain.PermManageIntegrations
}

// APIKeyJSON is an API key as the API shows it; the key itself only once, on creation.
type APIKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Key        string     `json:"key,omitempty"`
}

func apiKeyJSON(k domain.APIKey) APIKeyJSON {
	return APIKeyJSON{ID: k.ID, Name: k.Name, Role: k.Role, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request, _ string) error {
	keys, err := a.acc.ListAPIKeys(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := make([]APIKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiKeyJSON(k))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// CreateAPIKeyRequest is the body of POST /api/v1/api-keys.
type CreateAPIKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request, _ string) error {
	var in CreateAPIKeyRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	k, plain, err := a.acc.CreateAPIKey(r.Context(), principal(r), in.Name, in.Role)
	if err != nil {
		return err
	}
	out := apiKeyJSON(k)
	out.Key = plain
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) revokeAPIKey(w http.ResponseWriter, r *http.Request, _ string) error {
	if err := a.acc.RevokeAPIKey(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
