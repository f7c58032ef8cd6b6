package lightspeed

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The simulator's back office: what a merchant does in Lightspeed's web app, each sending the
// webhooks Lightspeed sends. A product saved on its edit page and each product of a CSV import
// send product.update; a sale sends sale.update; a return (refund or exchange) is a new sale with
// the returned lines negative; a stock count (inventory count), a stock order received (a
// SUPPLIER consignment), a transfer (an OUTLET consignment: consignment.send, then
// consignment.receive) and a stock adjustment each send inventory.update for every level they
// change, as a sale and a return do. They are Go methods (tests in-process) and routes under
// /simulator/ with the simulator's token, answering {"data": ...} or a Lightspeed error body:
//
//	POST /simulator/products/{id}/save  {name, description, sku, price_excluding_tax}
//	POST /simulator/products/import     {csv: "sku,name,price_excluding_tax,description\n..."}
//	POST /simulator/sales               {outlet_id, lines: [{product_id, quantity}]}
//	POST /simulator/sales/{id}/return   {lines: [...]}  (lines: what the customer takes instead)
//	POST /simulator/stocktakes          {outlet_id, lines: [{product_id, quantity}]}
//	POST /simulator/consignments        {type: SUPPLIER|OUTLET, outlet_id, source_outlet_id, lines}
//	POST /simulator/adjustments         {outlet_id, lines: [{product_id, quantity (signed)}]}

// Consignment webhook types (Lightspeed sends them for stock orders and transfers).
const (
	TopicConsignmentSend    = "consignment.send"
	TopicConsignmentReceive = "consignment.receive"
)

// SimLine is one line of a back-office action: a product and a quantity (a decimal).
type SimLine struct {
	ProductID string      `json:"product_id"`
	Quantity  json.Number `json:"quantity"`
}

// ProductEdit is a save on a product's edit page; nil fields stay.
type ProductEdit struct {
	Name              *string     `json:"name"`
	Description       *string     `json:"description"`
	SKU               *string     `json:"sku"`
	PriceExcludingTax json.Number `json:"price_excluding_tax"`
}

// errSim is a refused back-office action; its text is the error message.
type errSim struct {
	status int
	msg    string
}

func (e *errSim) Error() string { return e.msg }

func simErr(status int, format string, args ...any) error {
	return &errSim{status: status, msg: fmt.Sprintf(format, args...)}
}

type simEvent struct {
	typ     string
	payload map[string]any
}

func (s *Simulator) emitEvents(evs []simEvent) {
	for _, ev := range evs {
		s.emit(ev.typ, ev.payload)
	}
}

// SaveProduct saves a product as its edit page does (a save without changes still gives it a
// new version) and sends product.update.
func (s *Simulator) SaveProduct(id string, e ProductEdit) (map[string]any, error) {
	s.mu.Lock()
	p, ok := s.products[id]
	if !ok || p.DeletedAt != nil {
		s.mu.Unlock()
		return nil, simErr(http.StatusNotFound, "Product not found")
	}
	var excl *big.Rat
	if e.PriceExcludingTax != "" {
		if excl, ok = ratOf(e.PriceExcludingTax); !ok || excl.Sign() < 0 {
			s.mu.Unlock()
			return nil, simErr(http.StatusBadRequest, "price_excluding_tax must be a non-negative number")
		}
	}
	if e.Name != nil && strings.TrimSpace(*e.Name) == "" {
		s.mu.Unlock()
		return nil, simErr(http.StatusBadRequest, "name cannot be empty")
	}
	if e.Name != nil {
		p.Name = *e.Name
	}
	if e.Description != nil {
		p.Description = *e.Description
	}
	if e.SKU != nil {
		p.SKU = *e.SKU
		if p.SKU != "" && !hasCode(p.Codes, p.SKU) {
			p.Codes = append([]apiProductCode{{Type: "CUSTOM", Code: p.SKU}}, p.Codes...)
		}
	}
	if excl != nil {
		s.setPrices(p, nil, excl)
	}
	p.UpdatedAt, p.Version = s.now(), s.nextVersion()
	payload := s.productJSON(p)
	s.mu.Unlock()
	s.emit(TopicProduct, payload)
	return payload, nil
}

