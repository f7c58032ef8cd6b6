package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/email"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/store"
)

// salesView is the Sales card of an integration's page: the chart of the last 30
// days, the latest sales, the check frequency and the Refresh button; for an email integration
// its address and file settings instead of the button.
type salesView struct {
	CanRefresh bool // a POS to fetch from, and a status that allows it
	Fetches    bool // the integration's sales come by fetch (not by email)
	Interval   int
	Intervals  []intervalOption
	Chart      template.HTML // server-rendered SVG
	ChartNote  string
	Recent     []saleRow
	Items      []itemRow
	MoreItems  bool
	Email      *emailView
}

type itemRow struct {
	ID, Name, SKU, AppRef, Price string
}

type intervalOption struct {
	Minutes  int
	Label    string
	Selected bool
}

type saleRow struct {
	SoldAt, Number, Status, Total, Items string
	StatusClass                          string
}

// emailView is an email integration's address and sales file settings: the column mapping
// (a preset of a common POS export and the columns that differ from it), the amounts' currency,
// decimal separator and time zone, and the accepted senders; the form's values after a refusal.
type emailView struct {
	Address, Preset, Senders, LastFile string
	Presets                            []presetOption
	Columns                            []columnRow
	Currency, Decimal, Timezone        string
	SendersText                        string // one a line, for the form
	PresetsJSON                        string // every preset's columns, for the script that fills them in
}

type presetOption struct {
	Name, Label string
	Selected    bool
}

// columnRow is a field of the sales file and the column header it is read from.
type columnRow struct {
	Field, Label, Value, Default, Error string
	Required                            bool
}

var presetLabels = map[string]string{
	"posbridge":  "posbridge (sale_id, sold_at, item, quantity, total...)",
	"square":     "Square: Item Sales Detail",
	"lightspeed": "Lightspeed Retail: Sales lines",
	"toast":      "Toast: Item selection details",
}

// emailForm is the email settings of the form: the stored ones, or those just submitted.
func emailForm(in salesimport.Inbox, form url.Values, errs map[string]string) *emailView {
	v := &emailView{Address: in.Address, Preset: in.Mapping.Preset, LastFile: formatTimePtr(in.LastFileAt),
		Currency: in.Mapping.Currency, Decimal: in.Mapping.Decimal, Timezone: in.Mapping.Timezone,
		SendersText: strings.Join(in.AllowedSenders, "\n")}
	v.Senders = "anyone who knows the address"
	if len(in.AllowedSenders) > 0 {
		v.Senders = strings.Join(in.AllowedSenders, ", ")
	}
	if b, err := json.Marshal(salesimport.Presets); err == nil {
		v.PresetsJSON = string(b)
	}
	cols := in.Mapping.Headers()
	submitted := form != nil && form.Has("preset")
	preset := in.Mapping.Preset
	if submitted {
		preset = form.Get("preset")
		v.Currency, v.Decimal, v.Timezone = form.Get("currency"), form.Get("decimal"), form.Get("timezone")
		v.SendersText = form.Get("allowed_senders")
	}
	for _, name := range salesimport.PresetNames() {
		label := presetLabels[name]
		if label == "" {
			label = name
		}
		v.Presets = append(v.Presets, presetOption{Name: name, Label: label, Selected: name == preset})
	}
	for _, f := range salesimport.Fields() {
		row := columnRow{Field: f, Label: salesimport.FieldLabels[f], Value: cols[f], Default: salesimport.Presets[preset][f],
			Error: errs["mapping.columns."+f]}
		row.Required = f == salesimport.FieldSaleID || f == salesimport.FieldItem || f == salesimport.FieldQuantity
		if submitted {
			row.Value = form.Get("col_" + f)
		}
		v.Columns = append(v.Columns, row)
	}
	return v
}

