package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/ordersync"
	"github.com/posbridge/posbridge/internal/store"
)

// The order sync pages: the documents lists with the POS sync icon, the sync dialog,
// the "Automatic Sync" settings and the "View Webhook" modal of an integration.

// docListLimit is how many documents a list shows, most recently changed first.
const docListLimit = 200

// kindTab is one tab of the documents page.
type kindTab struct {
	Kind    string // "" for all kinds
	Label   string
	Current bool
}

// kindLabels name the document kinds, one and many.
var kindLabels = map[domain.DocKind][2]string{
	domain.KindJob:     {"Job", "Jobs"},
	domain.KindInvoice: {"Invoice", "Invoices"},
	domain.KindSale:    {"Sale", "Sales"},
	domain.KindBooking: {"Booking", "Bookings"},
}

var kindOrder = []domain.DocKind{domain.KindJob, domain.KindInvoice, domain.KindSale, domain.KindBooking}

// syncLabels are the sync dialog's words for each sync status.
var syncLabels = map[domain.SyncStatus]string{
	domain.SyncNotSent:  "Not yet sent",
	domain.SyncPending:  "Pending",
	domain.SyncSyncing:  "Syncing",
	domain.SyncSynced:   "Synced",
	domain.SyncFailed:   "Failed",
	domain.SyncRetrying: "Retrying",
}

// syncView is a document's sync status as the icon and the dialog show it.
type syncView struct {
	Status string // the API's word: not_sent, pending, syncing, synced, failed
	Label  string
	Class  string
	Title  string // the icon's tooltip
}

func syncViewOf(d domain.Document) syncView {
	st := d.Sync.Status
	if st == "" {
		st = domain.SyncNotSent
	}
	v := syncView{Status: string(st), Label: syncLabels[st], Class: "sync-" + strings.ReplaceAll(string(st), "_", "-")}
	if v.Label == "" {
		v.Label = string(st)
	}
	v.Title = "POS sync: " + v.Label
	if st == domain.SyncRetrying && d.Sync.NextAttemptAt != nil {
		v.Title += " (next attempt " + FormatTime(*d.Sync.NextAttemptAt) + ")"
	} else if st == domain.SyncFailed && d.Sync.LastError != "" {
		v.Title += " (" + domain.ExplainText(d.Sync.LastError) + ")"
	}
	if !d.Sync.AutoSync {
		v.Title += "; auto-sync off"
	}
	return v
}

// docRow is one document in a list.
type docRow struct {
	Kind      string
	KindLabel string
	Ref       string
	Status    string
	Customer  string
	Total     string
	Updated   string
	AutoSync  bool
	Sync      syncView
	Link      string // the sync dialog, keeping the tab
}

func docTotal(d domain.Document) string {
	if len(d.Lines) == 0 {
		return "—"
	}
	t, err := d.Total() // overflow-checked: never a wrapped total
	if err != nil {
		return "out of range"
	}
	sum, cur := t.Amount, t.Currency
	sign := ""
	if sum < 0 {
		sign, sum = "-", -sum
	}
	return fmt.Sprintf("%s %s%d.%02d", cur, sign, sum/100, sum%100)
}

func docLink(kind domain.DocKind, ref, tab string) string {
	u := "/documents/" + url.PathEscape(string(kind)) + "/" + url.PathEscape(ref)
	if tab != "" {
		u += "?tab=" + url.QueryEscape(tab)
	}
	return u
}

func (c *Console) docRow(d domain.Document, tab string) docRow {
	r := docRow{Kind: string(d.Kind), KindLabel: kindLabels[d.Kind][0], Ref: d.Ref, Status: d.Status, Total: docTotal(d),
		Updated: FormatTime(d.UpdatedAt), AutoSync: d.Sync.AutoSync, Sync: syncViewOf(d), Link: docLink(d.Kind, d.Ref, tab)}
	if d.Customer != nil {
		r.Customer = d.Customer.Name
		if r.Customer == "" {
			r.Customer = d.Customer.Email
		}
	}
	return r
}

// documentsData is the body of the documents page, with the sync dialog open over it when
// Dialog is set.
type documentsData struct {
	Tabs      []kindTab
	Tab       string
	TabLabel  string
	Rows      []docRow
	Truncated bool
	Settings  settingsSummary
	Dialog    *dialogData
}

