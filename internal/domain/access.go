package domain

import "time"

// Permission is one thing a role may do. The list is fixed; roles are sets of them.
type Permission string

// The permissions, in the order the console's matrix shows them.
const (
	PermManageIntegrations Permission = "manage_integrations"
	PermManageOrderSync    Permission = "manage_order_sync"
	PermManageCatalogSync  Permission = "manage_catalog_sync"
	PermEditBackOffice     Permission = "edit_back_office"
	PermPublish            Permission = "publish"
	PermViewSales          Permission = "view_sales"
	PermManageUsers        Permission = "manage_users"
	PermManageAPIKeys      Permission = "manage_api_keys"
)

// Permissions is every permission, in display order.
var Permissions = []Permission{PermManageIntegrations, PermManageOrderSync, PermManageCatalogSync, PermEditBackOffice,
	PermPublish, PermViewSales, PermManageUsers, PermManageAPIKeys}

// PermissionLabels are the merchant-facing names of the permissions.
var PermissionLabels = map[Permission]string{
	PermManageIntegrations: "Manage integrations",
	PermManageOrderSync:    "Manage order sync",
	PermManageCatalogSync:  "Manage catalog sync",
	PermEditBackOffice:     "Edit back office",
	PermPublish:            "Publish",
	PermViewSales:          "View sales",
	PermManageUsers:        "Manage users and roles",
	PermManageAPIKeys:      "Manage API keys",
}

// Valid tells whether p is one of the permissions.
func (p Permission) Valid() bool { _, ok := PermissionLabels[p]; return ok }

// Preset role ids. "admin" and "staff" are the roles users had before roles existed.
const (
	RoleStoreAdmin = "admin"
	RoleManager    = "manager"
	RoleStaffID    = "staff"
)

// AccessRole is a named set of permissions, optionally limited to some stores. Preset roles
// exist in every account and cannot be changed; custom roles belong to one account.
type AccessRole struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Preset      bool         `json:"preset"`
	Permissions []Permission `json:"permissions"`
	// StoreIDs limits the role to these stores (back office, terminals); empty means all stores.
	StoreIDs  []string   `json:"store_ids"`
	CreatedAt *time.Time `json:"created_at"`
}

// Has tells whether the role grants p.
func (r AccessRole) Has(p Permission) bool {
	for _, x := range r.Permissions {
		if x == p {
			return true
		}
	}
	return false
}

// CoversStore tells whether the role may act on the store (a role without store limits covers all).
func (r AccessRole) CoversStore(storeID string) bool {
	if len(r.StoreIDs) == 0 {
		return true
	}
	for _, s := range r.StoreIDs {
		if s == storeID {
			return true
		}
	}
	return false
}

// PresetRoles are the roles every account has.
var PresetRoles = []AccessRole{
	{ID: RoleStoreAdmin, Name: "Store Admin", Preset: true, Permissions: Permissions},
	{ID: RoleManager, Name: "Manager", Preset: true, Permissions: []Permission{PermManageOrderSync, PermManageCatalogSync,
		PermEditBackOffice, PermPublish, PermViewSales}},
	{ID: RoleStaffID, Name: "Staff", Preset: true, Permissions: []Permission{PermViewSales}},
}

// PresetRole returns the preset role with the id.
func PresetRole(id string) (AccessRole, bool) {
	for _, r := range PresetRoles {
		if r.ID == id {
			return r, true
		}
	}
	return AccessRole{}, false
}

// Forbidden is the error of a caller whose role lacks p: 403, code forbidden, field the permission.
func Forbidden(p Permission) *Error {
	return &Error{Code: CodeForbidden, Field: string(p),
		Message: "your role does not have the permission \"" + PermissionLabels[p] + "\" (" + string(p) + ")"}
}
