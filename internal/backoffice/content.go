package backoffice

import (
	"fmt"
	"sort"

	"github.com/posbridge/posbridge/internal/domain"
)

// Content is what a store's POS terminals run with: the draft, and each published version.
type Content struct {
	Currency   string     `json:"currency"`
	Products   []Product  `json:"products"`
	Categories []Category `json:"categories"`
	TaxRates   []TaxRate  `json:"tax_rates"`
	Discounts  []Discount `json:"discounts"`
	Settings   Settings   `json:"settings"`
}

// Product is a product for the till, with its price in minor units.
type Product struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	SKU        string `json:"sku"`
	Price      int64  `json:"price"`
	CategoryID string `json:"category_id"`
	TaxRateID  string `json:"tax_rate_id"`
}

// Category groups products on the till.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TaxRate is a tax rate in basis points (2100 = 21%).
type TaxRate struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Rate int64  `json:"rate_bp"`
}

// Discount is a percentage discount in basis points.
type Discount struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Percent int64  `json:"percent_bp"`
}

// Settings are the POS settings: till settings and the receipt.
type Settings struct {
	ReceiptHeader     string `json:"receipt_header"`
	ReceiptFooter     string `json:"receipt_footer"`
	OpeningFloat      int64  `json:"opening_float"`
	RequireFloatCount bool   `json:"require_float_count"`
}

// Limits of a draft.
const (
	MaxProducts   = 5000
	MaxSmallLists = 200
	MaxReceiptLen = 500
)

// normalize fills nil lists so the JSON always has arrays.
func (c *Content) normalize() {
	if c.Products == nil {
		c.Products = []Product{}
	}
	if c.Categories == nil {
		c.Categories = []Category{}
	}
	if c.TaxRates == nil {
		c.TaxRates = []TaxRate{}
	}
	if c.Discounts == nil {
		c.Discounts = []Discount{}
	}
}

// Validate checks a draft, naming the field at fault.
func (c *Content) Validate() error {
	c.normalize()
	if err := domain.CheckText("currency", c.Currency, domain.TextCode); err != nil {
		return err
	}
	if len(c.Products) > MaxProducts {
		return domain.Invalid("products", "at most %d products", MaxProducts)
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"categories", len(c.Categories)}, {"tax_rates", len(c.TaxRates)}, {"discounts", len(c.Discounts)}} {
		if l.n > MaxSmallLists {
			return domain.Invalid(l.name, "at most %d %s", MaxSmallLists, l.name)
		}
	}
	idCheck := func(seen map[string]bool, f, id string) error {
		if id == "" {
			return domain.Invalid(f, "%s is required", f)
		}
		if err := domain.CheckText(f, id, domain.TextID); err != nil {
			return err
		}
		if seen[id] {
			return domain.Invalid(f, "the id %q is used twice", id)
		}
		seen[id] = true
		return nil
	}
	cats, taxes, discs, prods := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, x := range c.Categories {
		f := fmt.Sprintf("categories[%d]", i)
		if err := idCheck(cats, f+".id", x.ID); err != nil {
			return err
		}
		if err := nameCheck(f+".name", x.Name); err != nil {
			return err
		}
	}
	for i, x := range c.TaxRates {
		f := fmt.Sprintf("tax_rates[%d]", i)
		if err := idCheck(taxes, f+".id", x.ID); err != nil {
			return err
		}
		if err := nameCheck(f+".name", x.Name); err != nil {
			return err
		}
		if x.Rate < 0 || x.Rate > 100_000 {
			return domain.Invalid(f+".rate_bp", "%s.rate_bp must be 0 to 100000 basis points", f)
		}
	}
	for i, x := range c.Discounts {
		f := fmt.Sprintf("discounts[%d]", i)
		if err := idCheck(discs, f+".id", x.ID); err != nil {
			return err
		}
		if err := nameCheck(f+".name", x.Name); err != nil {
			return err
		}
		if x.Percent < 0 || x.Percent > 10_000 {
			return domain.Invalid(f+".percent_bp", "%s.percent_bp must be 0 to 10000 basis points", f)
		}
	}
	for i, p := range c.Products {
		f := fmt.Sprintf("products[%d]", i)
		if err := idCheck(prods, f+".id", p.ID); err != nil {
			return err
		}
		if err := nameCheck(f+".name", p.Name); err != nil {
			return err
		}
		if err := domain.CheckText(f+".sku", p.SKU, domain.TextRef); err != nil {
			return err
		}
		if err := domain.CheckAmount(f+".price", p.Price); err != nil {
			return err
		}
		if p.Price < 0 {
			return domain.Invalid(f+".price", "%s.price must not be negative", f)
		}
		if p.CategoryID != "" && !cats[p.CategoryID] {
			return domain.Invalid(f+".category_id", "there is no category %q in the draft", p.CategoryID)
		}
		if p.TaxRateID != "" && !taxes[p.TaxRateID] {
			return domain.Invalid(f+".tax_rate_id", "there is no tax rate %q in the draft", p.TaxRateID)
		}
	}
	s := c.Settings
	for _, t := range []struct{ f, v string }{{"settings.receipt_header", s.ReceiptHeader}, {"settings.receipt_footer", s.ReceiptFooter}} {
		if err := domain.CheckText(t.f, t.v, domain.TextKind{Max: MaxReceiptLen, Multiline: true}); err != nil {
			return err
		}
	}
	if err := domain.CheckAmount("settings.opening_float", s.OpeningFloat); err != nil {
		return err
	}
	if s.OpeningFloat < 0 {
		return domain.Invalid("settings.opening_float", "settings.opening_float must not be negative")
	}
	return nil
}

