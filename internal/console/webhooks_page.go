package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// endpointView is one webhook endpoint with its latest deliveries.
type endpointView struct {
	ID, URL, Description, Events string
	Deliveries                   []deliveryView
}

// deliveryView is one delivery as the page shows it.
type deliveryView struct {
	ID, EndpointID, EventType, Status, StatusLabel string
	Created, NextAttempt, Answer, ErrorDetail      string
	Attempts                                       int
	CanRedeliver                                   bool
}

var deliveryLabels = map[string]string{"pending": "Sending", "retrying": "Retrying", "delivered": "Delivered", "failed": "Failed", "cancelled": "Cancelled"}

func deliveryViewOf(d store.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, EndpointID: d.EndpointID, EventType: d.EventType, Status: d.Status, StatusLabel: deliveryLabels[d.Status],
		Created: FormatTime(d.CreatedAt), Attempts: d.Attempts, CanRedeliver: len(d.Body) > 0 && d.Status != "pending" && d.Status != "retrying"}
	if v.StatusLabel == "" {
		v.StatusLabel = d.Status
	}
	if d.NextAttemptAt != nil && d.Status == "retrying" {
		v.NextAttempt = FormatTime(*d.NextAttemptAt)
	}
	switch {
	case d.LastStatus >= 200 && d.LastStatus < 300:
		v.Answer = fmt.Sprintf("HTTP %d", d.LastStatus)
	case d.LastError != "":
		prefix := ""
		if d.LastStatus != 0 {
			prefix = fmt.Sprintf("HTTP %d: ", d.LastStatus)
		}
		e := domain.Explain(d.LastError)
		v.Answer, v.ErrorDetail = prefix+strings.ReplaceAll(e.Text, "the POS", "the endpoint"), e.Detail
	case d.Attempts == 0:
		v.Answer = "—"
	}
	return v
}

func (c *Console) webhookEndpoints(w http.ResponseWriter, r *http.Request, s *session) {
	eps, err := c.d.Store.ListWebhookEndpoints(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, fmt.Errorf("list webhook endpoints: %w", err))
		return
	}
	var out []endpointView
	for _, ep := range eps {
		v := endpointView{ID: ep.ID, URL: ep.URL, Description: ep.Description, Events: "all"}
		if len(ep.Events) > 0 {
			v.Events = strings.Join(ep.Events, ", ")
		}
		ds, err := c.d.Store.ListEndpointDeliveries(r.Context(), s.account.ID, ep.ID, 20)
		if err != nil {
			c.fail(w, r, s, fmt.Errorf("list deliveries: %w", err))
			return
		}
		for _, d := range ds {
			v.Deliveries = append(v.Deliveries, deliveryViewOf(d))
		}
		out = append(out, v)
	}
	c.render(w, http.StatusOK, "webhook_endpoints", c.newPage(r, s, "Webhook endpoints", "webhook-endpoints", struct{ Endpoints []endpointView }{out}))
}

func (c *Console) webhookTest(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Outbox.SendTest(r.Context(), s.account.ID, r.PathValue("id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/webhook-endpoints?msg=webhook_test", http.StatusSeeOther)
}

func (c *Console) webhookRedeliver(w http.ResponseWriter, r *http.Request, s *session) {
	if _, _, err := c.d.Store.GetWebhookEndpoint(r.Context(), s.account.ID, r.PathValue("id")); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			c.notFound(w, r, s)
			return
		}
		c.fail(w, r, s, err)
		return
	}
	if _, err := c.d.Outbox.Redeliver(r.Context(), s.account.ID, r.PathValue("id"), r.PathValue("delivery_id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/webhook-endpoints?msg=redeliver#"+url.QueryEscape(r.PathValue("id")), http.StatusSeeOther)
}
