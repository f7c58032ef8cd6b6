package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/domain"
)

// usersData is the body of User Management -> Users.
type usersData struct {
	Users  []userView
	Roles  []domain.AccessRole
	Link   string // an invitation or reset link to show once (no SMTP)
	LinkTo string
	Sent   string // whom a link was emailed to
	Email  string
	Name   string
	Role   string
	Errors map[string]string
}

type userView struct {
	ID, Email, Name, Role, RoleName, Status string
	Self                                    bool
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderUsers(w, r, s, http.StatusOK, usersData{Role: domain.RoleStaffID})
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, s *session, status int, d usersData) {
	if !s.can(domain.PermManageUsers) {
		c.errorPage(w, r, s, http.StatusForbidden, "Forbidden", "Your role does not have the permission \"Manage users and roles\"; ask a Store Admin of your account.")
		return
	}
	users, err := c.acc.ListUsers(r.Context(), s.principal())
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
	for _, u := range users {
		v := userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), RoleName: names[string(u.Role)], Status: u.UserStatus(), Self: u.ID == s.user.ID}
		if v.RoleName == "" {
			v.RoleName = v.Role
		}
		d.Users = append(d.Users, v)
	}
	c.render(w, status, "users", c.newPage(r, s, "Users", "users", d))
}

func (c *Console) userInvite(w http.ResponseWriter, r *http.Request, s *session) {
	email, name, role := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("name"), r.PostForm.Get("role")
	inv, err := c.acc.InviteUser(r.Context(), s.principal(), email, name, role)
	if fe := fieldError(err); fe != nil {
		c.renderUsers(w, r, s, http.StatusUnprocessableEntity, usersData{Email: email, Name: name, Role: role, Errors: fe})
		return
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := usersData{Role: domain.RoleStaffID, Link: inv.Link, LinkTo: inv.User.Email}
	if inv.Emailed {
		d.Sent = inv.User.Email
	}
	c.renderUsers(w, r, s, http.StatusOK, d)
}

func (c *Console) userRole(w http.ResponseWriter, r *http.Request, s *session) {
	role := r.PostForm.Get("role")
	if _, err := c.acc.UpdateUser(r.Context(), s.principal(), r.PathValue("id"), access.UserUpdate{Role: &role}); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/users?msg=usersaved", http.StatusSeeOther)
}

func (c *Console) userActive(w http.ResponseWriter, r *http.Request, s *session) {
	on := r.PostForm.Get("active") == "true"
	if _, err := c.acc.UpdateUser(r.Context(), s.principal(), r.PathValue("id"), access.UserUpdate{Active: &on}); err != nil {
		c.fail(w, r, s, err)
		return
	}
	msg := "userreactivated"
	if !on {
		msg = "userdeactivated"
	}
	http.Redirect(w, r, "/users?msg="+msg, http.StatusSeeOther)
}

func (c *Console) userReset(w http.ResponseWriter, r *http.Request, s *session) {
	inv, err := c.acc.ResetLink(r.Context(), s.principal(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := usersData{Role: domain.RoleStaffID, Link: inv.Link, LinkTo: inv.User.Email}
	if inv.Emailed {
		d.Sent = inv.User.Email
	}
	c.renderUsers(w, r, s, http.StatusOK, d)
}

// rolesData is the body of User Management -> Roles: the permission matrix and custom roles.
type rolesData struct {
	Roles       []domain.AccessRole
	Permissions []permView
	New         roleForm
	Errors      map[string]string
}

type permView struct {
	ID    domain.Permission
	Label string
}

type roleForm struct {
	Name   string
	Perms  map[domain.Permission]bool
	Stores string
}

// roleFormArgs is what the "role-form" template gets.
type roleFormArgs struct {
	CSRF, ID    string
	Form        roleForm
	Permissions []permView
	Errors      map[string]string
}

func roleFormFor(p *page, f roleForm, id string, perms []permView, errs map[string]string) roleFormArgs {
	return roleFormArgs{CSRF: p.CSRF, ID: id, Form: f, Permissions: perms, Errors: errs}
}

func roleFormOf(r domain.AccessRole) roleForm {
	f := roleForm{Name: r.Name, Perms: map[domain.Permission]bool{}, Stores: strings.Join(r.StoreIDs, ", ")}
	for _, p := range r.Permissions {
		f.Perms[p] = true
	}
	return f
}

func (c *Console) rolesPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderRoles(w, r, s, http.StatusOK, rolesData{New: roleForm{Perms: map[domain.Permission]bool{}}})
}

func (c *Console) renderRoles(w http.ResponseWriter, r *http.Request, s *session, status int, d rolesData) {
	if !s.can(domain.PermManageUsers) {
		c.errorPage(w, r, s, http.StatusForbidden, "Forbidden", "Your role does not have the permission \"Manage users and roles\"; ask a Store Admin of your account.")
		return
	}
	roles, err := c.acc.ListRoles(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Roles = roles
	for _, p := range domain.Permissions {
		d.Permissions = append(d.Permissions, permView{ID: p, Label: domain.PermissionLabels[p]})
	}
	c.render(w, status, "roles", c.newPage(r, s, "Roles", "roles", d))
}

func roleInputOf(r *http.Request) (access.RoleInput, roleForm) {
	name := r.PostForm.Get("name")
	perms := r.PostForm["permissions"]
	stores := []string{}
	for _, v := range strings.Split(r.PostForm.Get("store_ids"), ",") {
		if v = strings.TrimSpace(v); v != "" {
			stores = append(stores, v)
		}
	}
	f := roleForm{Name: name, Perms: map[domain.Permission]bool{}, Stores: r.PostForm.Get("store_ids")}
	for _, p := range perms {
		f.Perms[domain.Permission(p)] = true
	}
	if perms == nil {
		perms = []string{}
	}
	return access.RoleInput{Name: &name, Permissions: &perms, StoreIDs: &stores}, f
}

func (c *Console) roleCreate(w http.ResponseWriter, r *http.Request, s *session) {
	in, f := roleInputOf(r)
	_, err := c.acc.CreateRole(r.Context(), s.principal(), in)
	if fe := fieldError(err); fe != nil {
		c.renderRoles(w, r, s, http.StatusUnprocessableEntity, rolesData{New: f, Errors: fe})
		return
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/roles?msg=rolesaved", http.StatusSeeOther)
}

func (c *Console) roleUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	in, _ := roleInputOf(r)
	if _, err := c.acc.UpdateRole(r.Context(), s.principal(), r.PathValue("id"), in); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/roles?msg=rolesaved", http.StatusSeeOther)
}

func (c *Console) roleDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.acc.DeleteRole(r.Context(), s.principal(), r.PathValue("id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/roles?msg=roledeleted", http.StatusSeeOther)
}

// setPasswordData is the body of the invitation and password-reset pages.
type setPasswordData struct {
	Token, Email, Kind string
	Error              string
}

// linkPage shows the form of a one-time link (invitation or reset); no session needed.
func (c *Console) linkPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	u, kind, err := c.acc.CheckLink(r.Context(), token)
	if err != nil {
		c.linkFailed(w, r, err)
		return
	}
	p := c.newPage(r, nil, "Set your password", "", setPasswordData{Token: token, Email: u.Email, Kind: kind})
	p.CSRF = auth.CSRFToken(token, c.d.CSRFKey)
	c.render(w, http.StatusOK, "set_password", p)
}

func (c *Console) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	var de *domain.Error
	if errors.As(err, &de) && (de.Code == domain.CodeNotFound || de.Code == domain.CodeConflict) {
		c.errorPage(w, r, nil, http.StatusNotFound, "Link not valid", de.Message)
		return
	}
	c.serverError(w, r, nil, err)
}

func (c *Console) linkSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	token := r.PathValue("token")
	u, kind, err := c.acc.CheckLink(r.Context(), token)
	if err != nil {
		c.linkFailed(w, r, err)
		return
	}
	// The token itself is the secret of this form; the CSRF token binds the form to it.
	if !auth.CheckCSRF(token, r.PostForm.Get("csrf"), c.d.CSRFKey) {
		c.errorPage(w, r, nil, http.StatusForbidden, "Forbidden", "This form did not carry a valid security token. Open the link again.")
		return
	}
	pw := r.PostForm.Get("password")
	d := setPasswordData{Token: token, Email: u.Email, Kind: kind}
	if pw != r.PostForm.Get("confirm") {
		d.Error = "The two passwords differ."
	} else if _, err := c.acc.UseLink(r.Context(), token, pw); err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
			c.linkFailed(w, r, err)
			return
		}
		d.Error = de.Message
	}
	if d.Error != "" {
		p := c.newPage(r, nil, "Set your password", "", d)
		p.CSRF = auth.CSRFToken(token, c.d.CSRFKey)
		c.render(w, http.StatusUnprocessableEntity, "set_password", p)
		return
	}
	http.Redirect(w, r, "/login?msg=passwordset", http.StatusSeeOther)
}