func nameCheck(f, v string) error {
	if v == "" {
		return domain.Invalid(f, "%s is required", f)
	}
	return domain.CheckText(f, v, domain.TextName)
}

// Diff describes, in sentences, what changed from old to new (old nil: the first version).
func Diff(old *Content, c Content) []string {
	out := []string{}
	if old == nil {
		return append(out, fmt.Sprintf("First version: %d product(s), %d categories, %d tax rate(s), %d discount(s)",
			len(c.Products), len(c.Categories), len(c.TaxRates), len(c.Discounts)))
	}
	if old.Currency != c.Currency {
		out = append(out, fmt.Sprintf("Currency %q -> %q", old.Currency, c.Currency))
	}
	op := map[string]Product{}
	for _, p := range old.Products {
		op[p.ID] = p
	}
	np := map[string]bool{}
	for _, p := range c.Products {
		np[p.ID] = true
		o, ok := op[p.ID]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("Product %q added at %d", p.Name, p.Price))
		case o != p:
			if o.Price != p.Price {
				out = append(out, fmt.Sprintf("Product %q price %d -> %d", p.Name, o.Price, p.Price))
			}
			if o.Name != p.Name {
				out = append(out, fmt.Sprintf("Product %q renamed to %q", o.Name, p.Name))
			}
			if o.SKU != p.SKU || o.CategoryID != p.CategoryID || o.TaxRateID != p.TaxRateID {
				out = append(out, fmt.Sprintf("Product %q: SKU, category or tax rate changed", p.Name))
			}
		}
	}
	var removed []string
	for id, p := range op {
		if !np[id] {
			removed = append(removed, fmt.Sprintf("Product %q removed", p.Name))
		}
	}
	sort.Strings(removed)
	out = append(out, removed...)
	if fmt.Sprint(old.Categories) != fmt.Sprint(c.Categories) {
		out = append(out, "Categories changed")
	}
	if fmt.Sprint(old.TaxRates) != fmt.Sprint(c.TaxRates) {
		out = append(out, "Tax rates changed")
	}
	if fmt.Sprint(old.Discounts) != fmt.Sprint(c.Discounts) {
		out = append(out, "Discounts changed")
	}
	if old.Settings.ReceiptHeader != c.Settings.ReceiptHeader || old.Settings.ReceiptFooter != c.Settings.ReceiptFooter {
		out = append(out, "Receipt header or footer changed")
	}
	if old.Settings.OpeningFloat != c.Settings.OpeningFloat || old.Settings.RequireFloatCount != c.Settings.RequireFloatCount {
		out = append(out, "Till settings changed")
	}
	if len(out) == 0 {
		out = append(out, "No changes")
	}
	return out
}
