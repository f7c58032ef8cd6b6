package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/lifecycle"
	"github.com/posbridge/posbridge/internal/store"
)

// listData is the body of Settings -> POS Integrations.
type listData struct {
	ShowInactive  bool
	Rows          []integrationView
	ActiveCount   int
	InactiveCount int
}

// integrations lists the active integrations, or with ?state=inactive the inactive ones.
func (c *Console) integrations(w http.ResponseWriter, r *http.Request, s *session) {
	all, err := c.d.Lifecycle.List(r.Context(), s.account.ID, "")
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("list integrations: %w", err))
		return
	}
	d := listData{ShowInactive: r.URL.Query().Get("state") == "inactive"}
	settling := false
	for _, i := range all {
		if i.Status.Active() {
			d.ActiveCount++
		} else {
			d.InactiveCount++
		}
		if i.Status.Active() != d.ShowInactive {
			d.Rows = append(d.Rows, c.view(i))
			if i.Status == domain.StatusInitializing {
				settling = true
			}
		}
	}
	title := "POS Integrations"
	if d.ShowInactive {
		title = "Inactive integrations"
	}
	p := c.newPage(r, s, title, "integrations", d)
	if settling {
		p.Refresh = 3 // until every new integration has its first outcome
	}
	c.render(w, http.StatusOK, "integrations", p)
}

// addData is the body of "Add POS Integration".
type addData struct {
	Providers    []providerOption
	P            *providerView
	Nickname     string
	ShowNickname bool
	OnConflict   string // "new" once the merchant chose "Create new"
	Choice       bool   // ask "Restore inactive / Create new" (an inactive integration has these credentials)
	ActiveSame   []integrationView
	InactiveSame []integrationView
	CalledOff    bool // an active one of the type is called off (seed: Cancel and contact support)
	Errors       map[string]string
}

type providerOption struct {
	Type     string
	Name     string
	Selected bool
}

type providerView struct {
	Type     string
	Name     string
	SetupURL string
	Fields   []fieldView
	// SandboxStore: posbridge serves a sandbox store of this real provider, so the merchant can
	// try it without an account of the provider.
	SandboxStore bool
}

type fieldView struct {
	Name      string // form field name: "credentials.<name>"
	Label     string
	Help      string
	Value     string // non-secret fields only
	Error     string
	InputType string
	Required  bool
}

// credentialFields lists a provider's fields for a form; secrets are never filled in.
func credentialFields(p connector.Provider, values url.Values, errs map[string]string) []fieldView {
	out := make([]fieldView, 0, len(p.Fields))
	for _, f := range p.Fields {
		name := "credentials." + f.Name
		fv := fieldView{Name: name, Label: f.Label, Help: f.Help, Error: errs[name], InputType: "text", Required: f.Required}
		if f.Secret {
			fv.InputType = "password"
		} else if values != nil {
			fv.Value = strings.TrimSpace(values.Get(name))
		}
		out = append(out, fv)
	}
	return out
}

// formCredentials reads a provider's fields from a form, leaving out empty ones.
func formCredentials(p connector.Provider, form url.Values) map[string]string {
	out := map[string]string{}
	for _, f := range p.Fields {
		if v := strings.TrimSpace(form.Get("credentials." + f.Name)); v != "" {
			out[f.Name] = v
		}
	}
	return out
}

// buildAdd prepares the add page for a POS type ("" when none is chosen yet).
func (c *Console) buildAdd(ctx context.Context, s *session, typ string, createNew bool, form url.Values, errs map[string]string) (addData, error) {
	d := addData{Errors: errs}
	if d.Errors == nil {
		d.Errors = map[string]string{}
	}
	p, ok := c.d.Lifecycle.Provider(typ)
	for _, pr := range c.d.Lifecycle.Providers() {
		d.Providers = append(d.Providers, providerOption{Type: pr.Type, Name: pr.DisplayName, Selected: ok && pr.Type == p.Type})
	}
	if !ok {
		return d, nil
	}
	d.P = &providerView{Type: p.Type, Name: p.DisplayName, SetupURL: p.SetupURL, Fields: credentialFields(p, form, d.Errors),
		SandboxStore: !p.SelfHosted && c.d.Lifecycle.HasSandbox(p.Type)}
	all, err := c.d.Lifecycle.List(ctx, s.account.ID, "")
	if err != nil {
		return d, fmt.Errorf("list integrations of type %s: %w", typ, err)
	}
	for _, i := range all {
		if i.Type != p.Type {
			continue
		}
		if i.Status.Active() {
			d.ActiveSame = append(d.ActiveSame, c.view(i))
			d.CalledOff = d.CalledOff || i.Status == domain.StatusCalledOff
		} else {
			d.InactiveSame = append(d.InactiveSame, c.view(i))
		}
	}
	if createNew {
		d.OnConflict = "new"
	}
	d.Choice = len(d.InactiveSame) > 0 && !createNew
	d.ShowNickname = len(d.ActiveSame) > 0 || d.Errors["nickname"] != ""
	if form != nil {
		d.Nickname = strings.TrimSpace(form.Get("nickname"))
		d.ShowNickname = d.ShowNickname || d.Nickname != ""
	}
	return d, nil
}