// forgotPage asks for an email address to send a reset link to.
func (c *Console) forgotPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "forgot", c.newPage(r, nil, "Forgot password", "", map[string]any{"EmailOn": c.d.Outbox.EmailConfigured()}))
}

func (c *Console) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.errorPage(w, r, nil, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	// A throttled address gets the same answer; the attempt counts like a login's.
	if wait, err := c.logins.claim(r.Context(), r, strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))); err == nil && wait == 0 {
		if err := c.acc.RequestReset(r.Context(), r.PostForm.Get("email")); err != nil {
			var de *domain.Error
			if !errors.As(err, &de) {
				c.serverError(w, r, nil, err)
				return
			}
		}
	}
	c.render(w, http.StatusOK, "forgot", c.newPage(r, nil, "Forgot password", "", map[string]any{"EmailOn": c.d.Outbox.EmailConfigured(), "Sent": true}))
}

// passwordPage changes the user's own password.
func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, http.StatusOK, "password", c.newPage(r, s, "Change password", "password", map[string]string{}))
}

func (c *Console) passwordSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	next := r.PostForm.Get("new_password")
	errs := map[string]string{}
	if next != r.PostForm.Get("confirm") {
		errs["confirm"] = "The two new passwords differ."
	} else if err := c.acc.ChangePassword(r.Context(), s.user, r.PostForm.Get("current_password"), next, auth.HashToken(s.token)); err != nil {
		fe := fieldError(err)
		if fe == nil {
			c.fail(w, r, s, err)
			return
		}
		errs = fe
	}
	if len(errs) > 0 {
		c.render(w, http.StatusUnprocessableEntity, "password", c.newPage(r, s, "Change password", "password", errs))
		return
	}
	http.Redirect(w, r, "/account/password?msg=passwordchanged", http.StatusSeeOther)
}
