package shopify

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The simulator's GraphQL endpoint knows the operations the client uses; it finds the
// operation by its root field, as the real schema would resolve it, and answers in GraphQL's
// shape ({"data", "errors", "extensions": {"cost"}}). Every operation is charged by calculated
// query cost against the shop's bucket (gqlBucket): the requested cost must be available or the
// answer is THROTTLED, and the difference to the actual cost is given back.
var gqlRoot = regexp.MustCompile(`\b(productSet|inventorySetQuantities|inventoryActivate|orderEditBegin|orderEditAddVariant|orderEditAddCustomItem|orderEditSetQuantity|orderEditCommit)\s*\(`)

// gqlBucket is the shop's GraphQL cost bucket: max points, restoring restore a second.
type gqlBucket struct {
	max, restore, avail float64
	last                time.Time
	throttled           int
	spent               float64
}

func (b *gqlBucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.avail = math.Min(b.max, b.avail+el*b.restore)
	}
	b.last = now
}

func (b *gqlBucket) cost(requested int, actual *int) map[string]any {
	var a any
	if actual != nil {
		a = *actual
	}
	return map[string]any{"cost": map[string]any{"requestedQueryCost": requested, "actualQueryCost": a,
		"throttleStatus": map[string]any{"maximumAvailable": b.max, "currentlyAvailable": math.Floor(b.avail), "restoreRate": b.restore}}}
}

// WithCostBucket sets the GraphQL cost bucket: max points, restoring restore points a second
// (default 2,000 and 100, the Standard plan's restore rate).
func WithCostBucket(max, restore float64) SimOption {
	return func(s *Simulator) { s.gql.max, s.gql.restore, s.gql.avail = max, restore, max }
}

// SetCostBucket changes the GraphQL cost bucket and fills it.
func (s *Simulator) SetCostBucket(max, restore float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gql.max, s.gql.restore, s.gql.avail, s.gql.last = max, restore, max, s.now()
}

// GraphQLThrottled counts THROTTLED answers given because the cost bucket lacked the requested cost.
func (s *Simulator) GraphQLThrottled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gql.throttled
}

// GraphQLCost is the actual cost of every GraphQL operation the simulator has run.
func (s *Simulator) GraphQLCost() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gql.spent
}

// gqlReq is one decoded GraphQL request.
type gqlReq struct {
	Query     string                     `json:"query"`
	Variables map[string]json.RawMessage `json:"variables"`
}

func (q gqlReq) str(k string) string {
	var v string
	_ = json.Unmarshal(q.Variables[k], &v)
	return v
}

func (q gqlReq) num(k string) int {
	var v json.Number
	_ = json.Unmarshal(q.Variables[k], &v)
	n, _ := strconv.Atoi(v.String())
	return n
}

// gqlError is an error of the request as a whole (errors[], no data).
type gqlError struct {
	code, msg string
}

func userErrs(msg string, path ...string) map[string]any {
	return map[string]any{"userErrors": []map[string]any{{"field": path, "message": msg}}}
}

func (s *Simulator) graphql(w http.ResponseWriter, r *http.Request) {
	var req gqlReq
	if err := decodeBody(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": "Invalid JSON in request body"}}})
		return
	}
	vars := map[string]any{}
	for k, v := range req.Variables {
		vars[k] = v
	}
	requested := queryCost(req.Query, vars)
	mutation := strings.HasPrefix(strings.TrimSpace(req.Query), "mutation")
	s.mu.Lock()
	s.gql.refill(s.now())
	if requested > MaxQueryCost {
		ext := s.gql.cost(requested, nil)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", requested, MaxQueryCost),
			"extensions": map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MaxQueryCost}}}, "extensions": ext})
		return
	}
	if float64(requested) > s.gql.avail {
		s.gql.throttled++
		ext := s.gql.cost(requested, nil)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "Throttled",
			"extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}}, "extensions": ext})
		return
	}
	s.gql.avail -= float64(requested)
	s.mu.Unlock()

	data, gerr := s.gqlExec(req)
	actual := 0
	if gerr == nil {
		var tree any
		if b, err := json.Marshal(data); err == nil && json.Unmarshal(b, &tree) == nil {
			actual = answerCost(tree, mutation, requested)
		}
	}
	s.mu.Lock()
	s.gql.refill(s.now())
	s.gql.avail = math.Min(s.gql.max, s.gql.avail+float64(requested-actual))
	s.gql.spent += float64(actual)
	ext := s.gql.cost(requested, &actual)
	_, write := data["productSet"]
	lose := write && s.loseN > 0
	status := s.loseStatus
	if lose {
		s.loseN--
	}
	s.mu.Unlock()
	if lose {
		if status == 0 {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			status = http.StatusGatewayTimeout
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
		return
	}
	if gerr != nil {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": gerr.msg,
			"extensions": map[string]any{"code": gerr.code}}}, "extensions": ext})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": ext})
}

