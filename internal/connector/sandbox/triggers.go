package sandbox

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// The admin actions that do what a merchant does in a POS's back office, each sending the
// webhooks a POS sends: a product saved on its edit page (product.updated), a product CSV
// imported (product.created or product.updated per row), a stock count, a stock order received
// (stock_order.received), a transfer between stores (transfer.received) and a stock adjustment,
// each followed by inventory.updated for every level it changed. A sale (POST /sandbox/admin/sales)
// takes what it sells from the store's stock and a refund puts it back, with inventory.updated.

// Event types of the back-office actions.
const (
	EventProductCreated     = "product.created"
	EventProductUpdated     = "product.updated"
	EventInventoryUpdated   = "inventory.updated"
	EventStockOrderReceived = "stock_order.received"
	EventTransferReceived   = "transfer.received"
)

// pendingEvent is a webhook event an action sends once its change is saved.
type pendingEvent struct {
	typ string
	obj any
}

// stockLineIn is one line of a stock count, order, transfer or adjustment.
type stockLineIn struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Quantity  string `json:"quantity"`
	Reason    string `json:"reason"`
}

// maxStockLines caps the lines of one stock action.
const maxStockLines = 500

// formatQuantity writes a quantity with at most five decimals and no trailing zeros.
func formatQuantity(r *big.Rat) string {
	s := r.FloatString(5)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// moveStock changes a level of a product that tracks stock: set it to q, or add q to it.
// Untracked products (and lines without a product) are left alone; ok says whether it moved.
func (st *state) moveStock(productID, variantID, locationID string, q *big.Rat, set bool, now func() time.Time) (wireStock, bool) {
	p := st.Products[productID]
	if p == nil || !p.P.TrackStock {
		return wireStock{}, false
	}
	if len(p.P.Variants) > 0 && variantID == "" {
		variantID = p.P.Variants[0].ID
	}
	sk := stockKey(productID, variantID, locationID)
	cur := new(big.Rat)
	if r := st.Stock[sk]; r != nil {
		if v, ok := new(big.Rat).SetString(r.S.Quantity); ok {
			cur = v
		}
	}
	next := new(big.Rat).Set(q)
	if !set {
		next.Add(cur, q)
	}
	l := wireStock{ProductID: productID, VariantID: variantID, LocationID: locationID, Quantity: formatQuantity(next), UpdatedAt: now()}
	st.Stock[sk] = &stockRec{Seq: st.next(), S: l}
	st.mark(collStock, sk)
	return l, true
}

// checkStockLines validates the lines of a stock action at location loc; signed allows negative
// quantities (an adjustment).
func (st *state) checkStockLines(lines []stockLineIn, loc string, signed bool) ([]*big.Rat, *apiError) {
	if len(lines) == 0 || len(lines) > maxStockLines {
		return nil, invalid("lines", "lines must hold 1 to %d items", maxStockLines)
	}
	out := make([]*big.Rat, len(lines))
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		re := quantityRe
		if signed {
			re = stockQuantityRe
		}
		if !re.MatchString(l.Quantity) {
			return nil, invalid(f+".quantity", "%s.quantity must be a decimal number such as 12%s", f, map[bool]string{true: " or -1.5", false: ""}[signed])
		}
		if len(l.Reason) > 200 {
			return nil, invalid(f+".reason", "%s.reason is longer than 200 bytes", f)
		}
		if e := st.checkStock(wireStock{ProductID: l.ProductID, VariantID: l.VariantID, LocationID: loc, Quantity: l.Quantity}); e != nil {
			e.field = f + "." + e.field
			return nil, e
		}
		out[i], _ = new(big.Rat).SetString(l.Quantity)
	}
	return out, nil
}

// defaultStore is the store an action names, or the first one.
func (st *state) defaultStore(id, field string) (string, *apiError) {
	if id == "" {
		return st.Stores[0].ID, nil
	}
	if _, ok := st.store(id); !ok {
		return "", invalid(field, "store %q not found", id)
	}
	return id, nil
}

// stockAction is the answer of a stock action.
type stockAction struct {
	ID     string      `json:"id"`
	Kind   string      `json:"kind"`
	Levels []wireStock `json:"levels"`
}

