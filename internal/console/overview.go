package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
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