// addPage shows "Add POS Integration"; ?type= picks the POS type, &create=new answers the choice.
func (c *Console) addPage(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.isAdmin() {
		c.errorPage(w, r, s, http.StatusForbidden, "Forbidden", "Only an admin of your account may add POS integrations. Staff may view them.")
		return
	}
	q := r.URL.Query()
	d, err := c.buildAdd(r.Context(), s, q.Get("type"), q.Get("create") == "new", nil, nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if q.Get("type") != "" && d.P == nil {
		d.Errors["type"] = "Choose a POS type from the list."
	}
	c.render(w, http.StatusOK, "add", c.newPage(r, s, "Add POS Integration", "integrations", d))
}

// addSubmit adds the integration, or shows what the merchant must decide or correct.
func (c *Console) addSubmit(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	typ := strings.TrimSpace(f.Get("type"))
	createNew := f.Get("on_conflict") == "new"
	p, ok := c.d.Lifecycle.Provider(typ)
	if !ok {
		d, err := c.buildAdd(r.Context(), s, "", false, f, map[string]string{"type": "Choose a POS type from the list."})
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		c.render(w, http.StatusUnprocessableEntity, "add", c.newPage(r, s, "Add POS Integration", "integrations", d))
		return
	}
	in := lifecycle.AddInput{Type: p.Type, Nickname: f.Get("nickname"), Credentials: formCredentials(p, f)}
	if f.Get("sandbox") == "yes" {
		in.Sandbox, in.Credentials = true, nil
	}
	if createNew {
		in.OnConflict = "new"
	}
	i, err := c.d.Lifecycle.Add(r.Context(), s.account.ID, s.actor(), in)
	if err == nil {
		http.Redirect(w, r, "/integrations/"+url.PathEscape(i.ID)+"?msg=added", http.StatusSeeOther)
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Code == domain.CodeInternal {
		c.serverError(w, r, s, fmt.Errorf("add %s integration: %w", p.Type, err))
		return
	}
	errs := map[string]string{}
	msg := ""
	status := http.StatusUnprocessableEntity
	switch {
	case de.Code == domain.CodeInactiveExists:
		status = http.StatusConflict
	case de.Field != "" && de.Field != "on_conflict" && de.Field != "restore_id":
		errs[de.Field] = de.Message
	default:
		msg = de.Message
		status = http.StatusConflict
	}
	d, berr := c.buildAdd(r.Context(), s, p.Type, createNew && de.Code != domain.CodeInactiveExists, f, errs)
	if berr != nil {
		c.fail(w, r, s, berr)
		return
	}
	if de.Code == domain.CodeInactiveExists {
		d.Choice = true
	}
	pg := c.newPage(r, s, "Add POS Integration", "integrations", d)
	pg.Error = msg
	c.render(w, status, "add", pg)
}

// editData is the body of an integration's Edit page.
type editData struct {
	I         integrationView
	Nickname  string
	Stores    []storeOption
	StoreName string
	Fields    []fieldView
	SetupURL  string
	Timeline  []timelineView
	Retention string // how long the timeline is kept
	Errors    map[string]string
	SyncOn    bool              // order sync is available: the "View Webhook" button shows
	Webhooks  *webhooksData     // the "View Webhook" modal, open over the page
	Circuit   *circuitView      // the circuit breaker when it is not closed
	Sales     *salesView        // sales import: chart, recent sales, frequency, Refresh
	Sandbox   *sandboxStoreView // a sandbox store: where it is and (admins) its credentials
}

// circuitView is an open (or half-open) circuit breaker on the edit page.
type circuitView struct {
	State       string // "open" or "half_open"
	Message     string // the sentence for the merchant
	NextAttempt string
	Reason      string
	Failures    int
	OpenedAt    string
}

// circuitTimeFormat shows the next attempt to the second: the first one is 30 s away.
const circuitTimeFormat = "2 Jan 2006 15:04:05 UTC"

func newCircuitView(c domain.Circuit) *circuitView {
	if c.State == domain.CircuitClosed || c.State == "" {
		return nil
	}
	v := &circuitView{State: string(c.State), Message: c.Message, Reason: c.Reason, Failures: c.ConsecutiveFailures,
		NextAttempt: "now", OpenedAt: formatTimePtr(c.OpenedAt)}
	if c.NextAttemptAt != nil {
		v.NextAttempt = c.NextAttemptAt.UTC().Format(circuitTimeFormat)
	}
	return v
}

type storeOption struct {
	ID       string
	Name     string
	Selected bool
}

// editPage shows one integration: settings, actions and its own timeline.
func (c *Console) editPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showEdit(w, r, s, http.StatusOK, "", nil, nil)
}

// showEdit renders the edit page, with an error message and field errors after a failed action;
// form keeps the merchant's non-secret input.
func (c *Console) showEdit(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, errs map[string]string, form url.Values) {
	d, err := c.buildEdit(r.Context(), s, r.PathValue("id"), errs, form)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	pg := c.newPage(r, s, "Edit "+d.I.Label, "integrations", d)
	pg.Error = msg
	c.render(w, status, "edit", pg)
}

// buildEdit prepares the edit page of integration id.
func (c *Console) buildEdit(ctx context.Context, s *session, id string, errs map[string]string, form url.Values) (editData, error) {
	i, err := c.d.Lifecycle.Get(ctx, s.account.ID, id)
	if err != nil {
		return editData{}, err
	}
	if errs == nil {
		errs = map[string]string{}
	}
	d := editData{I: c.view(i), Nickname: i.Nickname, Errors: errs, SyncOn: c.d.Sync != nil}
	circ, err := c.d.Store.GetCircuit(ctx, s.account.ID, i.ID)
	if err != nil {
		return d, err
	}
	d.Circuit = newCircuitView(circ)
	if form != nil && form.Has("nickname") {
		d.Nickname = strings.TrimSpace(form.Get("nickname"))
	}
	selected := i.StoreID
	if form != nil && form.Has("store_id") {
		selected = form.Get("store_id")
	}
	stores, err := c.d.Lifecycle.Stores(ctx, s.account.ID, i.ID)
	if err != nil {
		return d, fmt.Errorf("list stores of %s: %w", i.ID, err)
	}
	for _, st := range stores {
		d.Stores = append(d.Stores, storeOption{ID: st.ID, Name: st.Name, Selected: st.ID == selected})
		if st.ID == i.StoreID {
			d.StoreName = st.Name
		}
	}
	if p, ok := c.d.Lifecycle.Provider(i.Type); ok {
		d.Fields = credentialFields(p, form, errs)
		d.SetupURL = p.SetupURL
	}
	entries, err := c.d.Lifecycle.Timeline(ctx, s.account.ID, store.TimelineFilter{IntegrationID: i.ID, Limit: 20})
	if err != nil {
		return d, fmt.Errorf("timeline of %s: %w", i.ID, err)
	}
	labels, err := c.integrationLabels(ctx, s.account.ID)
	if err != nil {
		return d, fmt.Errorf("list integrations: %w", err)
	}
	d.Timeline = c.timelineViews(entries, labels)
	d.Retention = c.d.Retention.Notice(store.TimelineTable)
	if d.Sales, err = c.buildSales(ctx, s, i, form, errs); err != nil {
		return d, fmt.Errorf("sales of %s: %w", i.ID, err)
	}
	if d.Sandbox, err = c.buildSandboxStore(ctx, s, i); err != nil {
		return d, fmt.Errorf("sandbox store of %s: %w", i.ID, err)
	}
	return d, nil
}

// actionFailed shows an action's coded error on the edit page (beside its field when it has one).
func (c *Console) actionFailed(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	var de *domain.Error
	if !errors.As(err, &de) || de.Code == domain.CodeInternal {
		c.serverError(w, r, s, fmt.Errorf("%s %s: %w", what, r.PathValue("id"), err))
		return
	}
	if de.Code == domain.CodeNotFound {
		c.notFound(w, r, s)
		return
	}
	if de.Field != "" {
		msg := de.Message
		if what == "restore" && de.Field == "nickname" {
			msg += ". Set a nickname below and save it, then restore."
		}
		c.showEdit(w, r, s, http.StatusUnprocessableEntity, "", map[string]string{de.Field: msg}, r.PostForm)
		return
	}
	c.showEdit(w, r, s, http.StatusConflict, de.Message, nil, r.PostForm)
}

func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, s *session) {
	nick := r.PostForm.Get("nickname")
	in := lifecycle.UpdateInput{Nickname: &nick}
	if r.PostForm.Has("store_id") {
		sid := r.PostForm.Get("store_id")
		in.StoreID = &sid
	}
	if _, err := c.d.Lifecycle.Update(r.Context(), s.account.ID, s.actor(), r.PathValue("id"), in); err != nil {
		c.actionFailed(w, r, s, "save settings of", err)
		return
	}
	c.redirectEdit(w, r, "saved")
}