// adminStock performs a stock count (kind "count": each line's quantity is the level counted),
// a received stock order ("order": added), a transfer ("transfer": moved from from_store_id to
// store_id) or an adjustment ("adjustment": added, negative to take away).
func (s *Server) adminStock(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			APIKey        string        `json:"api_key"`
			IntegrationID string        `json:"integration_id"`
			StoreID       string        `json:"store_id"`
			FromStoreID   string        `json:"from_store_id"`
			Lines         []stockLineIn `json:"lines"`
		}
		ref, e := adminBody(w, r, &in, func() adminRef { return adminRef{in.APIKey, in.IntegrationID} })
		if e != nil {
			writeErr(w, e)
			return
		}
		t, ok := s.adminTenant(w, r, ref)
		if !ok {
			return
		}
		defer s.release(t)
		var (
			out   stockAction
			evs   []pendingEvent
			hooks []hookRec
		)
		e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
			loc, e := st.defaultStore(in.StoreID, "store_id")
			if e != nil {
				return false, e
			}
			from := ""
			if kind == "transfer" {
				if in.FromStoreID == "" {
					return false, invalid("from_store_id", "from_store_id is required: the store the stock leaves")
				}
				if from, e = st.defaultStore(in.FromStoreID, "from_store_id"); e != nil {
					return false, e
				}
				if from == loc {
					return false, invalid("store_id", "a transfer goes to another store than the one it leaves")
				}
			}
			qs, e := st.checkStockLines(in.Lines, loc, kind == "adjustment")
			if e != nil {
				return false, e
			}
			now := s.now
			out = stockAction{ID: st.newID(map[string]string{"count": "cnt", "order": "sto", "transfer": "trf", "adjustment": "adj"}[kind]), Kind: kind, Levels: []wireStock{}}
			for i, l := range in.Lines {
				if kind == "transfer" {
					if lv, ok := st.moveStock(l.ProductID, l.VariantID, from, new(big.Rat).Neg(qs[i]), false, now); ok {
						out.Levels = append(out.Levels, lv)
					}
				}
				if lv, ok := st.moveStock(l.ProductID, l.VariantID, loc, qs[i], kind == "count", now); ok {
					out.Levels = append(out.Levels, lv)
				}
			}
			switch kind {
			case "order":
				evs = append(evs, pendingEvent{EventStockOrderReceived, out})
			case "transfer":
				evs = append(evs, pendingEvent{EventTransferReceived, out})
			}
			for _, lv := range out.Levels {
				evs = append(evs, pendingEvent{EventInventoryUpdated, lv})
			}
			hooks = s.hooksOf(st)
			return true, nil
		})
		if e != nil {
			writeErr(w, e)
			return
		}
		s.emitAll(t, hooks, evs)
		writeJSON(w, http.StatusOK, out)
	}
}

// emitAll sends the events in order.
func (s *Server) emitAll(t *tenant, hooks []hookRec, evs []pendingEvent) {
	for _, ev := range evs {
		s.emit(t, hooks, ev.typ, ev.obj)
	}
}

// saleStock takes a sale's lines from (or, refunding, puts them back into) its store's stock.
func (st *state) saleStock(sale wireSale, refund bool, now func() time.Time) []pendingEvent {
	var evs []pendingEvent
	for _, l := range sale.Lines {
		q, ok := new(big.Rat).SetString(l.Quantity)
		if !ok || l.ProductID == "" {
			continue
		}
		if !refund {
			q.Neg(q)
		}
		if lv, ok := st.moveStock(l.ProductID, l.VariantID, sale.StoreID, q, false, now); ok {
			evs = append(evs, pendingEvent{EventInventoryUpdated, lv})
		}
	}
	return evs
}

// productEdit is the body of a product saved on its edit page: the fields given change.
type productEdit struct {
	APIKey        string         `json:"api_key"`
	IntegrationID string         `json:"integration_id"`
	Name          *string        `json:"name"`
	Description   *string        `json:"description"`
	SKU           *string        `json:"sku"`
	Barcode       *string        `json:"barcode"`
	Price         *domain.Money  `json:"price"`
	Weight        *domain.Weight `json:"weight"`
}

// adminSaveProduct saves a product as its edit page does (the fields given change; none still
// saves it, giving it a new version) and sends product.updated.
func (s *Server) adminSaveProduct(w http.ResponseWriter, r *http.Request) {
	var in productEdit
	ref, e := adminBody(w, r, &in, func() adminRef { return adminRef{in.APIKey, in.IntegrationID} })
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, ref)
	if !ok {
		return
	}
	defer s.release(t)
	id := r.PathValue("id")
	var (
		out   wireProduct
		hooks []hookRec
	)
	e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		cur := st.Products[id]
		if cur == nil {
			return false, notFound("product", id)
		}
		p := cur.P
		p.Variants = append([]wireVariant(nil), p.Variants...)
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.SKU != nil {
			p.SKU = *in.SKU
		}
		if in.Barcode != nil {
			p.Barcode = *in.Barcode
		}
		if in.Price != nil {
			p.Price = *in.Price
		}
		if in.Weight != nil {
			p.Weight = in.Weight
		}
		p.Version = 0
		saved, e := st.saveProduct(p, id, s.now())
		out, hooks = saved, s.hooksOf(st)
		return e == nil, e
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emit(t, hooks, EventProductUpdated, out)
	writeJSON(w, http.StatusOK, out)
}

