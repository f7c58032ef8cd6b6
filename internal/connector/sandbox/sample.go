package sandbox

import (
	"fmt"
	"strconv"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// The sample data every new tenant starts with: the same for every key, so a restart (or a
// colleague's sandbox) shows the same shop.

type sampleProduct struct {
	name, sku, category, desc string
	price                     int64
	track                     bool
	weightG                   string
	variants                  []sampleVariant
}

type sampleVariant struct {
	name, sku string
	price     int64
}

var sampleCategories = map[string]string{
	"parts": "Parts", "accessories": "Accessories", "workshop": "Workshop", "drinks": "Drinks", "food": "Food",
}

var sampleCatalogue = []sampleProduct{
	{name: "Inner tube 28\"", sku: "BK-TUBE-28", category: "parts", price: 695, track: true, weightG: "110", desc: "Presta valve, 28 x 1.5-1.75."},
	{name: "Brake pads (pair)", sku: "BK-PAD-01", category: "parts", price: 1495, track: true, weightG: "40"},
	{name: "Chain 11-speed", sku: "BK-CHAIN-11", category: "parts", price: 3495, track: true, weightG: "257"},
	{name: "Tyre 700x35c", sku: "BK-TYRE-70035", category: "parts", price: 3995, track: true, weightG: "640", desc: "Puncture-resistant city tyre."},
	{name: "Light set LED", sku: "BK-LIGHT-SET", category: "accessories", price: 2495, track: true, weightG: "180"},
	{name: "Helmet Urban", sku: "BK-HELM", category: "accessories", price: 5995, track: true, weightG: "320", variants: []sampleVariant{
		{"Size S", "BK-HELM-S", 5995}, {"Size M", "BK-HELM-M", 5995}, {"Size L", "BK-HELM-L", 5995}}},
	{name: "Cycling gloves", sku: "BK-GLOVE", category: "accessories", price: 1995, track: true, variants: []sampleVariant{
		{"Size M", "BK-GLOVE-M", 1995}, {"Size L", "BK-GLOVE-L", 1995}}},
	{name: "Folding lock", sku: "BK-LOCK-F", category: "accessories", price: 3995, track: true, weightG: "1100"},
	{name: "Comfort saddle", sku: "BK-SADDLE-C", category: "parts", price: 4495, track: true, weightG: "420"},
	{name: "Flat pedals", sku: "BK-PEDAL-F", category: "parts", price: 2995, track: true, weightG: "380"},
	{name: "Bell", sku: "BK-BELL", category: "accessories", price: 595, track: true, weightG: "35"},
	{name: "Bottle cage", sku: "BK-CAGE", category: "accessories", price: 895, track: true, weightG: "45"},
	{name: "Basic service", sku: "WS-SERVICE-B", category: "workshop", price: 4500, desc: "Gears and brakes adjusted, tyres pumped, chain oiled."},
	{name: "Full service", sku: "WS-SERVICE-F", category: "workshop", price: 8900, desc: "Everything in the basic service plus wheels trued and bearings checked."},
	{name: "Puncture repair", sku: "WS-PUNCTURE", category: "workshop", price: 1250},
	{name: "Brake adjustment", sku: "WS-BRAKE", category: "workshop", price: 1500},
	{name: "Espresso", sku: "BAR-ESPRESSO", category: "drinks", price: 250},
	{name: "Cappuccino", sku: "BAR-CAPPU", category: "drinks", price: 320},
	{name: "Pilsner draught", sku: "BAR-PILS", category: "drinks", price: 350, track: true, variants: []sampleVariant{
		{"25 cl", "BAR-PILS-25", 350}, {"50 cl", "BAR-PILS-50", 600}}},
	{name: "IPA bottle 33 cl", sku: "BAR-IPA-33", category: "drinks", price: 550, track: true},
	{name: "House red wine (glass)", sku: "BAR-WINE-RED", category: "drinks", price: 550, track: true},
	{name: "Sparkling water", sku: "BAR-WATER-SP", category: "drinks", price: 300, track: true},
	{name: "Apple pie slice", sku: "BAR-PIE", category: "food", price: 425, track: true},
	{name: "Cheese toastie", sku: "BAR-TOASTIE", category: "food", price: 650, track: true},
}

var sampleCustomers = []struct{ first, last, email, phone string }{
	{"Anna", "de Vries", "anna.devries@example.com", "+31 6 1234 0001"},
	{"Bram", "Jansen", "bram.jansen@example.com", "+31 6 1234 0002"},
	{"Chloé", "Martin", "chloe.martin@example.com", ""},
	{"Daan", "Bakker", "daan.bakker@example.com", "+31 6 1234 0004"},
	{"Eva", "Visser", "eva.visser@example.com", ""},
	{"Finn", "O'Brien", "finn.obrien@example.com", "+353 87 123 0006"},
	{"Greta", "Smit", "greta.smit@example.com", ""},
	{"Hugo", "Meijer", "hugo.meijer@example.com", "+31 6 1234 0008"},
}

// SampleStoreID is the id of a new sandbox's first store ("Main Street"): the store its
// integration starts at and a --demo server's back office and terminal use.
const SampleStoreID = "st_main"

// sampleState builds a new tenant. nProducts 0 means the 24-product catalogue; more adds
// numbered sample products, fewer takes the first ones.
func sampleState(apiKey string, now time.Time, nProducts int) *state {
	st := newState(apiKey, now)
	st.Stores = []wireStore{
		{ID: SampleStoreID, Name: "Main Street", Currency: "EUR"},
		{ID: "st_harbour", Name: "Harbour Outlet", Currency: "EUR"},
	}
	if nProducts <= 0 {
		nProducts = len(sampleCatalogue)
	}
	var products []*productRec
	for i := 0; i < nProducts; i++ {
		var sp sampleProduct
		if i < len(sampleCatalogue) {
			sp = sampleCatalogue[i]
		} else {
			sp = sampleProduct{name: fmt.Sprintf("Sample product %d", i+1), sku: fmt.Sprintf("SMP-%05d", i+1),
				category: "accessories", price: int64(100 + (i*37)%5000), track: true}
		}
		// Products were last changed some days before the tenant existed, oldest first.
		at := now.Add(-time.Duration(nProducts-i) * time.Minute).Add(-30 * 24 * time.Hour)
		p := wireProduct{
			ID: st.newID("prd"), Name: sp.name, Description: sp.desc, SKU: sp.sku,
			Price:      domain.Money{Amount: sp.price, Currency: "EUR"},
			Categories: []domain.Category{{ID: "cat_" + sp.category, Name: sampleCategories[sp.category]}},
			TrackStock: sp.track, Version: 1, CreatedAt: at, UpdatedAt: at,
		}
		if sp.weightG != "" {
			p.Weight = &domain.Weight{Value: sp.weightG, Unit: "g"}
		}
		if i < len(sampleCatalogue) && i%5 == 0 {
			p.Barcode = fmt.Sprintf("87%011d", 1000000+i*7919)
		}
		for _, v := range sp.variants {
			p.Variants = append(p.Variants, wireVariant{ID: st.newID("var"), Name: v.name, SKU: v.sku,
				Price: domain.Money{Amount: v.price, Currency: "EUR"}, TrackStock: sp.track})
		}
		r := &productRec{Seq: st.next(), P: p}
		st.Products[p.ID] = r
		products = append(products, r)
	}
	for i, r := range products {
		if !r.P.TrackStock {
			continue
		}
		variants := []string{""}
		if len(r.P.Variants) > 0 {
			variants = variants[:0]
			for _, v := range r.P.Variants {
				variants = append(variants, v.ID)
			}
		}
		for si, s := range st.Stores {
			for vi, v := range variants {
				q := (i*7+si*5+vi*3)%23 + 2
				if si == 1 && i%4 == 0 {
					q = 0 // the outlet is out of a few things
				}
				row := wireStock{ProductID: r.P.ID, VariantID: v, LocationID: s.ID, Quantity: strconv.Itoa(q), UpdatedAt: r.P.UpdatedAt}
				st.Stock[stockKey(row.ProductID, row.VariantID, row.LocationID)] = &stockRec{Seq: st.next(), S: row}
			}
		}
	}
	var customers []string
	for i, c := range sampleCustomers {
		at := now.Add(-time.Duration(60-i) * 24 * time.Hour)
		cu := wireCustomer{ID: st.newID("cus"), Email: c.email, FirstName: c.first, LastName: c.last,
			Phone: c.phone, Version: 1, CreatedAt: at, UpdatedAt: at}
		st.Customers[cu.ID] = &custRec{Seq: st.next(), C: cu}
		customers = append(customers, cu.ID)
	}
	// A dozen completed sales over the twelve days before the tenant was created.
	for i := 0; i < 12; i++ {
		at := now.Add(-time.Duration(12-i) * 24 * time.Hour).Add(time.Duration(i%5) * time.Hour)
		var lines []wireLine
		for j := 0; j < 1+i%3; j++ {
			p := products[(i*5+j*7)%len(products)].P
			l := saleLine(p, strconv.Itoa(1+(i+j)%2))
			lines = append(lines, l)
		}
		customer := ""
		if i%3 == 0 {
			customer = customers[i%len(customers)]
		}
		st.addSale(st.Stores[i%2].ID, customer, lines, at)
	}
	st.changes = nil // a new tenant is saved whole
	return st
}

// saleLine sells quantity of p (its first variant, when it has variants).
func saleLine(p wireProduct, quantity string) wireLine {
	l := wireLine{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Quantity: quantity, UnitPrice: p.Price, TaxRate: "21"}
	if len(p.Variants) > 0 {
		v := p.Variants[0]
		l.VariantID, l.SKU, l.Name, l.UnitPrice = v.ID, v.SKU, p.Name+" "+v.Name, v.Price
	}
	if cat := p.Categories; len(cat) > 0 && (cat[0].ID == "cat_drinks" || cat[0].ID == "cat_food") {
		l.TaxRate = "9"
	}
	l.Total = domain.Money{Amount: lineTotal(l.Quantity, l.UnitPrice.Amount), Currency: l.UnitPrice.Currency}
	return l
}

// addSale records a completed sale.
func (st *state) addSale(storeID, customerID string, lines []wireLine, at time.Time) *saleRec {
	var total int64
	for _, l := range lines {
		total += l.Total.Amount
	}
	id := st.newID("sal")
	s := wireSale{ID: id, Number: fmt.Sprintf("S-%05d", 1000+len(st.Sales)+1), StoreID: storeID, Status: "completed",
		CustomerID: customerID, Lines: lines, Total: domain.Money{Amount: total, Currency: "EUR"},
		CompletedAt: at, UpdatedAt: at}
	r := &saleRec{Seq: st.next(), S: s}
	st.Sales[id] = r
	st.mark(collSales, id)
	return r
}