// settingsSummary says on the documents page whether automatic sync is on and where to.
type settingsSummary struct {
	AutoSync    bool
	Integration string
	// Target is the integration "Turn on Automatic Sync" would choose (the first healthy one,
	// else the first active one); empty when there is none.
	Target      string
	TargetLabel string
}

// parseTab reads the kind tab of the documents page: a kind, or "" for all.
func parseTab(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	k, err := domain.ParseDocKind(v)
	if err != nil {
		return "", false
	}
	return string(k), true
}

// buildDocuments lists the documents of the tab.
func (c *Console) buildDocuments(ctx context.Context, s *session, tab string) (documentsData, error) {
	d := documentsData{Tab: tab, TabLabel: "Documents"}
	d.Tabs = append(d.Tabs, kindTab{Kind: "", Label: "All", Current: tab == ""})
	for _, k := range kindOrder {
		d.Tabs = append(d.Tabs, kindTab{Kind: string(k), Label: kindLabels[k][1], Current: tab == string(k)})
		if tab == string(k) {
			d.TabLabel = kindLabels[k][1]
		}
	}
	docs, err := c.d.Sync.List(ctx, s.account.ID, domain.DocKind(tab), docListLimit+1)
	if err != nil {
		return d, fmt.Errorf("list documents: %w", err)
	}
	if len(docs) > docListLimit {
		docs, d.Truncated = docs[:docListLimit], true
	}
	for _, doc := range docs {
		d.Rows = append(d.Rows, c.docRow(doc, tab))
	}
	set, err := c.d.Sync.Settings(ctx, s.account.ID)
	if err != nil {
		return d, fmt.Errorf("read order sync settings: %w", err)
	}
	d.Settings.AutoSync = set.AutoSync
	if set.IntegrationID != "" {
		d.Settings.Integration = c.integrationLabel(ctx, s, set.IntegrationID)
	}
	if !set.AutoSync {
		if t, ok, err := c.quickStartTarget(ctx, s.account.ID); err != nil {
			return d, err
		} else if ok {
			d.Settings.Target, d.Settings.TargetLabel = t.ID, t.Label(c.d.Lifecycle.DisplayName(t.Type))
		}
	}
	return d, nil
}

// quickStartTarget is the integration the documents page's "Turn on Automatic Sync" sends
// documents to: the first healthy active integration, else the first active one.
func (c *Console) quickStartTarget(ctx context.Context, accountID string) (domain.Integration, bool, error) {
	active, err := c.d.Lifecycle.List(ctx, accountID, "active")
	if err != nil {
		return domain.Integration{}, false, fmt.Errorf("list active integrations: %w", err)
	}
	for _, i := range active {
		if i.Status == domain.StatusHealthy {
			return i, true, nil
		}
	}
	if len(active) > 0 {
		return active[0], true, nil
	}
	return domain.Integration{}, false, nil
}