// mappingOf reads the mapping a submitted form asks for. A column left as the preset has it is
// no override; when the preset changed, neither is one left as the old preset had it (the form
// showed the old preset's columns). A column emptied that the preset reads is dropped.
func mappingOf(form url.Values) (salesimport.Mapping, []string) {
	m := salesimport.Mapping{Preset: strings.TrimSpace(form.Get("preset")), Columns: map[string]string{},
		Currency: strings.ToUpper(strings.TrimSpace(form.Get("currency"))), Decimal: strings.TrimSpace(form.Get("decimal")),
		Timezone: strings.TrimSpace(form.Get("timezone"))}
	prev := salesimport.Presets[form.Get("previous_preset")]
	now := salesimport.Presets[m.Preset]
	for _, f := range salesimport.Fields() {
		if !form.Has("col_" + f) {
			continue
		}
		v := strings.TrimSpace(form.Get("col_" + f))
		if v == now[f] || (form.Get("previous_preset") != m.Preset && prev != nil && v == prev[f]) {
			continue
		}
		if v == "" && now[f] == "" {
			continue
		}
		m.Columns[f] = v
	}
	if len(m.Columns) == 0 {
		m.Columns = nil
	}
	var senders []string
	for _, line := range strings.FieldsFunc(form.Get("allowed_senders"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if a := strings.TrimSpace(line); a != "" {
			senders = append(senders, a)
		}
	}
	return m, senders
}

// emailSettings saves an email integration's sales file settings (the form of its page); a
// refusal shows every problem of the form at once, each by its field.
func (c *Console) emailSettings(w http.ResponseWriter, r *http.Request, s *session) {
	m, senders := mappingOf(r.PostForm)
	errs := map[string]string{}
	for _, err := range m.Problems() {
		var de *domain.Error
		if errors.As(err, &de) && errs[de.Field] == "" {
			errs[de.Field] = de.Message
		}
	}
	if _, err := salesimport.CleanSenders(senders); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			errs["allowed_senders"] = de.Message
		}
	}
	i, err := c.d.Lifecycle.Get(r.Context(), s.account.ID, r.PathValue("id"))
	if err != nil {
		c.actionFailed(w, r, s, "save the sales file settings of", err)
		return
	}
	if len(errs) > 0 && i.Type == email.Type {
		c.showEdit(w, r, s, http.StatusUnprocessableEntity, "The sales file settings were not saved: see the fields marked below.", errs, r.PostForm)
		return
	}
	if _, err := c.d.Sales.SetInbox(r.Context(), s.account.ID, s.actor(), r.PathValue("id"), m, senders); err != nil {
		c.actionFailed(w, r, s, "save the sales file settings of", err)
		return
	}
	c.redirectEdit(w, r, "emailsaved")
}

var intervalChoices = []int{5, 15, 30, 60, 120, 180, 360}

func money(amount int64, currency string) string {
	s := connector.FormatMinor(amount, connector.CurrencyExponent(currency))
	if currency == "" {
		return s
	}
	return s + " " + currency
}

// buildSales prepares the Sales card, or nil when sales do not apply to the integration.
func (c *Console) buildSales(ctx context.Context, s *session, i domain.Integration, form url.Values, errs map[string]string) (*salesView, error) {
	if c.d.Sales == nil {
		return nil, nil
	}
	isEmail := i.Type == email.Type
	if !isEmail && !c.d.Sales.HasSales(i) {
		return nil, nil
	}
	v := &salesView{Fetches: !isEmail, Interval: i.SalesIntervalMinutes}
	if v.Interval <= 0 {
		v.Interval = int(domain.DefaultSalesInterval / time.Minute)
	}
	v.CanRefresh = !isEmail && i.CheckAllowed() == nil && s.isAdmin()
	for _, m := range intervalChoices {
		v.Intervals = append(v.Intervals, intervalOption{Minutes: m, Label: salesimport.Every(m), Selected: m == v.Interval})
	}
	now := c.now().UTC()
	to := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-30 * 24 * time.Hour)
	days, err := c.d.Store.SalesSummary(ctx, s.account.ID, i.ID, from, to)
	if err != nil {
		return nil, err
	}
	v.Chart, v.ChartNote = salesChart(days, from)
	recent, err := c.d.Store.ListSales(ctx, s.account.ID, store.SaleFilter{IntegrationID: i.ID, Newest: true, Limit: 10})
	if err != nil {
		return nil, err
	}
	for _, x := range recent {
		var names []string
		for _, l := range x.Lines {
			names = append(names, l.Quantity+"× "+l.Name)
		}
		items := strings.Join(names, ", ")
		if len(items) > 80 {
			items = items[:77] + "..."
		}
		num := x.Number
		if num == "" {
			num = x.ExternalID
		}
		v.Recent = append(v.Recent, saleRow{SoldAt: FormatTime(x.SoldAt), Number: num, Status: x.Status, StatusClass: "sale-" + x.Status,
			Total: money(x.Total, x.Currency), Items: items})
	}
	items, err := c.d.Store.ListPosItems(ctx, s.account.ID, store.PosItemFilter{IntegrationID: i.ID, Limit: 26})
	if err != nil {
		return nil, err
	}
	if len(items) > 25 {
		items, v.MoreItems = items[:25], true
	}
	for _, p := range items {
		v.Items = append(v.Items, itemRow{ID: p.ID, Name: p.Name, SKU: p.SKU, AppRef: p.AppRef, Price: money(p.LastUnitPrice, p.Currency)})
	}
	if isEmail {
		in, err := c.d.Sales.Inbox(ctx, s.account.ID, i.ID)
		if err != nil {
			return nil, err
		}
		v.Email = emailForm(in, form, errs)
	}
	return v, nil
}