// ImportProductsCSV imports a product CSV as the web app does: a header naming the columns (sku
// and name required; price_excluding_tax and description optional), one product a line; a sku
// a product has updates it, any other creates one. A bad line imports nothing. Every product
// sends product.update. It answers the ids, in the file's order.
func (s *Simulator) ImportProductsCSV(text string) ([]string, error) {
	type row struct {
		sku, name, desc string
		hasDesc         bool
		excl            *big.Rat
	}
	rd := csv.NewReader(strings.NewReader(text))
	rd.FieldsPerRecord = -1
	head, err := rd.Read()
	if err != nil {
		return nil, simErr(http.StatusBadRequest, "line 1: a header line is required (sku,name,price_excluding_tax,description)")
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "sku", "name", "price_excluding_tax", "description":
			col[h] = i
		default:
			return nil, simErr(http.StatusBadRequest, "line 1: unknown column %q", h)
		}
	}
	if _, ok := col["sku"]; !ok {
		return nil, simErr(http.StatusBadRequest, "line 1: the sku column is required")
	}
	if _, ok := col["name"]; !ok {
		return nil, simErr(http.StatusBadRequest, "line 1: the name column is required")
	}
	var rows []row
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, simErr(http.StatusBadRequest, "line %d: %v", line, err)
		}
		get := func(c string) (string, bool) {
			i, ok := col[c]
			if !ok || i >= len(rec) {
				return "", false
			}
			return strings.TrimSpace(rec[i]), true
		}
		var r row
		r.sku, _ = get("sku")
		r.name, _ = get("name")
		r.desc, r.hasDesc = get("description")
		if r.sku == "" || r.name == "" {
			return nil, simErr(http.StatusBadRequest, "line %d: sku and name are required", line)
		}
		if v, ok := get("price_excluding_tax"); ok && v != "" {
			x, ok := ratOf(json.Number(v))
			if !ok || x.Sign() < 0 {
				return nil, simErr(http.StatusBadRequest, "line %d: price_excluding_tax %q is not a number", line, v)
			}
			r.excl = x
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, simErr(http.StatusBadRequest, "the CSV has no products")
	}
	s.mu.Lock()
	bySKU := map[string]*simProduct{}
	for _, p := range s.products {
		if p.DeletedAt == nil && p.SKU != "" {
			bySKU[p.SKU] = p
		}
	}
	var evs []simEvent
	var ids []string
	for _, r := range rows {
		p := bySKU[r.sku]
		if p == nil {
			p = s.addProductLocked(simProduct{Name: r.name, SKU: r.sku, Description: r.desc, Excl: r.excl}, nil)
			bySKU[r.sku] = p
		} else {
			p.Name = r.name
			if r.hasDesc {
				p.Description = r.desc
			}
			if r.excl != nil {
				s.setPrices(p, nil, r.excl)
			}
			p.UpdatedAt, p.Version = s.now(), s.nextVersion()
		}
		ids = append(ids, p.ID)
		evs = append(evs, simEvent{TopicProduct, s.productJSON(p)})
	}
	s.mu.Unlock()
	s.emitEvents(evs)
	return ids, nil
}

// outletOr is the outlet named, or the first one.
func (s *Simulator) outletOr(id string) (string, error) {
	if id == "" {
		return s.outlets[0].ID, nil
	}
	if !s.hasOutlet(id) {
		return "", simErr(http.StatusBadRequest, "Unknown outlet_id %s", id)
	}
	return id, nil
}

// checkLines validates the lines of an action; signed allows negative quantities.
func (s *Simulator) checkLines(lines []SimLine, signed bool) ([]*big.Rat, error) {
	if len(lines) == 0 || len(lines) > 500 {
		return nil, simErr(http.StatusBadRequest, "lines must hold 1 to 500 items")
	}
	qs := make([]*big.Rat, len(lines))
	for i, l := range lines {
		p, ok := s.products[l.ProductID]
		if !ok || p.DeletedAt != nil {
			return nil, simErr(http.StatusBadRequest, "lines[%d]: product %q not found", i, l.ProductID)
		}
		q, ok := ratOf(l.Quantity)
		if !ok || (!signed && q.Sign() < 0) {
			return nil, simErr(http.StatusBadRequest, "lines[%d]: quantity must be a number%s", i, map[bool]string{true: "", false: " not below zero"}[signed])
		}
		qs[i] = q
	}
	return qs, nil
}