// quickStart turns Automatic Sync on with the documents page's suggested integration: the first
// step of a new account, in one click.
func (c *Console) quickStart(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	t, ok, err := c.quickStartTarget(ctx, s.account.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if !ok {
		http.Redirect(w, r, "/integrations/new", http.StatusSeeOther)
		return
	}
	set, err := c.d.Sync.Settings(ctx, s.account.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	set.AutoSync, set.IntegrationID = true, t.ID
	if !set.SyncOnJobCreated && !set.SyncOnInvoiceCreated && !set.SyncOnSaleCompleted && !set.SyncOnItemsChanged {
		set.SyncOnJobCreated, set.SyncOnInvoiceCreated, set.SyncOnSaleCompleted, set.SyncOnItemsChanged = true, true, true, true
	}
	if _, err := c.d.Sync.SaveSettings(ctx, s.account.ID, s.actor(), set); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/documents?msg=quickstart", http.StatusSeeOther)
}

// sampleInvoice puts a sample invoice, as the app would, so a new account sees a sync happen.
func (c *Console) sampleInvoice(w http.ResponseWriter, r *http.Request, s *session) {
	ref := "SAMPLE-" + c.now().UTC().Format("150405")
	_, err := c.d.Sync.Put(r.Context(), s.account.ID, domain.KindInvoice, ref, ordersync.PutInput{DocContent: domain.DocContent{
		Status: "issued", Customer: &domain.DocCustomer{Name: "Sample customer"},
		Lines: []domain.DocLine{{Description: "Sample service", Quantity: "1", UnitPrice: domain.Money{Amount: 4500, Currency: "EUR"}}}}})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, docLink(domain.KindInvoice, ref, "invoice")+"&msg=sample", http.StatusSeeOther)
}

// integrationLabel names an integration of the account, or says it is gone.
func (c *Console) integrationLabel(ctx context.Context, s *session, id string) string {
	i, err := c.d.Lifecycle.Get(ctx, s.account.ID, id)
	if err != nil {
		return "an integration that no longer exists"
	}
	return i.Label(c.d.Lifecycle.DisplayName(i.Type))
}

// pendingRows tells whether a list still waits for the POS (the page then refreshes itself).
func pendingRows(rows []docRow) bool {
	for _, r := range rows {
		if r.Sync.Status == string(domain.SyncPending) || r.Sync.Status == string(domain.SyncSyncing) {
			return true
		}
	}
	return false
}

// documents lists jobs, invoices, sales and bookings with their POS sync icon; ?kind= picks a tab.
func (c *Console) documents(w http.ResponseWriter, r *http.Request, s *session) {
	tab, ok := parseTab(r.URL.Query().Get("kind"))
	if !ok {
		c.errorPage(w, r, s, http.StatusBadRequest, "Bad request", "kind must be job, invoice, sale or booking.")
		return
	}
	d, err := c.buildDocuments(r.Context(), s, tab)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	p := c.newPage(r, s, d.TabLabel, "documents", d)
	if pendingRows(d.Rows) {
		p.Refresh = 3
	}
	c.render(w, http.StatusOK, "documents", p)
}

// dialogData is the sync dialog of one document: its sync status, external reference, toggle,
// history and manual actions in one place.
type dialogData struct {
	Kind            string
	KindLabel       string
	Ref             string
	Status          string
	Total           string
	Sync            syncView
	Integration     string // the POS the order is in (or goes to)
	POSName         string // its type's name, for "View the order in ..."
	ExternalID      string
	ExternalURL     string
	AutoSync        bool
	LastSynced      string
	LastError       string
	LastErrorDetail string
	SandboxActions  bool   // the order is in a Sandbox POS or a sandbox store: Complete and Void buttons
	SandboxName     string // "Sandbox POS", "WooCommerce sandbox"
	NextAttempt     string // while retrying: "2 Dec 2026 10:04 UTC (attempt 3 of 8)"
	CanRetry        bool
	HasOrder        bool
	Action          string // where the dialog's forms post: /documents/{kind}/{ref}
	Tab             string
	Close           string
	History         []historyView
	Retention       string // how long sync history is kept
}

// historyView is one sync history event.
type historyView struct {
	At        string
	Action    string
	Outcome   string
	Class     string
	Summary   string
	ErrorText string // Error for a merchant
	Error     string
}

// historyActions are the dialog's words for the history's actions.
var historyActions = map[string]string{
	"create":           "Created",
	"update":           "Updated",
	"cancel":           "Cancelled",
	"push":             "Sync",
	"auto_sync":        "Auto-sync",
	"resync":           "Re-sync",
	"new":              "Send as new",
	"new_void":         "Send as new (void)",
	"send_as_new":      "Sent as new",
	"retry":            "Retry",
	"completed_in_pos": "Completed in POS",
}

func historyViews(h []store.HistoryEntry) []historyView {
	out := make([]historyView, 0, len(h))
	for _, e := range h {
		a := historyActions[e.Action]
		if a == "" {
			a = e.Action
		}
		hv := historyView{At: FormatTime(e.At), Action: a, Outcome: e.Outcome, Class: "outcome-" + e.Outcome,
			Summary: domain.ExplainText(e.Summary), Error: e.Error}
		if e.Error != "" {
			hv.ErrorText = domain.ExplainText(e.Error)
			if hv.ErrorText == hv.Summary || strings.Contains(hv.Summary, hv.ErrorText) {
				hv.ErrorText = ""
			}
		}
		out = append(out, hv)
	}
	return out
}

// docPath reads {kind} and {ref} of a document route.
func docPath(r *http.Request) (domain.DocKind, string, error) {
	k, err := domain.ParseDocKind(r.PathValue("kind"))
	if err != nil {
		return "", "", domain.NotFound("document kind")
	}
	ref := r.PathValue("ref")
	if domain.ValidateRef(ref) != nil {
		return "", "", domain.NotFound("document")
	}
	return k, ref, nil
}

// buildDialog prepares the documents page of the tab with the sync dialog of one document open.
func (c *Console) buildDialog(ctx context.Context, s *session, kind domain.DocKind, ref, tab string) (documentsData, error) {
	doc, err := c.d.Sync.Get(ctx, s.account.ID, kind, ref)
	if err != nil {
		return documentsData{}, err
	}
	d, err := c.buildDocuments(ctx, s, tab)
	if err != nil {
		return d, err
	}
	row := c.docRow(doc, tab)
	dl := &dialogData{Kind: row.Kind, KindLabel: row.KindLabel, Ref: doc.Ref, Status: doc.Status, Total: row.Total, Sync: row.Sync,
		ExternalID: doc.Sync.ExternalID, ExternalURL: doc.Sync.ExternalURL, AutoSync: doc.Sync.AutoSync,
		LastSynced: formatTimePtr(doc.Sync.LastSyncedAt),
		CanRetry:   doc.Sync.Status == domain.SyncFailed || doc.Sync.Status == domain.SyncRetrying, HasOrder: doc.Sync.ExternalID != "",
		Action: "/documents/" + url.PathEscape(string(kind)) + "/" + url.PathEscape(ref), Tab: tab, Close: "/documents"}
	if tab != "" {
		dl.Close += "?kind=" + url.QueryEscape(tab)
	}
	if doc.Sync.Status == domain.SyncRetrying && doc.Sync.NextAttemptAt != nil {
		dl.NextAttempt = fmt.Sprintf("%s (attempt %d of %d)", doc.Sync.NextAttemptAt.UTC().Format("2 Jan 2006 15:04:05 UTC"), doc.Sync.Attempt, doc.Sync.MaxAttempts)
	}
	if e := domain.Explain(doc.Sync.LastError); e.Text != "" {
		dl.LastError, dl.LastErrorDetail = e.Text, e.Detail
	}
	if doc.Sync.IntegrationID != "" {
		if i, err := c.d.Lifecycle.Get(ctx, s.account.ID, doc.Sync.IntegrationID); err == nil {
			dl.POSName = c.d.Lifecycle.DisplayName(i.Type)
			if p, ok := c.d.Lifecycle.Provider(i.Type); ok && p.SelfHosted && c.d.SandboxOrder != nil && doc.Sync.ExternalID != "" {
				dl.SandboxActions, dl.SandboxName = true, p.DisplayName
			} else if ok && doc.Sync.ExternalID != "" {
				// A sandbox store's own order link points into its simulator's API; the
				// console's page of the order is where a person looks at it.
				if _, sbx, err := c.d.Lifecycle.SandboxStore(ctx, i); err != nil {
					return d, fmt.Errorf("sandbox store of %s: %w", i.ID, err)
				} else if sbx {
					dl.ExternalURL = sandboxOrderURL(i.ID, doc.Sync.ExternalID)
					dl.SandboxActions = c.d.SandboxOrder != nil
					dl.SandboxName = p.DisplayName + " sandbox"
				}
			}
			dl.Integration = i.Label(dl.POSName)
		} else if domain.IsCode(err, domain.CodeNotFound) {
			dl.Integration = "an integration that no longer exists"
		} else {
			return d, fmt.Errorf("read integration %s: %w", doc.Sync.IntegrationID, err)
		}
	}
	if dl.POSName == "" {
		dl.POSName = "the POS"
	}
	h, err := c.d.Sync.History(ctx, s.account.ID, kind, ref)
	if err != nil {
		return d, fmt.Errorf("sync history of %s %s: %w", kind, ref, err)
	}
	dl.History = historyViews(h)
	dl.Retention = c.d.Retention.Notice(store.SyncHistoryTable)
	d.Dialog = dl
	return d, nil
}

// syncDialog shows the sync dialog of one document over its list.
func (c *Console) syncDialog(w http.ResponseWriter, r *http.Request, s *session) {
	c.showDialog(w, r, s, http.StatusOK, "")
}

func (c *Console) showDialog(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	kind, ref, err := docPath(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	tab := r.URL.Query().Get("tab")
	if r.Method == http.MethodPost {
		tab = r.PostForm.Get("tab")
	}
	tab, ok := parseTab(tab)
	if !ok {
		tab = ""
	}
	d, err := c.buildDialog(r.Context(), s, kind, ref, tab)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	p := c.newPage(r, s, d.Dialog.KindLabel+" "+ref+": POS sync", "documents", d)
	p.Error = msg
	if msg == "" && (d.Dialog.Sync.Status == string(domain.SyncPending) || d.Dialog.Sync.Status == string(domain.SyncSyncing)) {
		p.Refresh = 2
	}
	c.render(w, status, "documents", p)
}

// dialogAction runs one of the dialog's actions and shows the dialog again with its outcome.
func (c *Console) dialogAction(w http.ResponseWriter, r *http.Request, s *session, what, flash string, run func(ctx context.Context, kind domain.DocKind, ref string) error) {
	kind, ref, err := docPath(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if err := run(r.Context(), kind, ref); err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code == domain.CodeInternal {
			c.serverError(w, r, s, fmt.Errorf("%s of %s %s: %w", what, kind, ref, err))
			return
		}
		if de.Code == domain.CodeNotFound {
			c.notFound(w, r, s)
			return
		}
		status := http.StatusConflict
		if de.Code == domain.CodeInvalid {
			status = http.StatusUnprocessableEntity
		}
		c.showDialog(w, r, s, status, de.Message)
		return
	}
	target := docLink(kind, ref, "")
	sep := "?"
	if tab, ok := parseTab(r.PostForm.Get("tab")); ok && tab != "" {
		target += "?tab=" + url.QueryEscape(tab)
		sep = "&"
	}
	http.Redirect(w, r, target+sep+"msg="+flash, http.StatusSeeOther)
}

// setAutoSync is the per-document auto-sync toggle: auto_sync=on turns it on, anything else off.
func (c *Console) setAutoSync(w http.ResponseWriter, r *http.Request, s *session) {
	on := r.PostForm.Get("auto_sync") == "on"
	flash := "autosync_off"
	if on {
		flash = "autosync_on"
	}
	c.dialogAction(w, r, s, "set auto-sync", flash, func(ctx context.Context, kind domain.DocKind, ref string) error {
		_, err := c.d.Sync.SetAutoSync(ctx, s.account.ID, kind, ref, on)
		return err
	})
}

func (c *Console) resync(w http.ResponseWriter, r *http.Request, s *session) {
	c.dialogAction(w, r, s, "re-sync", "resync", func(ctx context.Context, kind domain.DocKind, ref string) error {
		_, err := c.d.Sync.Act(ctx, s.account.ID, kind, ref, ordersync.ActionResync)
		return err
	})
}

func (c *Console) retry(w http.ResponseWriter, r *http.Request, s *session) {
	c.dialogAction(w, r, s, "retry", "retry", func(ctx context.Context, kind domain.DocKind, ref string) error {
		_, err := c.d.Sync.Act(ctx, s.account.ID, kind, ref, ordersync.ActionRetry)
		return err
	})
}

// sandboxOrder completes or voids the document's order in the Sandbox POS, as a cashier would.
func (c *Console) sandboxOrder(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PathValue("action")
	c.dialogAction(w, r, s, "sandbox "+action, "sandbox_"+action, func(ctx context.Context, kind domain.DocKind, ref string) error {
		if c.d.SandboxOrder == nil || (action != "complete" && action != "void") {
			return domain.NotFound("sandbox action")
		}
		doc, err := c.d.Sync.Get(ctx, s.account.ID, kind, ref)
		if err != nil {
			return err
		}
		if doc.Sync.ExternalID == "" || doc.Sync.IntegrationID == "" {
			return domain.Errorf(domain.CodeConflict, "This %s has no order in the POS yet.", kind)
		}
		return c.d.SandboxOrder(ctx, s.account.ID, doc.Sync.IntegrationID, doc.Sync.ExternalID, action)
	})
}

// sendAsNew is "Send as new order"; void_existing (yes or no) answers whether the existing
// order is voided first.
func (c *Console) sendAsNew(w http.ResponseWriter, r *http.Request, s *session) {
	action, flash := "", ""
	switch r.PostForm.Get("void_existing") {
	case "yes":
		action, flash = ordersync.ActionNewVoid, "sendnew_void"
	case "no":
		action, flash = ordersync.ActionNew, "sendnew"
	}
	c.dialogAction(w, r, s, "send as new", flash, func(ctx context.Context, kind domain.DocKind, ref string) error {
		if action == "" {
			return domain.Invalid("void_existing", "Answer whether the existing order should be voided first.")
		}
		_, err := c.d.Sync.Act(ctx, s.account.ID, kind, ref, action)
		return err
	})
}

// orderSyncData is the body of the "Automatic Sync" settings page.
type orderSyncData struct {
	S            domain.OrderSyncSettings
	Integrations []integrationOption
	POSName      string // the chosen integration's POS, for "Enable automatic sync to ..."
	BookingOn    bool
	BookingWhen  string
	Errors       map[string]string
	Cancels      []choice
}

// integrationOption is an integration orders may go to.
type integrationOption struct {
	ID       string
	Label    string
	Status   string
	Selected bool
}

// choice is an option of a select.
type choice struct {
	Value    string
	Label    string
	Selected bool
}

// cancelChoices are the "When to mark as deleted" options.
var cancelChoices = []choice{
	{Value: "none", Label: "Leave the POS order as it is"},
	{Value: "void", Label: "Void the order"},
	{Value: "archive", Label: "Archive the order"},
	{Value: "delete", Label: "Delete the order"},
}

// buildOrderSync prepares the settings page for settings set.
func (c *Console) buildOrderSync(ctx context.Context, s *session, set domain.OrderSyncSettings, errs map[string]string) (orderSyncData, error) {
	if errs == nil {
		errs = map[string]string{}
	}
	d := orderSyncData{S: set, Errors: errs, BookingOn: set.SyncOnBooking == "created" || set.SyncOnBooking == "accepted",
		BookingWhen: set.SyncOnBooking}
	if !d.BookingOn {
		d.BookingWhen = "created"
	}
	all, err := c.d.Lifecycle.List(ctx, s.account.ID, "")
	if err != nil {
		return d, fmt.Errorf("list integrations: %w", err)
	}
	for _, i := range all {
		p, ok := c.d.Lifecycle.Provider(i.Type)
		if !ok || !p.Has(domain.CapOrders) || (!i.Status.Active() && i.ID != set.IntegrationID) {
			continue
		}
		o := integrationOption{ID: i.ID, Label: i.Label(p.DisplayName), Status: c.view(i).StatusLabel, Selected: i.ID == set.IntegrationID}
		if o.Selected {
			d.POSName = p.DisplayName
		}
		d.Integrations = append(d.Integrations, o)
	}
	for _, ch := range cancelChoices {
		ch.Selected = ch.Value == string(set.OnCancel)
		d.Cancels = append(d.Cancels, ch)
	}
	return d, nil
}

// orderSyncPage is the "Automatic Sync" settings page.
func (c *Console) orderSyncPage(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := c.d.Sync.Settings(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("read order sync settings: %w", err))
		return
	}
	d, err := c.buildOrderSync(r.Context(), s, set, nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "order_sync", c.newPage(r, s, "Automatic Sync", "order-sync", d))
}

// formSettings reads the settings form. Unchecked boxes are off; "Sync on online bookings"
// with its dropdown becomes sync_on_booking.
func formSettings(f url.Values) domain.OrderSyncSettings {
	on := func(name string) bool { return f.Get(name) == "on" }
	set := domain.OrderSyncSettings{
		IntegrationID:                strings.TrimSpace(f.Get("integration_id")),
		AutoSync:                     on("auto_sync"),
		SyncOnJobCreated:             on("sync_on_job_created"),
		SyncOnItemsChanged:           on("sync_on_items_changed"),
		SyncOnInvoiceCreated:         on("sync_on_invoice_created"),
		SyncOnSaleCompleted:          on("sync_on_sale_completed"),
		SyncOnBooking:                "off",
		OnCancel:                     domain.CancelMode(f.Get("on_cancel")),
		MarkInvoicePaidOnCompletion:  on("mark_invoice_paid_on_completion"),
		MarkJobCompletedOnCompletion: on("mark_job_completed_on_completion"),
	}
	if on("sync_on_booking") {
		set.SyncOnBooking = f.Get("sync_on_booking_when")
	}
	return set
}

// orderSyncSave saves the settings, or shows them again with what to correct.
func (c *Console) orderSyncSave(w http.ResponseWriter, r *http.Request, s *session) {
	set := formSettings(r.PostForm)
	_, err := c.d.Sync.SaveSettings(r.Context(), s.account.ID, s.actor(), set)
	if err == nil {
		http.Redirect(w, r, "/order-sync?msg=syncsaved", http.StatusSeeOther)
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Code == domain.CodeInternal {
		c.serverError(w, r, s, fmt.Errorf("save order sync settings: %w", err))
		return
	}
	errs, msg := map[string]string{}, ""
	if de.Field != "" {
		errs[de.Field] = de.Message
	} else {
		msg = de.Message
	}
	d, berr := c.buildOrderSync(r.Context(), s, set, errs)
	if berr != nil {
		c.fail(w, r, s, berr)
		return
	}
	if de.Field == "sync_on_booking" {
		d.BookingOn, d.BookingWhen = true, "created"
	}
	p := c.newPage(r, s, "Automatic Sync", "order-sync", d)
	p.Error = msg
	if msg == "" {
		p.Error = "The settings were not saved: " + de.Message
	}
	c.render(w, http.StatusUnprocessableEntity, "order_sync", p)
}

// webhooksData is the "View Webhook" modal: the integration's received webhook events.
type webhooksData struct {
	Events   []webhookView
	Supports bool // the provider sends webhooks at all
	HookURL  string
	Close    string
	// Retention is how long webhook events are kept.
	Retention string
	// Ignored are the counts of events acknowledged without being stored, by topic.
	Ignored []ignoredView
}

// ignoredView counts the events of one topic acknowledged without being stored.
type ignoredView struct {
	Topic string
	Count string
	Last  string
}

// webhookView is one received webhook event.
type webhookView struct {
	ID        string
	Received  string
	Processed string
	Topic     string
	ObjectID  string
	Status    string
	Class     string
	Reason    string
}

// webhooksPage shows the integration's edit page with the "View Webhook" modal open.
func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := c.buildEdit(ctx, s, id, nil, nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	evs, err := c.d.Sync.Events(ctx, s.account.ID, id, 100)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("webhook events of %s: %w", id, err))
		return
	}
	ign, err := c.d.Sync.IgnoredEvents(ctx, s.account.ID, id)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("ignored webhook events of %s: %w", id, err))
		return
	}
	wd := &webhooksData{Close: "/integrations/" + url.PathEscape(id), HookURL: c.d.Lifecycle.HookURL(id),
		Retention: c.d.Retention.Notice(store.WebhookEventsTable)}
	for _, n := range ign {
		wd.Ignored = append(wd.Ignored, ignoredView{Topic: n.Topic, Count: strconv.FormatInt(n.Count, 10), Last: FormatTime(n.LastAt)})
	}
	if p, ok := c.d.Lifecycle.Provider(d.I.Type); ok {
		wd.Supports = p.Has(domain.CapWebhooks)
	}
	pending := false
	for _, e := range evs {
		v := webhookView{ID: e.ID, Received: FormatTime(e.ReceivedAt), Processed: formatTimePtr(e.ProcessedAt), Topic: e.Topic,
			ObjectID: e.ObjectID, Status: string(e.Status), Class: "wh-" + string(e.Status), Reason: e.Reason}
		if v.Topic == "" {
			v.Topic = e.Type
		}
		pending = pending || e.Status == store.EventReceived
		wd.Events = append(wd.Events, v)
	}
	d.Webhooks = wd
	p := c.newPage(r, s, "Webhook events: "+d.I.Label, "integrations", d)
	if pending {
		p.Refresh = 3
	}
	c.render(w, http.StatusOK, "edit", p)
}