func (c *Console) saveCredentials(w http.ResponseWriter, r *http.Request, s *session) {
	i, err := c.d.Lifecycle.Get(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	p, ok := c.d.Lifecycle.Provider(i.Type)
	if !ok {
		c.errorPage(w, r, s, http.StatusConflict, "Not possible", "This POS type is not available in this build of posbridge.")
		return
	}
	creds := formCredentials(p, r.PostForm)
	if len(creds) == 0 {
		c.showEdit(w, r, s, http.StatusUnprocessableEntity, "Enter the new credentials to replace the stored ones.", nil, r.PostForm)
		return
	}
	if _, err := c.d.Lifecycle.Update(r.Context(), s.account.ID, s.actor(), i.ID, lifecycle.UpdateInput{Credentials: creds}); err != nil {
		c.actionFailed(w, r, s, "replace credentials of", err)
		return
	}
	c.redirectEdit(w, r, "credentials")
}

func (c *Console) checkNow(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Lifecycle.Check(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		c.actionFailed(w, r, s, "check", err)
		return
	}
	c.redirectEdit(w, r, "checked")
}

func (c *Console) restore(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Lifecycle.Restore(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		c.actionFailed(w, r, s, "restore", err)
		return
	}
	c.redirectEdit(w, r, "restored")
}

func (c *Console) resume(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Lifecycle.Resume(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		c.actionFailed(w, r, s, "resume", err)
		return
	}
	c.redirectEdit(w, r, "resumed")
}

func (c *Console) redirectEdit(w http.ResponseWriter, r *http.Request, msg string) {
	http.Redirect(w, r, "/integrations/"+url.PathEscape(r.PathValue("id"))+"?msg="+msg, http.StatusSeeOther)
}

// confirmData is the body of a confirmation page ("Click OK on the confirmation window").
type confirmData struct {
	I       integrationView
	Support bool   // the Support -> Disconnect POS variant, with its warning that all work stops
	Action  string // where OK posts
	Cancel  string
}

func (c *Console) deactivateConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	c.confirm(w, r, s, false)
}