// moveLocked sets (set) or changes a product's level at an outlet; untracked products are left.
func (s *Simulator) moveLocked(productID, outletID string, q *big.Rat, set bool) (map[string]any, bool) {
	p := s.products[productID]
	if p == nil || !p.TrackStock {
		return nil, false
	}
	rec, ok := s.inventory[productID+"/"+outletID]
	if !ok {
		rec = &simInventory{ID: s.newID(), ProductID: productID, OutletID: outletID, Level: new(big.Rat)}
		s.inventory[productID+"/"+outletID] = rec
	}
	if set {
		rec.Level = new(big.Rat).Set(q)
	} else {
		rec.Level = new(big.Rat).Add(rec.Level, q)
	}
	rec.UpdatedAt, rec.Version = s.now(), s.nextVersion()
	return s.inventoryJSON(rec), true
}

// StockAction is what a back-office stock action did: its id and the levels it set.
type StockAction struct {
	ID     string           `json:"id"`
	Levels []map[string]any `json:"levels"`
}

// Stocktake completes an inventory count at an outlet: each line's quantity is what was counted.
func (s *Simulator) Stocktake(outletID string, lines []SimLine) (StockAction, error) {
	return s.stockAction(outletID, lines, false, func(qs []*big.Rat, out string) ([]simEvent, error) {
		var evs []simEvent
		for i, l := range lines {
			if inv, ok := s.moveLocked(l.ProductID, out, qs[i], true); ok {
				evs = append(evs, simEvent{TopicInventory, inv})
			}
		}
		return evs, nil
	})
}

// Adjust completes a stock adjustment at an outlet: each line's quantity is added (negative:
// taken away).
func (s *Simulator) Adjust(outletID string, lines []SimLine) (StockAction, error) {
	return s.stockAction(outletID, lines, true, func(qs []*big.Rat, out string) ([]simEvent, error) {
		var evs []simEvent
		for i, l := range lines {
			if inv, ok := s.moveLocked(l.ProductID, out, qs[i], false); ok {
				evs = append(evs, simEvent{TopicInventory, inv})
			}
		}
		return evs, nil
	})
}

