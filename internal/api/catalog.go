package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/posbridge/posbridge/internal/catalogsync"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
	"github.com/posbridge/posbridge/internal/store"
)

// SetCatalog connects the catalog sync engine.
func (a *API) SetCatalog(c *catalogsync.Service) { a.catalog = c }

// CatalogSyncRequest is the body of PUT /api/v1/catalog-sync: the fields sent change, the
// others keep their value. destinations, when sent, is the whole list.
type CatalogSyncRequest struct {
	SourceIntegrationID *string                      `json:"source_integration_id"`
	Enabled             *bool                        `json:"enabled"`
	Destinations        *[]CatalogDestinationRequest `json:"destinations"`
}

// CatalogDestinationRequest is one destination of CatalogSyncRequest. owned_fields,
// empty_overwrites and stock_locations left out keep the destination's current values, or take
// the defaults (["weight","categories"], true, every location) for a new destination.
type CatalogDestinationRequest struct {
	IntegrationID   string             `json:"integration_id"`
	OwnedFields     *[]string          `json:"owned_fields"`
	EmptyOverwrites *bool              `json:"empty_overwrites"`
	StockLocations  *map[string]string `json:"stock_locations"`
}

func (a *API) getCatalogSync(w http.ResponseWriter, r *http.Request, acct string) error {
	st, err := a.catalog.Settings(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *API) putCatalogSync(w http.ResponseWriter, r *http.Request, acct string) error {
	cur, err := a.catalog.Settings(r.Context(), acct)
	if err != nil {
		return err
	}
	var in CatalogSyncRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	next := cur
	if in.SourceIntegrationID != nil {
		next.SourceIntegrationID = *in.SourceIntegrationID
	}
	if in.Enabled != nil {
		next.Enabled = *in.Enabled
	}
	if in.Destinations != nil {
		old := map[string]domain.CatalogDestination{}
		for _, d := range cur.Destinations {
			old[d.IntegrationID] = d
		}
		next.Destinations = make([]domain.CatalogDestination, 0, len(*in.Destinations))
		for _, d := range *in.Destinations {
			nd, ok := old[d.IntegrationID]
			if !ok {
				nd = domain.CatalogDestination{IntegrationID: d.IntegrationID, OwnedFields: domain.DefaultOwnedFields(), EmptyOverwrites: true}
			}
			if d.OwnedFields != nil {
				nd.OwnedFields = append([]string{}, *d.OwnedFields...)
			}
			if d.EmptyOverwrites != nil {
				nd.EmptyOverwrites = *d.EmptyOverwrites
			}
			if d.StockLocations != nil {
				nd.StockLocations = *d.StockLocations
			}
			next.Destinations = append(next.Destinations, nd)
		}
	}
	out, err := a.catalog.SaveSettings(r.Context(), acct, domain.ActorAPI, next)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// CatalogImportRequest is the body of POST /api/v1/catalog-sync/import, which may be left empty.
// match_by_sku (default false) links, once, the products the shops had before posbridge to the
// source's products with the same SKU; only while none of the source's products is linked.
type CatalogImportRequest struct {
	MatchBySKU bool `json:"match_by_sku"`
}

func (a *API) startCatalogImport(w http.ResponseWriter, r *http.Request, acct string) error {
	var in CatalogImportRequest
	if err := decodeOptionalInto(r, &in); err != nil {
		return err
	}
	imp, err := a.catalog.StartImport(r.Context(), acct, domain.ActorAPI, in.MatchBySKU)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, imp)
}

func (a *API) catalogProgress(w http.ResponseWriter, r *http.Request, acct string) error {
	imp, err := a.catalog.Progress(r.Context(), acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, imp)
}

// decodeOptional accepts an empty body or an empty JSON object (a POST that takes no fields).
func decodeOptional(r *http.Request) error {
	var none struct{}
	return decodeOptionalInto(r, &none)
}

// decodeOptionalInto decodes the body strictly into v, leaving v as it is when the body is empty.
func decodeOptionalInto(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return &domain.Error{Code: domain.CodeTooLarge, Message: "the body is too large"}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return jsonin.Decode(bytes.NewReader(b), v)
}

// recordFilter reads q, cursor and limit of a records list.
func recordFilter(r *http.Request) (store.RecordFilter, error) {
	q := r.URL.Query()
	f := store.RecordFilter{Q: q.Get("q"), After: q.Get("cursor")}
	if err := domain.CheckText("q", f.Q, domain.TextName); err != nil {
		return f, err
	}
	if err := domain.CheckText("cursor", f.After, domain.TextID); err != nil {
		return f, err
	}
	var err error
	f.Limit, err = limitParam(r, 50)
	return f, err
}

func pageOf[T any](items []T, limit int, id func(T) string) map[string]any {
	var next any
	if len(items) == limit {
		next = id(items[len(items)-1])
	}
	return map[string]any{"data": items, "next_cursor": next}
}

func (a *API) listProducts(w http.ResponseWriter, r *http.Request, acct string) error {
	f, err := recordFilter(r)
	if err != nil {
		return err
	}
	ps, err := a.catalog.Products(r.Context(), acct, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageOf(ps, f.Limit, func(p catalogsync.ProductJSON) string { return p.ID }))
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request, acct string) error {
	p, err := a.catalog.Product(r.Context(), acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request, acct string) error {
	f, err := recordFilter(r)
	if err != nil {
		return err
	}
	cs, err := a.catalog.Customers(r.Context(), acct, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageOf(cs, f.Limit, func(c catalogsync.CustomerJSON) string { return c.ID }))
}

// patchCustomer writes an edit of a customer made in the app back to the POS it comes from.
func (a *API) patchCustomer(w http.ResponseWriter, r *http.Request, acct string) error {
	var in catalogsync.CustomerPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := a.catalog.UpdateCustomer(r.Context(), acct, domain.ActorAPI, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// recordHistory answers the field-level history of a product or customer, newest first.
func recordHistory(record string) func(a *API, w http.ResponseWriter, r *http.Request, acct string) error {
	return func(a *API, w http.ResponseWriter, r *http.Request, acct string) error {
		var before int64
		if v := r.URL.Query().Get("cursor"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return domain.Invalid("cursor", "cursor must be the next_cursor of an earlier answer")
			}
			before = n
		}
		limit, err := limitParam(r, 50)
		if err != nil {
			return err
		}
		es, err := a.catalog.History(r.Context(), acct, record, r.PathValue("id"), before, limit)
		if err != nil {
			return err
		}
		var next any
		if len(es) == limit {
			next = strconv.FormatInt(es[len(es)-1].ID, 10)
		}
		return writeJSON(w, http.StatusOK, map[string]any{"data": es, "next_cursor": next})
	}
}

func (a *API) listStock(w http.ResponseWriter, r *http.Request, acct string) error {
	id := r.URL.Query().Get("product_id")
	if id == "" {
		return domain.Invalid("product_id", "product_id is required: the stock of which product")
	}
	if err := domain.CheckText("product_id", id, domain.TextID); err != nil {
		return err
	}
	levels, err := a.catalog.Stock(r.Context(), acct, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": levels})
}

func (a *API) listChanges(w http.ResponseWriter, r *http.Request, acct string) error {
	var after int64
	if v := r.URL.Query().Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return domain.Invalid("cursor", "cursor must be the next_cursor of an earlier answer")
		}
		after = n
	}
	limit, err := limitParam(r, 500)
	if err != nil {
		return err
	}
	chs, err := a.catalog.Changes(r.Context(), acct, after, limit)
	if err != nil {
		return err
	}
	next := after
	if len(chs) > 0 {
		next = chs[len(chs)-1].ID
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": chs, "next_cursor": strconv.FormatInt(next, 10), "has_more": len(chs) == limit})
}

func (a *API) createLink(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		ProductID     string `json:"product_id"`
		IntegrationID string `json:"integration_id"`
		ExternalID    string `json:"external_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := a.catalog.Link(r.Context(), acct, domain.ActorAPI, in.ProductID, in.IntegrationID, in.ExternalID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, l)
}
