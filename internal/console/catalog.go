package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// catalogData is the catalog sync page: the settings with the field-ownership table per shop,
// the import's progress, the products with their link state, and the recent changes.
type catalogData struct {
	S            domain.CatalogSyncSettings
	Errors       map[string]string
	Sources      []integrationOption
	Destinations []destinationView
	Progress     domain.CatalogImport
	Percent      int
	SKUMatchOpen bool          // the import form offers the one-off SKU match (nothing linked yet)
	SKUSentence  string        // what the SKU match did, when it ran
	SKUMatches   []skuMatchRow // the links it made (the first domain.SKUMatchExamples)
	Q            string
	Products     []productRow
	Changes      []changeRow
	Customers    int
}

type destinationView struct {
	ID, Label, Status string
	On                bool
	EmptyOverwrites   bool
	Fields            []fieldRow
}

type fieldRow struct {
	Name, Label string
	Owned       bool
}

type productRow struct {
	ID, Name, SKU, Price, Links string
	Linked                      bool
}

type skuMatchRow struct{ SKU, ProductID, Shop, ExternalID string }

type changeRow struct{ At, Record, RecordID, Action string }

var fieldLabels = map[string]string{"name": "Name", "description": "Description", "sku": "SKU", "barcode": "Barcode", "price": "Price",
	"weight": "Weight", "categories": "Categories", "variants": "Variants", "track_stock": "Track stock"}

func (c *Console) buildCatalog(ctx context.Context, s *session, set domain.CatalogSyncSettings, q string, errs map[string]string) (catalogData, error) {
	if errs == nil {
		errs = map[string]string{}
	}
	d := catalogData{S: set, Errors: errs, Q: q}
	all, err := c.d.Lifecycle.List(ctx, s.account.ID, "")
	if err != nil {
		return d, fmt.Errorf("list integrations: %w", err)
	}
	dests := map[string]domain.CatalogDestination{}
	for _, x := range set.Destinations {
		dests[x.IntegrationID] = x
	}
	for _, i := range all {
		p, ok := c.d.Lifecycle.Provider(i.Type)
		if !ok || !p.Has(domain.CapProducts) || (!i.Status.Active() && i.ID != set.SourceIntegrationID && dests[i.ID].IntegrationID == "") {
			continue
		}
		label, status := i.Label(p.DisplayName), c.view(i).StatusLabel
		d.Sources = append(d.Sources, integrationOption{ID: i.ID, Label: label, Status: status, Selected: i.ID == set.SourceIntegrationID})
		if i.ID == set.SourceIntegrationID {
			continue // the source is not a destination of itself
		}
		dv := destinationView{ID: i.ID, Label: label, Status: status, EmptyOverwrites: true}
		owned := domain.DefaultOwnedFields()
		if x, on := dests[i.ID]; on {
			dv.On, dv.EmptyOverwrites, owned = true, x.EmptyOverwrites, x.OwnedFields
		}
		for _, f := range domain.ProductFields {
			dv.Fields = append(dv.Fields, fieldRow{Name: f, Label: fieldLabels[f], Owned: contains(owned, f)})
		}
		d.Destinations = append(d.Destinations, dv)
	}
	if d.Progress, err = c.d.Catalog.Progress(ctx, s.account.ID); err != nil {
		return d, err
	}
	if d.Progress.Total > 0 {
		d.Percent = int(d.Progress.Done * 100 / d.Progress.Total)
	}
	if d.Progress.Phase == domain.PhaseDone {
		d.Percent = 100
	}
	if d.SKUMatchOpen, err = c.d.Catalog.SKUMatchOpen(ctx, s.account.ID); err != nil {
		return d, err
	}
	if r := d.Progress.SKUMatches; r != nil {
		d.SKUSentence = r.Sentence()
		for _, m := range r.Examples {
			d.SKUMatches = append(d.SKUMatches, skuMatchRow{SKU: m.SKU, ProductID: m.ProductID, Shop: c.integrationName(all, m.IntegrationID), ExternalID: m.ExternalID})
		}
	}
	ps, err := c.d.Catalog.Products(ctx, s.account.ID, store.RecordFilter{Q: q, Limit: 25})
	if err != nil {
		return d, err
	}
	for _, p := range ps {
		row := productRow{ID: p.ID, Name: p.Name, SKU: p.SKU, Price: money(p.Price.Amount, p.Price.Currency), Links: "Not linked"}
		var names []string
		for _, l := range p.Links {
			names = append(names, c.integrationName(all, l.IntegrationID)+" #"+l.ExternalID)
		}
		if len(names) > 0 {
			row.Linked, row.Links = true, strings.Join(names, ", ")
		}
		d.Products = append(d.Products, row)
	}
	chs, err := c.d.Store.RecentCatalogChanges(ctx, s.account.ID, 10)
	if err != nil {
		return d, err
	}
	for _, ch := range chs {
		d.Changes = append(d.Changes, changeRow{At: ch.At.Format("2 Jan 15:04:05"), Record: ch.Record, RecordID: ch.RecordID, Action: ch.Action})
	}
	return d, nil
}