func (c *Console) disconnectConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	c.confirm(w, r, s, true)
}

func (c *Console) confirm(w http.ResponseWriter, r *http.Request, s *session, support bool) {
	i, err := c.d.Lifecycle.Get(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v := c.view(i)
	d := confirmData{I: v, Support: support, Action: "/integrations/" + url.PathEscape(i.ID) + "/deactivate",
		Cancel: "/integrations/" + url.PathEscape(i.ID)}
	title, nav := "Deactivate "+v.Label, "integrations"
	if support {
		d.Action, d.Cancel = "/support/disconnect/"+url.PathEscape(i.ID), "/support"
		title, nav = "Disconnect POS: "+v.Label, "support"
	}
	pg := c.newPage(r, s, title, nav, d)
	if !i.Status.Active() {
		pg.Error = v.Label + " is already inactive."
	} else if !s.isAdmin() {
		pg.Error = "Only an admin of your account may do this."
	}
	c.render(w, http.StatusOK, "confirm", pg)
}

func (c *Console) deactivate(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Lifecycle.Deactivate(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		c.actionFailed(w, r, s, "deactivate", err)
		return
	}
	http.Redirect(w, r, "/integrations?msg=deactivated", http.StatusSeeOther)
}

func (c *Console) disconnect(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Lifecycle.Deactivate(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		var de *domain.Error
		if errors.As(err, &de) && de.Code != domain.CodeInternal && de.Code != domain.CodeNotFound {
			c.renderSupport(w, r, s, http.StatusConflict, de.Message)
			return
		}
		c.fail(w, r, s, fmt.Errorf("disconnect %s: %w", r.PathValue("id"), err))
		return
	}
	http.Redirect(w, r, "/support?msg=disconnected", http.StatusSeeOther)
}

// timelineData is the body of the Timeline tab.
type timelineData struct {
	Entries   []timelineView
	Older     string // link to the next page, "" at the end
	Newest    string // link back to the first page, "" on it
	Retention string // how long the timeline is kept
	// The filters: options and what is chosen.
	Integrations []filterOption
	Kinds        []filterOption
	Periods      []filterOption
	Filtered     bool
}

// filterOption is one choice of a filter's select.
type filterOption struct {
	Value, Label string
	Selected     bool
}

// timelinePeriods are the Timeline's period filter: value, words, length.
var timelinePeriods = []struct {
	Value, Label string
	D            time.Duration
}{{"", "Any time", 0}, {"1d", "Last 24 hours", 24 * time.Hour}, {"7d", "Last 7 days", 7 * 24 * time.Hour}, {"30d", "Last 30 days", 30 * 24 * time.Hour}}

const timelinePage = 50

func (c *Console) timeline(w http.ResponseWriter, r *http.Request, s *session) {
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "before must be a positive whole number.")
			return
		}
		before = n
	}
	labels, err := c.integrationLabels(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("list integrations: %w", err))
		return
	}
	q := r.URL.Query()
	f := store.TimelineFilter{Before: before, Limit: timelinePage}
	d := timelineData{Retention: c.d.Retention.Notice(store.TimelineTable)}
	keep := url.Values{} // the filters, kept by the paging links
	d.Integrations = append(d.Integrations, filterOption{Value: "", Label: "All integrations"})
	if id := q.Get("integration"); id != "" {
		if labels[id] == "" {
			c.notFound(w, r, s)
			return
		}
		f.IntegrationID = id
		keep.Set("integration", id)
	}
	for _, id := range sortedByLabel(labels) {
		d.Integrations = append(d.Integrations, filterOption{Value: id, Label: labels[id], Selected: id == f.IntegrationID})
	}
	d.Kinds = append(d.Kinds, filterOption{Value: "", Label: "All events"})
	kind := q.Get("kind")
	if kind != "" {
		if kindNames[kind] == "" {
			c.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "Choose a kind of event from the list.")
			return
		}
		f.Kinds = []string{kind}
		keep.Set("kind", kind)
	}
	for _, k := range sortedByLabel(kindNames) {
		d.Kinds = append(d.Kinds, filterOption{Value: k, Label: kindNames[k], Selected: k == kind})
	}
	period := q.Get("period")
	found := false
	for _, p := range timelinePeriods {
		d.Periods = append(d.Periods, filterOption{Value: p.Value, Label: p.Label, Selected: p.Value == period})
		if p.Value == period {
			found = true
			if p.D > 0 {
				f.Since = c.now().Add(-p.D)
				keep.Set("period", period)
			}
		}
	}
	if !found {
		c.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "Choose a period from the list.")
		return
	}
	d.Filtered = len(keep) > 0
	entries, err := c.d.Lifecycle.Timeline(r.Context(), s.account.ID, f)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("list timeline: %w", err))
		return
	}
	d.Entries = c.timelineViews(entries, labels)
	if len(entries) == timelinePage {
		older := url.Values{}
		for k, v := range keep {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.Older = "/timeline?" + older.Encode()
	}
	if before > 0 {
		d.Newest = "/timeline"
		if len(keep) > 0 {
			d.Newest += "?" + keep.Encode()
		}
	}
	c.render(w, http.StatusOK, "timeline", c.newPage(r, s, "Timeline", "timeline", d))
}