// ReceiveConsignment receives a consignment at outletID: a SUPPLIER one (a stock order) adds its
// lines; an OUTLET one (a transfer) moves them from sourceOutletID, sending consignment.send
// first. Both send consignment.receive.
func (s *Simulator) ReceiveConsignment(typ, outletID, sourceOutletID string, lines []SimLine) (StockAction, error) {
	typ = strings.ToUpper(typ)
	if typ != "SUPPLIER" && typ != "OUTLET" {
		return StockAction{}, simErr(http.StatusBadRequest, "type must be SUPPLIER or OUTLET")
	}
	return s.stockAction(outletID, lines, false, func(qs []*big.Rat, out string) ([]simEvent, error) {
		src := ""
		if typ == "OUTLET" {
			if sourceOutletID == "" || !s.hasOutlet(sourceOutletID) {
				return nil, simErr(http.StatusBadRequest, "source_outlet_id must name another outlet")
			}
			if sourceOutletID == out {
				return nil, simErr(http.StatusBadRequest, "a transfer goes to another outlet than its source")
			}
			src = sourceOutletID
		}
		now := ts(s.now())
		cons := map[string]any{"id": s.newID(), "type": typ, "status": "RECEIVED", "outlet_id": out, "source_outlet_id": nilIfEmpty(src),
			"name": fmt.Sprintf("%s consignment", strings.ToLower(typ)), "received_at": now, "version": s.nextVersion()}
		var prods []map[string]any
		for i, l := range lines {
			prods = append(prods, map[string]any{"product_id": l.ProductID, "count": numOf(qs[i]), "received": numOf(qs[i])})
		}
		cons["products"] = prods
		var evs []simEvent
		if src != "" {
			sent := map[string]any{}
			for k, v := range cons {
				sent[k] = v
			}
			sent["status"] = "SENT"
			evs = append(evs, simEvent{TopicConsignmentSend, sent})
		}
		evs = append(evs, simEvent{TopicConsignmentReceive, cons})
		for i, l := range lines {
			if src != "" {
				if inv, ok := s.moveLocked(l.ProductID, src, new(big.Rat).Neg(qs[i]), false); ok {
					evs = append(evs, simEvent{TopicInventory, inv})
				}
			}
			if inv, ok := s.moveLocked(l.ProductID, out, qs[i], false); ok {
				evs = append(evs, simEvent{TopicInventory, inv})
			}
		}
		return evs, nil
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Simulator) stockAction(outletID string, lines []SimLine, signed bool, do func(qs []*big.Rat, outlet string) ([]simEvent, error)) (StockAction, error) {
	s.mu.Lock()
	out, err := s.outletOr(outletID)
	if err != nil {
		s.mu.Unlock()
		return StockAction{}, err
	}
	qs, err := s.checkLines(lines, signed)
	if err != nil {
		s.mu.Unlock()
		return StockAction{}, err
	}
	evs, err := do(qs, out)
	if err != nil {
		s.mu.Unlock()
		return StockAction{}, err
	}
	act := StockAction{ID: s.newID(), Levels: []map[string]any{}}
	for _, ev := range evs {
		if ev.typ == TopicInventory {
			act.Levels = append(act.Levels, ev.payload)
		}
	}
	s.mu.Unlock()
	s.emitEvents(evs)
	return act, nil
}

// Sell closes a sale at an outlet's register, at each product's price, taking the lines from the
// outlet's stock; it sends sale.update and inventory.update.
func (s *Simulator) Sell(outletID string, lines []SimLine) (string, error) {
	s.mu.Lock()
	out, err := s.outletOr(outletID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	qs, err := s.checkLines(lines, false)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	id, evs := s.closeSaleLocked(out, lines, qs)
	s.mu.Unlock()
	s.emitEvents(evs)
	return id, nil
}

// closeSaleLocked records a closed sale (negative quantities are returns) and moves the stock.
func (s *Simulator) closeSaleLocked(outletID string, lines []SimLine, qs []*big.Rat) (string, []simEvent) {
	reg := s.registers[0]
	for _, r := range s.registers {
		if r.OutletID == outletID {
			reg = r
			break
		}
	}
	now := s.now()
	s.invoiceSeq++
	sl := &simSale{ID: s.newID(), RegisterID: reg.ID, OutletID: outletID, UserID: s.users[0].ID, Invoice: strconv.Itoa(s.invoiceSeq),
		Status: "CLOSED", SaleDate: now, CreatedAt: now, UpdatedAt: now}
	var evs []simEvent
	for i, l := range lines {
		p := s.products[l.ProductID]
		sl.Lines = append(sl.Lines, simLine{ID: s.newID(), ProductID: p.ID, Quantity: qs[i], Price: p.Excl, Tax: mul(p.Excl, s.taxRate), Note: p.Name})
	}
	sl.Version = s.nextVersion()
	s.sales[sl.ID] = sl
	evs = append(evs, simEvent{TopicSale, s.saleJSON(sl)})
	for i, l := range lines {
		if inv, ok := s.moveLocked(l.ProductID, outletID, new(big.Rat).Neg(qs[i]), false); ok {
			evs = append(evs, simEvent{TopicInventory, inv})
		}
	}
	return sl.ID, evs
}

// Return takes back everything a closed sale sold (a refund) and, for an exchange, sells the
// given lines instead, in one new sale at the sale's outlet, as Lightspeed records returns: the
// returned lines are negative. It sends sale.update and inventory.update.
func (s *Simulator) Return(saleID string, exchange []SimLine) (string, error) {
	s.mu.Lock()
	sl, ok := s.sales[saleID]
	if !ok {
		s.mu.Unlock()
		return "", simErr(http.StatusNotFound, "Sale not found")
	}
	if saleState(sl.Status) != "closed" {
		s.mu.Unlock()
		return "", simErr(http.StatusBadRequest, "only a closed sale can be returned")
	}
	var lines []SimLine
	var qs []*big.Rat
	for _, l := range sl.Lines {
		if _, ok := s.products[l.ProductID]; !ok || l.Quantity.Sign() <= 0 {
			continue
		}
		lines = append(lines, SimLine{ProductID: l.ProductID, Quantity: numOf(l.Quantity)})
		qs = append(qs, new(big.Rat).Neg(l.Quantity))
	}
	if len(exchange) > 0 {
		xq, err := s.checkLines(exchange, false)
		if err != nil {
			s.mu.Unlock()
			return "", err
		}
		lines, qs = append(lines, exchange...), append(qs, xq...)
	}
	if len(lines) == 0 {
		s.mu.Unlock()
		return "", simErr(http.StatusBadRequest, "the sale has nothing to return")
	}
	id, evs := s.closeSaleLocked(sl.OutletID, lines, qs)
	s.mu.Unlock()
	s.emitEvents(evs)
	return id, nil
}

// adminRoutes serves the back office under /simulator/.
func (s *Simulator) adminRoutes(m *http.ServeMux) {
	answer := func(w http.ResponseWriter, v any, err error) {
		var se *errSim
		switch {
		case errors.As(err, &se):
			writeErr(w, se.status, http.StatusText(se.status), se.msg)
		case err != nil:
			writeErr(w, http.StatusInternalServerError, "Internal Server Error", err.Error())
		default:
			writeJSON(w, 200, map[string]any{"data": v})
		}
	}
	type linesBody struct {
		Type           string    `json:"type"`
		OutletID       string    `json:"outlet_id"`
		SourceOutletID string    `json:"source_outlet_id"`
		Lines          []SimLine `json:"lines"`
	}
	m.HandleFunc("POST /simulator/products/{id}/save", func(w http.ResponseWriter, r *http.Request) {
		var b ProductEdit
		if readJSON(w, r, &b) {
			v, err := s.SaveProduct(r.PathValue("id"), b)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/products/import", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			CSV string `json:"csv"`
		}
		if readJSON(w, r, &b) {
			v, err := s.ImportProductsCSV(b.CSV)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/sales", func(w http.ResponseWriter, r *http.Request) {
		var b linesBody
		if readJSON(w, r, &b) {
			v, err := s.Sell(b.OutletID, b.Lines)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/sales/{id}/return", func(w http.ResponseWriter, r *http.Request) {
		var b linesBody
		if readJSON(w, r, &b) {
			v, err := s.Return(r.PathValue("id"), b.Lines)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/stocktakes", func(w http.ResponseWriter, r *http.Request) {
		var b linesBody
		if readJSON(w, r, &b) {
			v, err := s.Stocktake(b.OutletID, b.Lines)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/consignments", func(w http.ResponseWriter, r *http.Request) {
		var b linesBody
		if readJSON(w, r, &b) {
			v, err := s.ReceiveConsignment(b.Type, b.OutletID, b.SourceOutletID, b.Lines)
			answer(w, v, err)
		}
	})
	m.HandleFunc("POST /simulator/adjustments", func(w http.ResponseWriter, r *http.Request) {
		var b linesBody
		if readJSON(w, r, &b) {
			v, err := s.Adjust(b.OutletID, b.Lines)
			answer(w, v, err)
		}
	})
}

// Level answers a product's stock at an outlet ("" when it has none).
func (s *Simulator) Level(productID, outletID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.inventory[productID+"/"+outletID]; ok {
		return string(numOf(rec.Level))
	}
	return ""
}

// ProductIDs answers the ids of the products not deleted, sorted (the Miscellaneous one left out).
func (s *Simulator) ProductIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, p := range s.products {
		if p.DeletedAt == nil && id != s.misc {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
