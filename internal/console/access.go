package console

import (
	"net/http"

	"github.com/posbridge/posbridge/internal/domain"
)

// apiKeysData is the body of User Management -> API keys.
type apiKeysData struct {
	Keys   []apiKeyView
	Roles  []domain.AccessRole
	New    *apiKeyView // the key just created, with the key itself (shown this once)
	Name   string
	Role   string
	Errors map[string]string
}

type apiKeyView struct {
	ID, Name, Prefix, RoleName string
	Created, LastUsed          string
	Key                        string
}

func (c *Console) apiKeysPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderAPIKeys(w, r, s, http.StatusOK, apiKeysData{Role: domain.RoleManager})
}

func (c *Console) renderAPIKeys(w http.ResponseWriter, r *http.Request, s *session, status int, d apiKeysData) {
	if !s.can(domain.PermManageAPIKeys) {
		c.errorPage(w, r, s, http.StatusForbidden, "Forbidden", "Your role does not have the permission \"Manage API keys\"; ask a Store Admin of your account.")
		return
	}
	keys, err := c.acc.ListAPIKeys(r.Context(), s.principal())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	roles, err := c.acc.ListRoles(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Roles = roles
	names := map[string]string{}
	for _, ro := range roles {
		names[ro.ID] = ro.Name
	}
	for _, k := range keys {
		v := apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, RoleName: names[k.Role], Created: FormatTime(k.CreatedAt), LastUsed: formatTimePtr(k.LastUsedAt)}
		if v.RoleName == "" {
			v.RoleName = k.Role
		}
		d.Keys = append(d.Keys, v)
	}
	c.render(w, status, "api_keys", c.newPage(r, s, "API keys", "api-keys", d))
}

func (c *Console) apiKeyCreate(w http.ResponseWriter, r *http.Request, s *session) {
	name, role := r.PostForm.Get("name"), r.PostForm.Get("role")
	k, plain, err := c.acc.CreateAPIKey(r.Context(), s.principal(), name, role)
	if fe := fieldError(err); fe != nil {
		c.renderAPIKeys(w, r, s, http.StatusUnprocessableEntity, apiKeysData{Name: name, Role: role, Errors: fe})
		return
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.renderAPIKeys(w, r, s, http.StatusOK, apiKeysData{Role: domain.RoleManager,
		New: &apiKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Key: plain}})
}

func (c *Console) apiKeyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.acc.RevokeAPIKey(r.Context(), s.principal(), r.PathValue("id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/api-keys?msg=keyrevoked", http.StatusSeeOther)
}

// fieldError turns an invalid-field error into the form's error map; nil for other errors.
func fieldError(err error) map[string]string {
	de, ok := err.(*domain.Error)
	if !ok || de.Code != domain.CodeInvalid && de.Code != domain.CodeConflict || de.Field == "" {
		return nil
	}
	return map[string]string{de.Field: de.Message}
}