// salesChart draws completed sales per day (the busiest currency) as an SVG bar chart.
func salesChart(days []store.SalesDay, from time.Time) (template.HTML, string) {
	const n = 30
	per := map[string]int64{}
	for _, d := range days {
		per[d.Currency] += d.Total
	}
	cur := ""
	for k, v := range per {
		if cur == "" || v > per[cur] || (v == per[cur] && k < cur) {
			cur = k
		}
	}
	totals := make([]int64, n)
	counts := make([]int, n)
	var sum int64
	var count int
	for _, d := range days {
		k := int(d.Day.Sub(from) / (24 * time.Hour))
		if d.Currency != cur || k < 0 || k >= n {
			continue
		}
		totals[k] += d.Total
		counts[k] += d.Count
		sum += d.Total
		count += d.Count
	}
	var peak int64 = 1
	for _, t := range totals {
		peak = max(peak, t)
	}
	const w, h, left, bottom, top = 640, 180, 8, 22, 16
	plotW, plotH := float64(w-2*left), float64(h-bottom-top)
	bw := plotW / n
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="sales-chart" class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="Completed sales per day over the last 30 days">`, w, h)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-left, h-bottom)
	for k, t := range totals {
		bh := 0.0
		if t > 0 {
			bh = max(2, plotH*float64(t)/float64(peak))
		}
		day := from.Add(time.Duration(k) * 24 * time.Hour)
		x := float64(left) + float64(k)*bw + 1
		fmt.Fprintf(&b, `<rect class="bar" data-day="%s" data-total="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d sale(s), %s</title></rect>`,
			day.Format("2006-01-02"), t, x, float64(h-bottom)-bh, bw-2, bh, day.Format("Mon 2 Jan"), counts[k], template.HTMLEscapeString(money(t, cur)))
	}
	for _, k := range []int{0, 14, 29} {
		day := from.Add(time.Duration(k) * 24 * time.Hour)
		anchor := "middle"
		switch k {
		case 0:
			anchor = "start"
		case 29:
			anchor = "end"
		}
		x := float64(left) + float64(k)*bw + bw/2
		if k == 0 {
			x = float64(left)
		} else if k == 29 {
			x = float64(w - left)
		}
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x, h-6, anchor, day.Format("2 Jan"))
	}
	fmt.Fprintf(&b, `<text class="label" x="%d" y="%d">peak %s</text>`, left, top-4, template.HTMLEscapeString(money(peak, cur)))
	b.WriteString(`</svg>`)
	note := "No completed sales in the last 30 days."
	if count > 0 {
		note = fmt.Sprintf("%d completed sale(s) in the last 30 days, %s in all.", count, money(sum, cur))
	}
	return template.HTML(b.String()), note //nolint:gosec // built above from numbers, dates and escaped text
}

func (c *Console) refreshSales(w http.ResponseWriter, r *http.Request, s *session) {
	if _, _, err := c.d.Sales.Refresh(r.Context(), s.account.ID, s.actor(), r.PathValue("id")); err != nil {
		c.actionFailed(w, r, s, "refresh sales", err)
		return
	}
	c.redirectEdit(w, r, "sales")
}

func (c *Console) salesFrequency(w http.ResponseWriter, r *http.Request, s *session) {
	m, err := strconv.Atoi(r.PostForm.Get("sales_interval_minutes"))
	if err != nil {
		m = 0
	}
	if _, err := c.d.Sales.SetInterval(r.Context(), s.account.ID, s.actor(), r.PathValue("id"), m); err != nil {
		c.actionFailed(w, r, s, "sales frequency", err)
		return
	}
	c.redirectEdit(w, r, "salesfreq")
}

// mapItem sets a POS item's mapping to the app's product or recipe (app_ref).
func (c *Console) mapItem(w http.ResponseWriter, r *http.Request, s *session) {
	ref := strings.TrimSpace(r.PostForm.Get("app_ref"))
	if err := domain.CheckText("app_ref", ref, domain.TextID); err != nil {
		c.actionFailed(w, r, s, "map POS item", err)
		return
	}
	p, err := c.d.Store.SetPosItemMapping(r.Context(), s.account.ID, r.PathValue("item"), ref)
	if err != nil || p.IntegrationID != r.PathValue("id") {
		c.notFound(w, r, s)
		return
	}
	c.redirectEdit(w, r, "mapped")
}