// gqlExec runs one operation and answers its data ({rootField: payload}).
func (s *Simulator) gqlExec(req gqlReq) (map[string]any, *gqlError) {
	sel, mutation, err := parseOperation(req)
	if err != nil {
		return nil, &gqlError{code: "PARSE_ERROR", msg: "Parse error: " + err.Error()}
	}
	if !mutation {
		s.mu.Lock()
		defer s.mu.Unlock()
		r := &resolver{s: s}
		data := make(map[string]any, len(sel))
		for _, f := range sel {
			data[f.key()] = r.queryRoot(f)
		}
		if r.err != nil {
			return nil, r.err
		}
		return data, nil
	}
	m := gqlRoot.FindStringSubmatch(req.Query)
	if m == nil {
		return nil, &gqlError{code: "undefinedField", msg: "The simulator does not answer this operation"}
	}
	field := m[1]
	s.mu.Lock()
	defer s.mu.Unlock()
	var payload any
	switch field {
	case "productSet":
		payload = s.productSetField(req)
		// the product is answered with the fields the mutation selects, as a query would be
		if m, ok := payload.(map[string]any); ok && m["product"] != nil {
			for _, f := range sel {
				if f.name != "productSet" {
					continue
				}
				for _, g := range f.sel {
					if g.name == "product" {
						r := &resolver{s: s}
						id := gidNumber(m["product"].(map[string]any)["id"].(string))
						if v := r.product(s.products[id], g.sel); r.err == nil {
							delete(m, "product")
							m[g.key()] = v
						} else {
							return nil, r.err
						}
					}
				}
			}
		}
	case "inventorySetQuantities":
		payload = s.inventorySetQuantitiesField(req)
	case "inventoryActivate":
		payload = s.inventoryActivateField(req)
	default:
		payload = s.gqlField(req, field)
	}
	return map[string]any{field: payload}, nil
}

// gqlField answers the payload of one root field; s.mu is held.
func (s *Simulator) gqlField(req gqlReq, field string) any {
	str, num := req.str, req.num
	if field == "orderEditBegin" {
		id := gidNumber(str("id"))
		so, ok := s.orders[id]
		if !ok || !strings.HasPrefix(str("id"), "gid://shopify/Order/") {
			return userErrs("Order does not exist", "id")
		}
		if so.o.CancelledAt != nil || so.o.ClosedAt != nil {
			return userErrs("The order cannot be edited: it is cancelled or archived", "id")
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
		return map[string]any{"calculatedOrder": s.calcJSON(calcID, e, so.o.Currency), "userErrors": []any{}}
	}
	calcID := str("id")
	e, ok := s.edits[calcID]
	if !ok {
		return userErrs("The calculated order does not exist", "id")
	}
	so, ok := s.orders[e.orderID]
	if !ok {
		return userErrs("Order does not exist", "id")
	}
	switch field {
	case "orderEditSetQuantity":
		q := num("quantity")
		if q < 0 {
			return userErrs("Quantity must be greater than or equal to 0", "quantity")
		}
		for i := range e.lines {
			if e.lines[i].calcID == str("lineItemId") {
				e.lines[i].quantity = q
				return map[string]any{"calculatedLineItem": map[string]any{"id": e.lines[i].calcID}, "userErrors": []any{}}
			}
		}
		return userErrs("Line item does not exist", "lineItemId")
	case "orderEditAddCustomItem":
		var price struct {
			Amount       json.Number `json:"amount"`
			CurrencyCode string      `json:"currencyCode"`
		}
		_ = json.Unmarshal(req.Variables["price"], &price)
		q := num("quantity")
		if q < 1 || str("title") == "" {
			return userErrs("A custom item needs a title and a quantity of at least 1", "quantity")
		}
		if _, err := parseMoney(price.Amount.String(), so.o.Currency); err != nil || (price.CurrencyCode != "" && price.CurrencyCode != so.o.Currency) {
			return userErrs("Price is invalid", "price")
		}
		cents, _ := parseMoney(price.Amount.String(), so.o.Currency)
		l := simEditLine{calcID: gid("CalculatedLineItem", s.id()), title: str("title"), price: formatMoney(cents, so.o.Currency), quantity: q}
		e.lines = append(e.lines, l)
		return map[string]any{"calculatedLineItem": map[string]any{"id": l.calcID}, "userErrors": []any{}}
	case "orderEditAddVariant":
		p, v := s.variant(gidNumber(str("variantId")))
		q := num("quantity")
		if v == nil || q < 1 {
			return userErrs("Variant does not exist or quantity is below 1", "variantId")
		}
		l := simEditLine{calcID: gid("CalculatedLineItem", s.id()), variant: v.ID, product: p.ID, title: p.Title, sku: v.SKU, price: v.Price, quantity: q}
		e.lines = append(e.lines, l)
		return map[string]any{"calculatedLineItem": map[string]any{"id": l.calcID}, "userErrors": []any{}}
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
		return map[string]any{"order": map[string]any{"id": gid("Order", so.o.ID)}, "userErrors": []any{}}
	default:
		return userErrs(fmt.Sprintf("%s is not simulated", field))
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
