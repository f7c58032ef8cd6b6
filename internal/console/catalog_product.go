package console

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/domain"
)

// productData is a product's page: its data, links and stock, and its field history ("why did
// this change?").
type productData struct {
	P       catalogsync.ProductJSON
	Price   string
	Source  string
	Links   []string
	Stock   []stockRow
	History []historyRow
}

// stockRow is the stock of the product (or one of its variants) at one location of the source.
type stockRow struct {
	Location, Variant, Quantity, Updated string
}

// historyRow is one changed field of a history entry; the first field of an entry carries the
// entry's time and trigger.
type historyRow struct {
	At, Trigger, Actor string
	Field, From, To    string
	First              bool
	Span               int
}

// catalogProductPage shows one product of the account with its history, newest first.
func (c *Console) catalogProductPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	id := r.PathValue("id")
	p, err := c.d.Catalog.Product(ctx, s.account.ID, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	all, err := c.d.Lifecycle.List(ctx, s.account.ID, "")
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := productData{P: p, Price: money(p.Price.Amount, p.Price.Currency), Source: c.integrationName(all, p.IntegrationID)}
	for _, l := range p.Links {
		d.Links = append(d.Links, c.integrationName(all, l.IntegrationID)+" #"+l.ExternalID)
	}
	levels, err := c.d.Catalog.Stock(ctx, s.account.ID, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	stores, err := c.d.Lifecycle.Stores(ctx, s.account.ID, p.IntegrationID)
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		c.fail(w, r, s, err)
		return
	}
	names := map[string]string{}
	for _, st := range stores {
		names[st.ID] = st.Name
	}
	variants := map[string]string{}
	for _, v := range p.Variants {
		variants[v.ID] = v.Name
	}
	for _, l := range levels {
		row := stockRow{Location: l.LocationID, Variant: l.VariantID, Quantity: l.Quantity}
		if n := names[l.LocationID]; n != "" {
			row.Location = n + " (" + l.LocationID + ")"
		}
		if n := variants[l.VariantID]; n != "" {
			row.Variant = n
		}
		if !l.UpdatedAt.IsZero() {
			row.Updated = FormatTime(l.UpdatedAt)
		}
		d.Stock = append(d.Stock, row)
	}
	es, err := c.d.Catalog.History(ctx, s.account.ID, domain.RecordProduct, id, 0, 50)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	for _, e := range es {
		trigger := e.Trigger
		if e.IntegrationID != "" {
			trigger += " (" + c.integrationName(all, e.IntegrationID) + ")"
		}
		for i, f := range e.Changes {
			d.History = append(d.History, historyRow{At: FormatTime(e.At), Trigger: trigger, Actor: e.Actor, Field: f.Field,
				From: historyValue(f.From), To: historyValue(f.To), First: i == 0, Span: len(e.Changes)})
		}
	}
	c.render(w, http.StatusOK, "catalog_product", c.newPage(r, s, p.Name, "catalog-sync", d))
}

// historyValue shows a field's value in words: text as it is, money as an amount, none as a dash.
func historyValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "(empty)"
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case map[string]any:
		if a, ok := x["amount"].(float64); ok {
			if cur, ok := x["currency"].(string); ok && len(x) == 2 {
				return money(int64(a), cur)
			}
		}
	case domain.Money:
		return money(x.Amount, x.Currency)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
