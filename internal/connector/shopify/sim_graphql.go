package shopify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The simulator's GraphQL endpoint knows only the order-editing mutations the client uses; it
// finds the operation by its root field, as the real schema would resolve it, and answers in
// GraphQL's shape ({"data", "errors", "extensions": {"cost"}}).
var gqlRoot = regexp.MustCompile(`\b(orderEditBegin|orderEditAddVariant|orderEditAddCustomItem|orderEditSetQuantity|orderEditCommit)\s*\(`)

func gqlCost() map[string]any {
	return map[string]any{"cost": map[string]any{"requestedQueryCost": 10, "actualQueryCost": 10,
		"throttleStatus": map[string]any{"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}}
}

func gqlData(w http.ResponseWriter, field string, v any) {
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{field: v}, "extensions": gqlCost()})
}

func gqlUserError(w http.ResponseWriter, field, msg string, path ...string) {
	gqlData(w, field, map[string]any{"userErrors": []map[string]any{{"field": path, "message": msg}}})
}

func (s *Simulator) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string                     `json:"query"`
		Variables map[string]json.RawMessage `json:"variables"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": "Invalid JSON in request body"}}})
		return
	}
	m := gqlRoot.FindStringSubmatch(req.Query)
	if m == nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "The simulator answers only the order-editing mutations",
			"extensions": map[string]any{"code": "undefinedField"}}}, "extensions": gqlCost()})
		return
	}
	str := func(k string) string {
		var v string
		_ = json.Unmarshal(req.Variables[k], &v)
		return v
	}
	num := func(k string) int {
		var v json.Number
		_ = json.Unmarshal(req.Variables[k], &v)
		n, _ := strconv.Atoi(v.String())
		return n
	}
	field := m[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	if field == "orderEditBegin" {
		id := gidNumber(str("id"))
		so, ok := s.orders[id]
		if !ok || !strings.HasPrefix(str("id"), "gid://shopify/Order/") {
			gqlUserError(w, field, "Order does not exist", "id")
			return
		}
		if so.o.CancelledAt != nil || so.o.ClosedAt != nil {
			gqlUserError(w, field, "The order cannot be edited: it is cancelled or archived", "id")
			return
		}
		calcID := gid("CalculatedOrder", s.id())
		e := &simEdit{orderID: id}
		for _, li := range so.o.LineItems {
			q := li.Quantity
			if li.CurrentQuantity != nil {
				q = *li.CurrentQuantity
			}
			if q == 0 {
				continue
			}
			l := simEditLine{calcID: gid("CalculatedLineItem", li.ID), lineID: li.ID, title: li.Title, sku: li.SKU, price: li.Price, quantity: q}
			if li.VariantID != nil {
				l.variant = *li.VariantID
			}
			e.lines = append(e.lines, l)
		}
		s.edits[calcID] = e
		gqlData(w, field, map[string]any{"calculatedOrder": s.calcJSON(calcID, e, so.o.Currency), "userErrors": []any{}})
		return
	}
	calcID := str("id")
	e, ok := s.edits[calcID]
	if !ok {
		gqlUserError(w, field, "The calculated order does not exist", "id")
		return
	}
	so, ok := s.orders[e.orderID]
	if !ok {
		gqlUserError(w, field, "Order does not exist", "id")
		return
	}
	switch field {
	case "orderEditSetQuantity":
		q := num("quantity")
		if q < 0 {
			gqlUserError(w, field, "Quantity must be greater than or equal to 0", "quantity")
			return
		}
		for i := range e.lines {
			if e.lines[i].calcID == str("lineItemId") {
				e.lines[i].quantity = q
				gqlData(w, field, map[string]any{"calculatedLineItem": map[string]any{"id": e.lines[i].calcID}, "userErrors": []any{}})
				return
			}
		}
		gqlUserError(w, field, "Line item does not exist", "lineItemId")
	case "orderEditAddCustomItem":
		var price struct {
			Amount       json.Number `json:"amount"`
			CurrencyCode string      `json:"currencyCode"`
		}
		_ = json.Unmarshal(req.Variables["price"], &price)
		q := num("quantity")
		if q < 1 || str("title") == "" {
			gqlUserError(w, field, "A custom item needs a title and a quantity of at least 1", "quantity")
			return
		}
		if _, err := parseMoney(price.Amount.String(), so.o.Currency); err != nil || (price.CurrencyCode != "" && price.CurrencyCode != so.o.Currency) {
			gqlUserError(w, field, "Price is invalid", "price")
			return
		}
		cents, _ := parseMoney(price.Amount.String(), so.o.Currency)
		l := simEditLine{calcID: gid("CalculatedLineItem", s.id()), title: str("title"), price: formatMoney(cents, so.o.Currency), quantity: q}
		e.lines = append(e.lines, l)
		gqlData(w, field, map[string]any{"calculatedLineItem": map[string]any{"id": l.calcID}, "userErrors": []any{}})
	case "orderEditAddVariant":
		p, v := s.variant(gidNumber(str("variantId")))
		q := num("quantity")
		if v == nil || q < 1 {
			gqlUserError(w, field, "Variant does not exist or quantity is below 1", "variantId")
			return
		}
		l := simEditLine{calcID: gid("CalculatedLineItem", s.id()), variant: v.ID, product: p.ID, title: p.Title, sku: v.SKU, price: v.Price, quantity: q}
		e.lines = append(e.lines, l)
		gqlData(w, field, map[string]any{"calculatedLineItem": map[string]any{"id": l.calcID}, "userErrors": []any{}})
	case "orderEditCommit":
		byID := map[int64]int{}
		for _, l := range e.lines {
			if l.lineID != 0 {
				byID[l.lineID] = l.quantity
			}
		}
		for i := range so.o.LineItems {
			li := &so.o.LineItems[i]
			if q, ok := byID[li.ID]; ok {
				li.CurrentQuantity = &q
			}
		}
		for _, l := range e.lines {
			if l.lineID != 0 || l.quantity == 0 {
				continue
			}
			q := l.quantity
			li := lineItemJSON{ID: s.id(), Title: l.title, Quantity: q, CurrentQuantity: &q, Price: l.price, SKU: l.sku}
			if l.variant != 0 {
				v, p := l.variant, l.product
				li.VariantID, li.ProductID = &v, &p
			}
			so.o.LineItems = append(so.o.LineItems, li)
		}
		delete(s.edits, calcID)
		s.orderChanged(so, "orders/edited", "orders/updated")
		gqlData(w, field, map[string]any{"order": map[string]any{"id": gid("Order", so.o.ID)}, "userErrors": []any{}})
	default:
		gqlUserError(w, field, fmt.Sprintf("%s is not simulated", field))
	}
}

func (s *Simulator) calcJSON(id string, e *simEdit, currency string) map[string]any {
	var nodes []map[string]any
	for _, l := range e.lines {
		n := map[string]any{"id": l.calcID, "quantity": l.quantity, "title": l.title, "sku": l.sku, "variant": nil,
			"originalUnitPriceSet": map[string]any{"shopMoney": map[string]any{"amount": l.price, "currencyCode": currency}}}
		if l.variant != 0 {
			n["variant"] = map[string]any{"id": gid("ProductVariant", l.variant)}
		}
		nodes = append(nodes, n)
	}
	return map[string]any{"id": id, "lineItems": map[string]any{"nodes": nodes}}
}