// maxImportRows caps the rows of one product CSV.
const maxImportRows = 1000

// importAnswer says what a product CSV import did.
type importAnswer struct {
	Created  int           `json:"created"`
	Updated  int           `json:"updated"`
	Products []wireProduct `json:"products"`
}

// adminImportProducts imports a product CSV as a POS's back office does: a header line naming
// the columns (sku and name required; price, description, barcode optional; price in major
// units such as 12.50), one product a line. A row whose sku a product has updates that product,
// any other creates one. A bad row imports nothing and is named by its line. Each product sends
// product.created or product.updated.
func (s *Server) adminImportProducts(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APIKey        string `json:"api_key"`
		IntegrationID string `json:"integration_id"`
		CSV           string `json:"csv"`
	}
	ref, e := adminBody(w, r, &in, func() adminRef { return adminRef{in.APIKey, in.IntegrationID} })
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, ref)
	if !ok {
		return
	}
	defer s.release(t)
	rows, e := parseProductCSV(in.CSV)
	if e != nil {
		writeErr(w, e)
		return
	}
	var (
		out   = importAnswer{Products: []wireProduct{}}
		evs   []pendingEvent
		hooks []hookRec
	)
	e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		bySKU := map[string]string{}
		for id, p := range st.Products {
			if p.P.SKU != "" {
				bySKU[p.P.SKU] = id
			}
		}
		for i, row := range rows {
			id := bySKU[row.SKU]
			p := row.wireProduct
			if id != "" {
				cur := st.Products[id].P
				p.TrackStock, p.Weight, p.Categories, p.Variants = cur.TrackStock, cur.Weight, cur.Categories, cur.Variants
				if !row.hasDescription {
					p.Description = cur.Description
				}
				if !row.hasBarcode {
					p.Barcode = cur.Barcode
				}
				if !row.hasPrice {
					p.Price = cur.Price
				}
			}
			saved, e := st.saveProduct(p, id, s.now())
			if e != nil {
				e.message = fmt.Sprintf("line %d: %s", i+2, e.message)
				e.field = "csv"
				return false, e
			}
			typ := EventProductUpdated
			if id == "" {
				typ = EventProductCreated
				out.Created++
				bySKU[saved.SKU] = saved.ID
			} else {
				out.Updated++
			}
			out.Products = append(out.Products, saved)
			evs = append(evs, pendingEvent{typ, saved})
		}
		hooks = s.hooksOf(st)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emitAll(t, hooks, evs)
	writeJSON(w, http.StatusOK, out)
}

type csvProduct struct {
	wireProduct
	hasDescription, hasBarcode, hasPrice bool
}

// parseProductCSV reads a product CSV (see adminImportProducts); errors name field csv and a line.
func parseProductCSV(text string) ([]csvProduct, *apiError) {
	rd := csv.NewReader(strings.NewReader(text))
	rd.FieldsPerRecord = -1
	head, err := rd.Read()
	if err == io.EOF {
		return nil, invalid("csv", "csv is empty: give a header line (sku,name,price,description,barcode) and one product a line")
	}
	if err != nil {
		return nil, invalid("csv", "line 1: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "sku", "name", "price", "description", "barcode":
		default:
			return nil, invalid("csv", "line 1: unknown column %q; the columns are sku, name, price, description and barcode", truncate(h, 40))
		}
		if _, dup := col[h]; dup {
			return nil, invalid("csv", "line 1: column %q is named twice", h)
		}
		col[h] = i
	}
	if _, ok := col["sku"]; !ok {
		return nil, invalid("csv", "line 1: the sku column is required")
	}
	if _, ok := col["name"]; !ok {
		return nil, invalid("csv", "line 1: the name column is required")
	}
	var out []csvProduct
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalid("csv", "line %d: %v", line, err)
		}
		if len(out) == maxImportRows {
			return nil, invalid("csv", "a CSV imports at most %d products", maxImportRows)
		}
		get := func(c string) (string, bool) {
			i, ok := col[c]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		var p csvProduct
		p.SKU, _ = get("sku")
		p.Name, _ = get("name")
		if p.SKU == "" {
			return nil, invalid("csv", "line %d: the sku is empty", line)
		}
		p.Description, p.hasDescription = get("description")
		p.Barcode, p.hasBarcode = get("barcode")
		if v, ok := get("price"); ok && v != "" {
			amount, err := connector.ParseMinor(v, 2)
			if err != nil {
				return nil, invalid("csv", "line %d: price %q is not an amount such as 12.50", line, truncate(v, 40))
			}
			p.Price, p.hasPrice = domain.Money{Amount: amount, Currency: "EUR"}, true
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, invalid("csv", "the CSV has a header but no products")
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
