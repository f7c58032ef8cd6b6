package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/posbridge/posbridge/internal/domain"
)

// sandboxStoreView is the edit page's card of a sandbox store integration (posbridge's own
// simulator of a real provider): where it is served and, for admins, its credentials, so the
// merchant can look at it with the provider's own tools.
type sandboxStoreView struct {
	Provider    string
	BaseURL     string
	Credentials []credentialView // admins only
	Secret      string           // the webhook secret the simulator signs with (admins only)
}

type credentialView struct{ Name, Value string }

// buildSandboxStore prepares the sandbox store card, or nil when i is not a sandbox store.
func (c *Console) buildSandboxStore(ctx context.Context, s *session, i domain.Integration) (*sandboxStoreView, error) {
	info, ok, err := c.d.Lifecycle.SandboxStore(ctx, i)
	if err != nil || !ok {
		return nil, err
	}
	v := &sandboxStoreView{Provider: c.d.Lifecycle.DisplayName(i.Type), BaseURL: info.BaseURL}
	if s.isAdmin() {
		for k, val := range info.Credentials {
			v.Credentials = append(v.Credentials, credentialView{Name: k, Value: val})
		}
		sort.Slice(v.Credentials, func(a, b int) bool { return v.Credentials[a].Name < v.Credentials[b].Name })
		v.Secret = info.WebhookSecret
	}
	return v, nil
}

// sandboxOrderURL is the console page of an order of a sandbox store integration.
func sandboxOrderURL(integrationID, orderID string) string {
	return "/integrations/" + url.PathEscape(integrationID) + "/sandbox-orders/" + url.PathEscape(orderID)
}

// sandboxOrderData is the page of one order in a sandbox store.
type sandboxOrderData struct {
	Integration string // the integration's label
	EditURL     string
	Provider    string
	Order       domain.Order
	Lines       []sandboxLine
	Total       string
	Open        bool
	DocLabel    string // "Invoice INV-1"
	DocLink     string
	Action      string // where the buttons post: the page's URL
}

type sandboxLine struct{ Name, SKU, Quantity, UnitPrice, Total string }

// sandboxOrderPage shows an order of the account's sandbox store integration as the provider's
// admin would, with Complete and Void for admins while it is open. Only orders linked to the
// account's documents on that integration are found (the store is the account's own; an order of it
// that no document links to is not shown).
func (c *Console) sandboxOrderPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showSandboxOrder(w, r, s, http.StatusOK, "")
}

func (c *Console) showSandboxOrder(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	i, doc, o, err := c.d.Lifecycle.SandboxStoreOrder(r.Context(), s.account.ID, r.PathValue("id"), r.PathValue("order"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	name := c.d.Lifecycle.DisplayName(i.Type)
	d := sandboxOrderData{Integration: i.Label(name), EditURL: "/integrations/" + url.PathEscape(i.ID), Provider: name, Order: o,
		Total: money(o.Total.Amount, o.Total.Currency), Open: o.State == domain.OrderOpen,
		DocLabel: kindLabels[doc.Kind][0] + " " + doc.Ref, DocLink: docLink(doc.Kind, doc.Ref, ""),
		Action: sandboxOrderURL(i.ID, o.ID)}
	for _, l := range o.Lines {
		d.Lines = append(d.Lines, sandboxLine{Name: l.Name, SKU: l.SKU, Quantity: l.Quantity,
			UnitPrice: money(l.UnitPrice.Amount, l.UnitPrice.Currency), Total: money(l.Total.Amount, l.Total.Currency)})
	}
	p := c.newPage(r, s, fmt.Sprintf("Order %s in the %s sandbox store", o.ID, name), "integrations", d)
	p.Error = msg
	c.render(w, status, "sandbox_order", p)
}

// sandboxOrderAct completes or voids an order of a sandbox store, as a person at the
// provider's till or admin would; the store then sends its webhooks to posbridge.
func (c *Console) sandboxOrderAct(w http.ResponseWriter, r *http.Request, s *session) {
	action := r.PathValue("action")
	if c.d.SandboxOrder == nil || (action != "complete" && action != "void") {
		c.notFound(w, r, s)
		return
	}
	err := c.d.SandboxOrder(r.Context(), s.account.ID, r.PathValue("id"), r.PathValue("order"), action)
	if err != nil {
		var de *domain.Error
		switch {
		case domain.IsCode(err, domain.CodeNotFound):
			c.notFound(w, r, s)
		case errors.As(err, &de) && de.Code != domain.CodeInternal:
			c.showSandboxOrder(w, r, s, http.StatusConflict, de.Message)
		default:
			c.serverError(w, r, s, fmt.Errorf("sandbox store %s of order %s: %w", action, r.PathValue("order"), err))
		}
		return
	}
	http.Redirect(w, r, sandboxOrderURL(r.PathValue("id"), r.PathValue("order"))+"?msg=sandbox_"+action, http.StatusSeeOther)
}