// supportData is the body of the Support section.
type supportData struct {
	Active []integrationView
}

func (c *Console) support(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderSupport(w, r, s, http.StatusOK, "")
}

func (c *Console) renderSupport(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	active, err := c.d.Lifecycle.List(r.Context(), s.account.ID, "active")
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("list active integrations: %w", err))
		return
	}
	pg := c.newPage(r, s, "Support", "support", supportData{Active: c.views(active)})
	pg.Error = msg
	c.render(w, status, "support", pg)
}

// docsData is the body of the Sandbox POS setup instructions.
type docsData struct {
	BaseURL string
}

// docsSandbox is the "POS Integration Setup Instructions" of the Sandbox POS; it needs no login.
func (c *Console) docsSandbox(w http.ResponseWriter, r *http.Request) {
	s, err := c.loadSession(r.Context(), r)
	if err != nil {
		c.log.Warn("console: read session for the docs page", "err", err)
		s = nil
	}
	scheme := "http"
	if r.TLS != nil || c.d.SecureCookies {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost:8080"
	}
	d := docsData{BaseURL: scheme + "://" + host}
	c.render(w, http.StatusOK, "docs_sandbox", c.newPage(r, s, "Sandbox POS: POS Integration Setup Instructions", "", d))
}

// sortedByLabel returns the keys of m ordered by their labels (then keys).
func sortedByLabel(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] < m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
