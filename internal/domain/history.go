package domain

import (
	"reflect"
	"slices"
)

// ProductDiff lists the fields of a product that differ between a and b, with their values
// before and after: name, description, sku, barcode, price, weight, categories, track_stock, and
// per variant (by id) variants[<id>] when one is added or removed, variants[<id>].<field> when
// one changes. Ids, versions and times are not fields of the product.
func ProductDiff(a, b Product) []FieldChange {
	var out []FieldChange
	add := func(field string, from, to any) { out = append(out, FieldChange{Field: field, From: from, To: to}) }
	if a.Name != b.Name {
		add("name", a.Name, b.Name)
	}
	if a.Description != b.Description {
		add("description", a.Description, b.Description)
	}
	if a.SKU != b.SKU {
		add("sku", a.SKU, b.SKU)
	}
	if a.Barcode != b.Barcode {
		add("barcode", a.Barcode, b.Barcode)
	}
	if a.Price != b.Price {
		add("price", a.Price, b.Price)
	}
	if !reflect.DeepEqual(a.Weight, b.Weight) {
		add("weight", nilIfNone(a.Weight), nilIfNone(b.Weight))
	}
	if !slices.Equal(a.Categories, b.Categories) && (len(a.Categories) > 0 || len(b.Categories) > 0) {
		add("categories", nilIfEmpty(a.Categories), nilIfEmpty(b.Categories))
	}
	if a.TrackStock != b.TrackStock {
		add("track_stock", a.TrackStock, b.TrackStock)
	}
	old := map[string]Variant{}
	for _, v := range a.Variants {
		old[v.ID] = v
	}
	seen := map[string]bool{}
	for _, v := range b.Variants {
		seen[v.ID] = true
		o, ok := old[v.ID]
		f := "variants[" + v.ID + "]"
		v.Version = ""
		if !ok {
			add(f, nil, v)
			continue
		}
		if o.Name != v.Name {
			add(f+".name", o.Name, v.Name)
		}
		if o.SKU != v.SKU {
			add(f+".sku", o.SKU, v.SKU)
		}
		if o.Barcode != v.Barcode {
			add(f+".barcode", o.Barcode, v.Barcode)
		}
		if o.Price != v.Price {
			add(f+".price", o.Price, v.Price)
		}
		if o.TrackStock != v.TrackStock {
			add(f+".track_stock", o.TrackStock, v.TrackStock)
		}
	}
	for _, v := range a.Variants {
		if !seen[v.ID] {
			v.Version = ""
			add("variants["+v.ID+"]", v, nil)
		}
	}
	return out
}

// CustomerDiff lists the fields of a customer that differ between a and b.
func CustomerDiff(a, b Customer) []FieldChange {
	var out []FieldChange
	for _, f := range []struct{ name, a, b string }{
		{"email", a.Email, b.Email}, {"first_name", a.FirstName, b.FirstName}, {"last_name", a.LastName, b.LastName},
		{"phone", a.Phone, b.Phone}, {"reference", a.Reference, b.Reference},
	} {
		if f.a != f.b {
			out = append(out, FieldChange{Field: f.name, From: f.a, To: f.b})
		}
	}
	return out
}

// StockField is the history field of a stock level: stock.<location> or stock.<location>/<variant>.
func StockField(l StockLevel) string {
	if l.VariantID != "" {
		return "stock." + l.LocationID + "/" + l.VariantID
	}
	return "stock." + l.LocationID
}

// DeletedChange is the history change of a record deleted in the source (or back again).
func DeletedChange(deleted bool) FieldChange {
	return FieldChange{Field: "deleted", From: !deleted, To: deleted}
}

func nilIfNone(w *Weight) any {
	if w == nil {
		return nil
	}
	return *w
}

func nilIfEmpty(c []Category) any {
	if len(c) == 0 {
		return nil
	}
	return c
}