func (c *Console) integrationName(all []domain.Integration, id string) string {
	for _, i := range all {
		if i.ID == id {
			if p, ok := c.d.Lifecycle.Provider(i.Type); ok {
				return i.Label(p.DisplayName)
			}
		}
	}
	return id
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// catalogPage is the catalog sync page.
func (c *Console) catalogPage(w http.ResponseWriter, r *http.Request, s *session) {
	set, err := c.d.Catalog.Settings(r.Context(), s.account.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	d, err := c.buildCatalog(r.Context(), s, set, q, nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	p := c.newPage(r, s, "Catalog sync", "catalog-sync", d)
	if d.Progress.Running() {
		p.Refresh = 2
	}
	c.render(w, http.StatusOK, "catalog_sync", p)
}

// formCatalog reads the settings form: the source, the master toggle, and per shop whether it
// gets the products, the fields it owns and whether empty values overwrite.
func formCatalog(f url.Values) domain.CatalogSyncSettings {
	set := domain.CatalogSyncSettings{SourceIntegrationID: strings.TrimSpace(f.Get("source_integration_id")), Enabled: f.Get("enabled") == "on",
		Destinations: []domain.CatalogDestination{}}
	for _, id := range f["dest"] {
		if id == "" || id == set.SourceIntegrationID {
			continue
		}
		d := domain.CatalogDestination{IntegrationID: id, OwnedFields: []string{}, EmptyOverwrites: f.Get("empty_"+id) == "on"}
		for _, fld := range domain.ProductFields {
			if f.Get("own_"+id+"_"+fld) == "on" {
				d.OwnedFields = append(d.OwnedFields, fld)
			}
		}
		set.Destinations = append(set.Destinations, d)
	}
	return set
}

// catalogSave saves the settings, or shows them again with what to correct.
func (c *Console) catalogSave(w http.ResponseWriter, r *http.Request, s *session) {
	set := formCatalog(r.PostForm)
	if cur, err := c.d.Catalog.Settings(r.Context(), s.account.ID); err == nil { // the form does not show stock locations: keep them
		for i, d := range set.Destinations {
			for _, o := range cur.Destinations {
				if o.IntegrationID == d.IntegrationID {
					set.Destinations[i].StockLocations = o.StockLocations
				}
			}
		}
	}
	_, err := c.d.Catalog.SaveSettings(r.Context(), s.account.ID, s.actor(), set)
	if err == nil {
		http.Redirect(w, r, "/catalog-sync?msg=catalogsaved", http.StatusSeeOther)
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Code == domain.CodeInternal {
		c.serverError(w, r, s, fmt.Errorf("save catalog sync settings: %w", err))
		return
	}
	d, berr := c.buildCatalog(r.Context(), s, set, "", map[string]string{de.Field: de.Message})
	if berr != nil {
		c.fail(w, r, s, berr)
		return
	}
	p := c.newPage(r, s, "Catalog sync", "catalog-sync", d)
	p.Error = "The settings were not saved: " + de.Message
	c.render(w, http.StatusUnprocessableEntity, "catalog_sync", p)
}

// catalogImport starts an import pass.
func (c *Console) catalogImport(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := c.d.Catalog.StartImport(r.Context(), s.account.ID, s.actor(), r.PostFormValue("match_by_sku") == "on"); err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code == domain.CodeInternal {
			c.serverError(w, r, s, fmt.Errorf("start catalog import: %w", err))
			return
		}
		status := http.StatusConflict
		if de.Code == domain.CodeInvalid {
			status = http.StatusUnprocessableEntity
		}
		c.errorPage(w, r, s, status, "Import not started", de.Message)
		return
	}
	http.Redirect(w, r, "/catalog-sync?msg=importstarted", http.StatusSeeOther)
}
