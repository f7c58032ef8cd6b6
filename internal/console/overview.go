package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// overviewDocs is how many of the newest documents the overview counts.
const overviewDocs = 500

// overviewData is the account at a glance: its integrations and their status, what the
// documents did today, what needs attention and, for a newcomer, what to do next.
type overviewData struct {
	Integrations []integrationView
	ByStatus     []statusCount
	SyncOn       bool
	SyncedToday  int
	Failing      int
	Retrying     int
	Counted      int // documents counted (the newest overviewDocs)
	Recent       []docRow
	Attention    []attentionItem
	Steps        []nextStep
	StepsLeft    int
	Activity     template.HTML // the chart of the last 7 days' syncs
	ActivityNote string
}

type statusCount struct {
	Label, Class string
	N            int
}

// attentionItem is something the merchant should look at, with where to do it.
type attentionItem struct {
	Text, Detail, Link, LinkText string
}

// nextStep is one step of a newcomer's first hour; Done ones show ticked.
type nextStep struct {
	Text, Link, LinkText string
	Done                 bool
}

func (c *Console) buildOverview(ctx context.Context, s *session) (overviewData, error) {
	var d overviewData
	all, err := c.d.Lifecycle.List(ctx, s.account.ID, "")
	if err != nil {
		return d, fmt.Errorf("list integrations: %w", err)
	}
	counts := map[string]*statusCount{}
	var order []string
	active := 0
	for _, i := range all {
		v := c.view(i)
		d.Integrations = append(d.Integrations, v)
		if i.Status.Active() {
			active++
		}
		sc, ok := counts[v.StatusLabel]
		if !ok {
			sc = &statusCount{Label: v.StatusLabel, Class: v.StatusClass}
			counts[v.StatusLabel] = sc
			order = append(order, v.StatusLabel)
		}
		sc.N++
		if i.Status == domain.StatusFailed || i.Status == domain.StatusCalledOff {
			d.Attention = append(d.Attention, attentionItem{Text: v.Label + " is " + v.StatusLabel + ". " + v.StatusNote,
				Detail: v.StatusDetail, Link: "/integrations/" + i.ID, LinkText: "Open " + v.Label})
		}
	}
	for _, l := range order {
		d.ByStatus = append(d.ByStatus, *counts[l])
	}
	docs := 0
	if c.d.Sync != nil {
		d.SyncOn = true
		list, err := c.d.Sync.List(ctx, s.account.ID, "", overviewDocs)
		if err != nil {
			return d, fmt.Errorf("list documents: %w", err)
		}
		docs, d.Counted = len(list), len(list)
		y, m, day := c.now().UTC().Date()
		today := time.Date(y, m, day, 0, 0, 0, 0, time.UTC)
		for n, doc := range list {
			if n < 5 {
				d.Recent = append(d.Recent, c.docRow(doc, ""))
			}
			if doc.Sync.LastSyncedAt != nil && !doc.Sync.LastSyncedAt.Before(today) {
				d.SyncedToday++
			}
			switch doc.Sync.Status {
			case domain.SyncFailed:
				d.Failing++
				if d.Failing <= 5 {
					r := c.docRow(doc, "")
					d.Attention = append(d.Attention, attentionItem{Text: r.KindLabel + " " + doc.Ref + " did not sync: " + domain.ExplainText(doc.Sync.LastError),
						Link: r.Link, LinkText: "Open its sync dialog"})
				}
			case domain.SyncRetrying:
				d.Retrying++
			}
		}
	}
	if d.SyncOn {
		now := c.now()
		days, err := c.d.Store.SyncActivity(ctx, s.account.ID, now.AddDate(0, 0, -6), now)
		if err != nil {
			return d, fmt.Errorf("read sync activity: %w", err)
		}
		d.Activity, d.ActivityNote = activityChart(days)
	}
	set := domain.OrderSyncSettings{}
	if c.d.Sync != nil {
		if set, err = c.d.Sync.Settings(ctx, s.account.ID); err != nil {
			return d, fmt.Errorf("read order sync settings: %w", err)
		}
	}
	eps, err := c.d.Store.ListWebhookEndpoints(ctx, s.account.ID)
	if err != nil {
		return d, fmt.Errorf("list webhook endpoints: %w", err)
	}
	d.Steps = []nextStep{
		{Text: "Connect a POS (a Sandbox POS or a sandbox store lets you try without a POS account)", Link: "/integrations/new", LinkText: "Add POS Integration", Done: active > 0},
		{Text: "Turn on Automatic Sync, so your app's jobs, invoices and sales become POS orders", Link: "/order-sync", LinkText: "Automatic Sync", Done: set.AutoSync},
		{Text: "Send your first document from your app (PUT /api/v1/documents/{kind}/{ref}) or a sample invoice", Link: "/documents", LinkText: "Documents", Done: docs > 0},
		{Text: "Tell your app what changed: add a webhook endpoint (POST /api/v1/webhook-endpoints)", Link: "/webhook-endpoints", LinkText: "Webhook endpoints", Done: len(eps) > 0},
	}
	if !d.SyncOn {
		d.Steps = d.Steps[:1]
	}
	for _, st := range d.Steps {
		if !st.Done {
			d.StepsLeft++
		}
	}
	return d, nil
}

// overview is the console's landing page.
func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.buildOverview(r.Context(), s)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, http.StatusOK, "overview", c.newPage(r, s, "Overview", "overview", d))
}

// activityChart draws the last days' syncs as an SVG chart: per day a bar of the syncs that
// went through and, beside it, one of those that failed.
func activityChart(days []store.DayActivity) (template.HTML, string) {
	peak, ok, failed := 1, 0, 0
	for _, d := range days {
		peak = max(peak, d.OK, d.Failed)
		ok += d.OK
		failed += d.Failed
	}
	const w, h, left, bottom, top = 640, 150, 8, 22, 16
	plotW, plotH := float64(w-2*left), float64(h-bottom-top)
	slot := plotW / float64(max(len(days), 1))
	bw := (slot - 8) / 2
	bar := func(class string, n int, x float64, title string) string {
		bh := 0.0
		if n > 0 {
			bh = max(2, plotH*float64(n)/float64(peak))
		}
		return fmt.Sprintf(`<rect class="%s" data-n="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
			class, n, x, float64(h-bottom)-bh, bw, bh, template.HTMLEscapeString(title))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="activity-chart" class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="Syncs to the POS per day over the last %d days: %d went through, %d failed">`,
		w, h, len(days), ok, failed)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, h-bottom, w-left, h-bottom)
	for k, d := range days {
		x := float64(left) + float64(k)*slot + 4
		day := d.Day.Format("Mon 2 Jan")
		fmt.Fprintf(&b, `<g data-day="%s">`, d.Day.Format("2006-01-02"))
		b.WriteString(bar("bar", d.OK, x, fmt.Sprintf("%s: %d sync(s) went through", day, d.OK)))
		b.WriteString(bar("bar bar-failed", d.Failed, x+bw, fmt.Sprintf("%s: %d sync(s) failed", day, d.Failed)))
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text></g>`, x+bw, h-6, d.Day.Format("Mon 2"))
	}
	fmt.Fprintf(&b, `<text class="label" x="%d" y="%d">peak %d a day</text>`, left, top-4, peak)
	b.WriteString(`</svg>`)
	note := fmt.Sprintf("Last %d days: %d sync(s) to the POS went through, %d failed (blue: went through, red: failed).", len(days), ok, failed)
	if ok+failed == 0 {
		note = fmt.Sprintf("No syncs to the POS in the last %d days.", len(days))
	}
	return template.HTML(b.String()), note
}
