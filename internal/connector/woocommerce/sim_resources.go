package woocommerce

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// Fields a client cannot write.
var readOnly = map[string]bool{
	"id": true, "date_created": true, "date_created_gmt": true, "date_modified": true, "date_modified_gmt": true,
	"price": true, "variations": true, "permalink": true, "number": true, "total": true, "parent_id": true,
	"date_completed": true, "date_completed_gmt": true, "set_paid": true, "line_items": true, "meta_data": true,
}

func (s *Simulator) newProduct(id int64, now time.Time) *simObj {
	return &simObj{created: now, modified: now, data: map[string]any{
		"id": id, "name": "", "slug": "", "type": "simple", "status": "publish", "description": "",
		"short_description": "", "sku": "", "global_unique_id": "", "price": "", "regular_price": "", "sale_price": "",
		"manage_stock": false, "stock_quantity": nil, "stock_status": "instock", "weight": "",
		"dimensions": map[string]any{"length": "", "width": "", "height": ""},
		"categories": []any{}, "images": []any{}, "attributes": []any{}, "variations": []any{}, "meta_data": []any{},
	}}
}

func (s *Simulator) productJSON(p *simObj) map[string]any {
	out := copyMap(p.data)
	stamp2(out, p.created, p.modified)
	out["permalink"] = fmt.Sprintf("/product/%v/", out["slug"])
	var vars []any
	for vid, v := range s.variants {
		if v.data["parent_id"] == p.data["id"] {
			vars = append(vars, vid)
		}
	}
	sortAny(vars)
	if vars == nil {
		vars = []any{}
	}
	out["variations"] = vars
	return out
}

func sortAny(xs []any) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j].(int64) < xs[j-1].(int64); j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// skuTaken tells whether another product or variation has the SKU.
func (s *Simulator) skuTaken(sku string, self int64) bool {
	if sku == "" || s.skuShared {
		return false
	}
	ids := s.bySKU[sku][:0]
	taken := false
	for _, id := range s.bySKU[sku] {
		o := s.products[id]
		if o == nil {
			o = s.variants[id]
		}
		if o == nil || o.data["sku"] != sku {
			continue // gone, or its SKU changed since
		}
		ids = append(ids, id)
		taken = taken || id != self
	}
	s.bySKU[sku] = ids
	return taken
}

func decimalOK(v any) bool {
	str, ok := v.(string)
	if !ok {
		return false
	}
	if str == "" {
		return true
	}
	_, err := connector.ParseMinor(str, 8)
	return err == nil
}

// applyProduct merges writable fields into a product or variation, checking what WooCommerce checks.
func (s *Simulator) applyProduct(o *simObj, body map[string]any, self int64) *simError {
	if v, ok := body["sku"]; ok {
		sku, _ := v.(string)
		if s.skuTaken(sku, self) {
			return errBody(400, "product_invalid_sku", "Invalid or duplicated SKU.")
		}
		if sku != "" && !slices.Contains(s.bySKU[sku], self) {
			s.bySKU[sku] = append(s.bySKU[sku], self)
		}
	}
	for _, k := range []string{"regular_price", "sale_price"} {
		if v, ok := body[k]; ok && !decimalOK(v) {
			return invalidParam(k, k+" is not of type string.")
		}
	}
	if v, ok := body["type"]; ok {
		switch v {
		case "simple", "grouped", "external", "variable":
		default:
			return invalidParam("type", "type is not one of simple, grouped, external and variable.")
		}
	}
	if v, ok := body["stock_quantity"]; ok && v != nil {
		n, isNum := v.(json.Number)
		if !isNum {
			return invalidParam("stock_quantity", "stock_quantity is not of type integer.")
		}
		if _, err := n.Int64(); err != nil {
			return invalidParam("stock_quantity", "stock_quantity is not of type integer.")
		}
	}
	for k, v := range body {
		if readOnly[k] {
			continue
		}
		switch k {
		case "categories":
			var cats []any
			list, _ := v.([]any)
			for _, c := range list {
				m, _ := c.(map[string]any)
				if n, ok := m["id"].(json.Number); ok {
					id, _ := n.Int64()
					cats = append(cats, map[string]any{"id": id, "name": fmt.Sprintf("Category %d", id), "slug": fmt.Sprintf("category-%d", id)})
				}
			}
			if cats == nil {
				cats = []any{}
			}
			o.data[k] = cats
		default:
			o.data[k] = v
		}
	}
	if m, ok := body["meta_data"]; ok {
		o.data["meta_data"] = mergeMeta(o.data["meta_data"], m)
	}
	price := o.data["regular_price"]
	if sp, _ := o.data["sale_price"].(string); sp != "" {
		price = sp
	}
	o.data["price"] = price
	if name, _ := o.data["name"].(string); name != "" && o.data["slug"] == "" {
		o.data["slug"] = strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	}
	if ms, _ := o.data["manage_stock"].(bool); ms {
		if n, ok := o.data["stock_quantity"].(json.Number); ok {
			if q, _ := n.Int64(); q > 0 {
				o.data["stock_status"] = "instock"
			} else {
				o.data["stock_status"] = "outofstock"
			}
		}
	}
	o.modified = s.now().UTC()
	return nil
}

// mergeMeta updates meta entries by id or key and adds the others, as WooCommerce does.
func mergeMeta(old any, in any) []any {
	cur, _ := old.([]any)
	list, _ := in.([]any)
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		done := false
		for _, y := range cur {
			e := y.(map[string]any)
			if (m["id"] != nil && fmt.Sprint(m["id"]) == fmt.Sprint(e["id"])) || (m["id"] == nil && m["key"] == e["key"]) {
				e["value"] = m["value"]
				done = true
				break
			}
		}
		if !done {
			cur = append(cur, map[string]any{"id": int64(len(cur) + 1000), "key": m["key"], "value": m["value"]})
		}
	}
	if cur == nil {
		cur = []any{}
	}
	return cur
}

func (s *Simulator) createProduct(body map[string]any) (*simObj, *simError) {
	s.nextID++
	id := s.nextID
	p := s.newProduct(id, s.now().UTC())
	if e := s.applyProduct(p, body, id); e != nil {
		s.nextID--
		return nil, e
	}
	s.products[id] = p
	if s.subscribed("product.created") {
		s.fire("product.created", s.productJSON(p))
	}
	return p, nil
}

func (s *Simulator) updateProduct(p *simObj, body map[string]any) *simError {
	id := p.data["id"].(int64)
	if e := s.applyProduct(p, body, id); e != nil {
		return e
	}
	if s.subscribed("product.updated") {
		s.fire("product.updated", s.productJSON(p))
	}
	return nil
}

func (s *Simulator) deleteProduct(p *simObj, force bool) (int, any, http.Header, *simError) {
	id := p.data["id"].(int64)
	out := s.productJSON(p)
	if force {
		delete(s.products, id)
		for vid, v := range s.variants {
			if v.data["parent_id"] == id {
				delete(s.variants, vid)
			}
		}
	} else {
		if p.data["status"] == "trash" {
			return 0, nil, nil, errBody(410, "woocommerce_rest_already_trashed", "The product has already been deleted.")
		}
		p.data["status"] = "trash"
		p.modified = s.now().UTC()
		out = s.productJSON(p)
	}
	s.fire("product.deleted", map[string]any{"id": id})
	return 200, out, nil, nil
}

// batchCount checks the batch limit: at most 100 objects over create, update and delete.
func batchCount(body map[string]any) ([]any, []any, []any, *simError) {
	c, _ := body["create"].([]any)
	u, _ := body["update"].([]any)
	d, _ := body["delete"].([]any)
	if len(c)+len(u)+len(d) > MaxBatch {
		return nil, nil, nil, errBody(413, "woocommerce_rest_request_entity_too_large", fmt.Sprintf("Unable to accept more than %d items for this request.", MaxBatch))
	}
	return c, u, d, nil
}

func itemErr(id any, e *simError) map[string]any {
	return map[string]any{"id": id, "error": map[string]any{"code": e.code, "message": e.msg, "data": map[string]any{"status": e.status}}}
}

func (s *Simulator) batchProducts(body map[string]any) (int, any, http.Header, *simError) {
	c, u, d, e := batchCount(body)
	if e != nil {
		return 0, nil, nil, e
	}
	out := map[string]any{}
	if c != nil {
		res := []any{}
		for _, x := range c {
			m, _ := x.(map[string]any)
			p, e := s.createProduct(m)
			if e != nil {
				res = append(res, itemErr(0, e))
				continue
			}
			res = append(res, s.productJSON(p))
		}
		out["create"] = res
	}
	if u != nil {
		res := []any{}
		for _, x := range u {
			m, _ := x.(map[string]any)
			id := numID(m["id"])
			p, ok := s.products[id]
			if !ok {
				res = append(res, itemErr(id, errBody(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")))
				continue
			}
			if e := s.updateProduct(p, m); e != nil {
				res = append(res, itemErr(id, e))
				continue
			}
			res = append(res, s.productJSON(p))
		}
		out["update"] = res
	}
	if d != nil {
		res := []any{}
		for _, x := range d {
			id := numID(x)
			p, ok := s.products[id]
			if !ok {
				res = append(res, itemErr(id, errBody(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")))
				continue
			}
			_, o, _, _ := s.deleteProduct(p, true)
			res = append(res, o)
		}
		out["delete"] = res
	}
	return 200, out, nil, nil
}

func numID(v any) int64 {
	switch n := v.(type) {
	case json.Number:
		i, _ := n.Int64()
		return i
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	case int64:
		return n
	}
	return 0
}

func (s *Simulator) listProducts(q url.Values, root string) (int, any, http.Header, *simError) {
	status := q.Get("status")
	sku := q.Get("sku")
	search := strings.ToLower(q.Get("search"))
	typ := q.Get("type")
	items, e := s.filterSort(q, s.products, func(o *simObj) bool {
		st := o.data["status"]
		if status == "" || status == "any" {
			if st == "trash" {
				return false
			}
		} else if st != status {
			return false
		}
		if sku != "" && o.data["sku"] != sku {
			return false
		}
		if typ != "" && o.data["type"] != typ {
			return false
		}
		if search != "" && !strings.Contains(strings.ToLower(fmt.Sprint(o.data["name"])), search) {
			return false
		}
		return true
	})
	if e != nil {
		return 0, nil, nil, e
	}
	return s.page(q, root, "products", items, s.productJSON)
}

// ---- variations ----

func (s *Simulator) variationJSON(v *simObj) map[string]any {
	out := copyMap(v.data)
	stamp2(out, v.created, v.modified)
	return out
}

func (s *Simulator) createVariation(parent int64, body map[string]any) (*simObj, *simError) {
	s.nextID++
	id := s.nextID
	now := s.now().UTC()
	v := &simObj{created: now, modified: now, data: map[string]any{
		"id": id, "parent_id": parent, "sku": "", "global_unique_id": "", "price": "", "regular_price": "", "sale_price": "",
		"status": "publish", "manage_stock": false, "stock_quantity": nil, "stock_status": "instock", "weight": "",
		"attributes": []any{}, "meta_data": []any{},
	}}
	if e := s.applyProduct(v, body, id); e != nil {
		s.nextID--
		return nil, e
	}
	s.variants[id] = v
	return v, nil
}

func (s *Simulator) variationRoute(m string, pid int64, rest []string, q url.Values, body map[string]any, root string) (int, any, http.Header, *simError) {
	p, ok := s.products[pid]
	if !ok {
		return 0, nil, nil, errBody(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
	}
	touchParent := func() {
		p.modified = s.now().UTC() // a variation change syncs (and saves) its parent
		s.fire("product.updated", s.productJSON(p))
	}
	switch {
	case len(rest) == 0 && m == http.MethodGet:
		items, e := s.filterSort(q, s.variants, func(o *simObj) bool { return o.data["parent_id"] == pid })
		if e != nil {
			return 0, nil, nil, e
		}
		return s.page(q, root, fmt.Sprintf("products/%d/variations", pid), items, s.variationJSON)
	case len(rest) == 0 && m == http.MethodPost:
		v, e := s.createVariation(pid, body)
		if e != nil {
			return 0, nil, nil, e
		}
		touchParent()
		return 201, s.variationJSON(v), nil, nil
	case len(rest) == 1 && rest[0] == "batch" && m == http.MethodPost:
		c, u, _, e := batchCount(body)
		if e != nil {
			return 0, nil, nil, e
		}
		out := map[string]any{}
		if c != nil {
			res := []any{}
			for _, x := range c {
				mm, _ := x.(map[string]any)
				v, e := s.createVariation(pid, mm)
				if e != nil {
					res = append(res, itemErr(0, e))
					continue
				}
				res = append(res, s.variationJSON(v))
			}
			out["create"] = res
		}
		if u != nil {
			res := []any{}
			for _, x := range u {
				mm, _ := x.(map[string]any)
				id := numID(mm["id"])
				v, ok := s.variants[id]
				if !ok || v.data["parent_id"] != pid {
					res = append(res, itemErr(id, errBody(400, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")))
					continue
				}
				if e := s.applyProduct(v, mm, id); e != nil {
					res = append(res, itemErr(id, e))
					continue
				}
				res = append(res, s.variationJSON(v))
			}
			out["update"] = res
		}
		touchParent()
		return 200, out, nil, nil
	case len(rest) == 1:
		id, err := strconv.ParseInt(rest[0], 10, 64)
		v, ok := s.variants[id]
		if err != nil || !ok || v.data["parent_id"] != pid {
			return 0, nil, nil, errBody(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
		}
		switch m {
		case http.MethodGet:
			return 200, s.variationJSON(v), nil, nil
		case http.MethodPut, http.MethodPost:
			if e := s.applyProduct(v, body, id); e != nil {
				return 0, nil, nil, e
			}
			touchParent()
			return 200, s.variationJSON(v), nil, nil
		case http.MethodDelete:
			out := s.variationJSON(v)
			delete(s.variants, id)
			touchParent()
			return 200, out, nil, nil
		}
	}
	return 0, nil, nil, noRoute
}

// ---- orders ----

func (s *Simulator) orderJSON(o *simObj) map[string]any {
	out := copyMap(o.data)
	stamp2(out, o.created, o.modified)
	return out
}

// applyOrder merges an order write: line items by id (quantity 0 removes one), meta by key.
func (s *Simulator) applyOrder(o *simObj, body map[string]any) *simError {
	if v, ok := body["status"]; ok {
		switch v {
		case "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash", "checkout-draft":
		default:
			return invalidParam("status", "status is not one of pending, processing, on-hold, completed, cancelled, refunded, failed, trash and checkout-draft.")
		}
	}
	exp := connector.CurrencyExponent(fmt.Sprint(o.data["currency"]))
	if c, ok := body["currency"].(string); ok && c != "" {
		exp = connector.CurrencyExponent(c)
	}
	lines, _ := o.data["line_items"].([]any)
	if in, ok := body["line_items"].([]any); ok {
		for _, x := range in {
			m, _ := x.(map[string]any)
			id := numID(m["id"])
			qty := int64(1)
			if n, ok := m["quantity"].(json.Number); ok {
				q, err := n.Int64()
				if err != nil {
					return invalidParam("line_items", "line_items[quantity] is not of type integer.")
				}
				qty = q
			}
			if id > 0 {
				idx := -1
				for i, l := range lines {
					if l.(map[string]any)["id"] == id {
						idx = i
					}
				}
				if idx < 0 {
					return errBody(400, "woocommerce_rest_invalid_item_id", "Order item ID provided is not associated with order.")
				}
				if _, has := m["quantity"]; has && qty == 0 {
					lines = append(lines[:idx], lines[idx+1:]...)
					continue
				}
				if e := s.applyLine(lines[idx].(map[string]any), m, exp); e != nil {
					return e
				}
				continue
			}
			if qty <= 0 {
				continue
			}
			s.nextID++
			l := map[string]any{"id": s.nextID, "name": "", "product_id": int64(0), "variation_id": int64(0),
				"quantity": int64(1), "sku": "", "subtotal": "0.00", "total": "0.00", "price": json.Number("0"), "meta_data": []any{}}
			if e := s.applyLine(l, m, exp); e != nil {
				return e
			}
			lines = append(lines, l)
		}
	}
	if lines == nil {
		lines = []any{}
	}
	for k, v := range body {
		if !readOnly[k] {
			o.data[k] = v
		}
	}
	if v, ok := body["status"].(string); ok {
		s.setOrderStatus(o, v)
	}
	if paid, _ := body["set_paid"].(bool); paid && o.data["date_paid_gmt"] == nil {
		o.data["date_paid_gmt"] = s.now().UTC().Format(wcTime)
		if o.data["status"] == "pending" {
			o.data["status"] = "processing"
		}
	}
	if m, ok := body["meta_data"]; ok {
		o.data["meta_data"] = mergeMeta(o.data["meta_data"], m)
	}
	o.data["line_items"] = lines
	var total int64
	for _, l := range lines {
		t, _ := connector.ParseMinor(fmt.Sprint(l.(map[string]any)["total"]), exp)
		total += t
	}
	o.data["total"] = connector.FormatMinor(total, exp)
	o.modified = s.now().UTC()
	return nil
}

// applyLine sets a line item; a product line without totals is priced from the product.
func (s *Simulator) applyLine(l, m map[string]any, exp int) *simError {
	for _, k := range []string{"name", "subtotal", "total"} {
		if v, ok := m[k].(string); ok {
			l[k] = v
		}
	}
	if n, ok := m["quantity"].(json.Number); ok {
		q, _ := n.Int64()
		l["quantity"] = q
	}
	if pid := numID(m["product_id"]); pid > 0 {
		p, ok := s.products[pid]
		if !ok {
			return errBody(400, "woocommerce_rest_invalid_product_id", "Invalid product ID.")
		}
		l["product_id"] = pid
		l["sku"] = p.data["sku"]
		if l["name"] == "" {
			l["name"] = p.data["name"]
		}
		if _, ok := m["subtotal"]; !ok {
			unit, _ := connector.ParseMinor(fmt.Sprint(p.data["price"]), exp)
			l["subtotal"] = connector.FormatMinor(unit*l["quantity"].(int64), exp)
		}
	}
	if vid := numID(m["variation_id"]); vid > 0 {
		l["variation_id"] = vid
	}
	if _, ok := m["total"]; !ok {
		l["total"] = l["subtotal"]
	}
	sub, err := connector.ParseMinor(fmt.Sprint(l["subtotal"]), exp)
	if err != nil {
		return invalidParam("line_items", "line_items[subtotal] is not a number.")
	}
	if q := l["quantity"].(int64); q > 0 {
		l["price"] = json.Number(connector.FormatMinor(sub/q, exp))
	}
	return nil
}

func (s *Simulator) createOrder(body map[string]any) (*simObj, *simError) {
	s.nextID++
	id := s.nextID
	now := s.now().UTC()
	o := &simObj{created: now, modified: now, data: map[string]any{
		"id": id, "number": strconv.FormatInt(id, 10), "status": "pending", "currency": s.currency,
		"customer_id": int64(0), "customer_note": "", "billing": map[string]any{}, "shipping": map[string]any{},
		"line_items": []any{}, "total": "0.00", "meta_data": []any{}, "date_completed_gmt": nil, "date_paid_gmt": nil,
	}}
	if e := s.applyOrder(o, body); e != nil {
		return nil, e
	}
	s.orders[id] = o
	s.fire("order.created", s.orderJSON(o))
	return o, nil
}

func (s *Simulator) updateOrder(o *simObj, body map[string]any) *simError {
	if e := s.applyOrder(o, body); e != nil {
		return e
	}
	s.fire("order.updated", s.orderJSON(o))
	return nil
}

func (s *Simulator) listOrders(q url.Values, root string) (int, any, http.Header, *simError) {
	statuses := map[string]bool{}
	for _, st := range strings.Split(q.Get("status"), ",") {
		if st = strings.TrimSpace(st); st != "" && st != "any" {
			statuses[st] = true
		}
	}
	search := strings.ToLower(q.Get("search"))
	customer := q.Get("customer")
	items, e := s.filterSort(q, s.orders, func(o *simObj) bool {
		st := fmt.Sprint(o.data["status"])
		if len(statuses) == 0 && st == "trash" || len(statuses) > 0 && !statuses[st] {
			return false
		}
		if customer != "" && fmt.Sprint(o.data["customer_id"]) != customer {
			return false
		}
		return search == "" || s.orderMatches(o, search)
	})
	if e != nil {
		return 0, nil, nil, e
	}
	return s.page(q, root, "orders", items, s.orderJSON)
}

func (s *Simulator) orderMatches(o *simObj, term string) bool {
	has := func(v any) bool { return strings.Contains(strings.ToLower(fmt.Sprint(v)), term) }
	if fmt.Sprint(o.data["id"]) == term {
		return true
	}
	if b, ok := o.data["billing"].(map[string]any); ok {
		for _, k := range []string{"first_name", "last_name", "email", "phone", "company"} {
			if b[k] != nil && has(b[k]) {
				return true
			}
		}
	}
	lines, _ := o.data["line_items"].([]any)
	for _, l := range lines {
		if has(l.(map[string]any)["name"]) {
			return true
		}
	}
	if s.searchMeta {
		meta, _ := o.data["meta_data"].([]any)
		for _, x := range meta {
			if has(x.(map[string]any)["value"]) {
				return true
			}
		}
	}
	return false
}

// ---- customers ----

func (s *Simulator) customerJSON(c *simObj) map[string]any {
	out := copyMap(c.data)
	stamp2(out, c.created, c.modified)
	return out
}

func (s *Simulator) saveCustomer(c *simObj, body map[string]any) (*simObj, *simError) {
	email, has := body["email"].(string)
	if c == nil && (!has || email == "") {
		return nil, &simError{status: 400, code: "rest_missing_callback_param", msg: "Missing parameter(s): email", params: map[string]string{"email": "email"}}
	}
	if has {
		if !strings.Contains(email, "@") {
			return nil, invalidParam("email", "Invalid email address.")
		}
		for _, o := range s.customers {
			if o != c && strings.EqualFold(fmt.Sprint(o.data["email"]), email) {
				return nil, errBody(400, "registration-error-email-exists", "An account is already registered with your email address. Please log in.")
			}
		}
	}
	created := c == nil
	if created {
		s.nextID++
		now := s.now().UTC()
		c = &simObj{created: now, modified: now, data: map[string]any{
			"id": s.nextID, "email": "", "first_name": "", "last_name": "", "role": "customer",
			"username": "", "billing": map[string]any{}, "shipping": map[string]any{}, "meta_data": []any{},
		}}
		if u, _ := body["username"].(string); u == "" {
			c.data["username"] = strings.Split(email, "@")[0]
		}
	}
	for k, v := range body {
		if !readOnly[k] && k != "password" {
			c.data[k] = v
		}
	}
	if m, ok := body["meta_data"]; ok {
		c.data["meta_data"] = mergeMeta(c.data["meta_data"], m)
	}
	c.modified = s.now().UTC()
	if created {
		s.customers[c.data["id"].(int64)] = c
		s.fire("customer.created", s.customerJSON(c))
	} else {
		s.fire("customer.updated", s.customerJSON(c))
	}
	return c, nil
}

func (s *Simulator) listCustomers(q url.Values, root string) (int, any, http.Header, *simError) {
	role := q.Get("role")
	email := q.Get("email")
	items, e := s.filterSort(q, s.customers, func(o *simObj) bool {
		if role != "" && role != "all" && o.data["role"] != role {
			return false
		}
		return email == "" || strings.EqualFold(fmt.Sprint(o.data["email"]), email)
	})
	if e != nil {
		return 0, nil, nil, e
	}
	return s.page(q, root, "customers", items, s.customerJSON)
}

// ---- webhooks ----

var webhookResources = map[string]bool{"coupon": true, "customer": true, "order": true, "product": true}
var webhookEvents = map[string]bool{"created": true, "updated": true, "deleted": true, "restored": true}

func (s *Simulator) hookJSON(h *simHook) map[string]any {
	out := copyMap(h.data)
	stamp2(out, h.created, h.created)
	return out
}

func (s *Simulator) webhookRoute(m string, seg []string, q url.Values, body map[string]any, root string) (int, any, http.Header, *simError) {
	if len(seg) == 1 && m == http.MethodGet {
		all := map[int64]*simObj{}
		for id, h := range s.webhooks {
			all[id] = &simObj{data: h.data, created: h.created, modified: h.created}
		}
		items, e := s.filterSort(q, all, nil)
		if e != nil {
			return 0, nil, nil, e
		}
		return s.page(q, root, "webhooks", items, func(o *simObj) map[string]any { return s.hookJSON(s.webhooks[o.data["id"].(int64)]) })
	}
	if len(seg) == 1 && m == http.MethodPost {
		topic, _ := body["topic"].(string)
		res, ev, _ := strings.Cut(topic, ".")
		if !(webhookResources[res] && webhookEvents[ev]) && res != "action" {
			return 0, nil, nil, invalidParam("topic", "Invalid topic.")
		}
		du, _ := body["delivery_url"].(string)
		if u, err := url.Parse(du); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 0, nil, nil, invalidParam("delivery_url", "delivery_url is not a valid URL.")
		}
		secret, _ := body["secret"].(string)
		if secret == "" {
			secret = s.webhookSecret
		}
		status, _ := body["status"].(string)
		if status == "" {
			status = "active"
		}
		name, _ := body["name"].(string)
		if name == "" {
			name = "Webhook created on " + s.now().UTC().Format("Jan 02, 2006 @ 03:04 PM")
		}
		s.nextID++
		id := s.nextID
		h := &simHook{secret: secret, url: du, topic: topic, source: root + "/", created: s.now().UTC(), data: map[string]any{
			"id": id, "name": name, "status": status, "topic": topic, "resource": res, "event": ev,
			"hooks": []any{"woocommerce_" + topic}, "delivery_url": du,
		}}
		s.webhooks[id] = h
		// On creation WooCommerce pings the URL with an unsigned form body webhook_id=N.
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/x-www-form-urlencoded")
		hdr.Set("User-Agent", "WooCommerce/9.9.0 Hookshot (WordPress/6.8)")
		s.queue = append(s.queue, delivery{hookID: id, url: du, body: []byte("webhook_id=" + strconv.FormatInt(id, 10)), header: hdr})
		s.signal()
		return 201, s.hookJSON(h), nil, nil
	}
	if len(seg) != 2 {
		return 0, nil, nil, noRoute
	}
	id, err := strconv.ParseInt(seg[1], 10, 64)
	h, ok := s.webhooks[id]
	if err != nil || !ok {
		return 0, nil, nil, errBody(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
	}
	switch m {
	case http.MethodGet:
		return 200, s.hookJSON(h), nil, nil
	case http.MethodPut, http.MethodPost:
		for _, k := range []string{"name", "status", "delivery_url"} {
			if v, ok := body[k].(string); ok {
				h.data[k] = v
			}
		}
		h.url = fmt.Sprint(h.data["delivery_url"])
		if v, ok := body["secret"].(string); ok && v != "" {
			h.secret = v
		}
		if h.data["status"] == "active" {
			h.failures = 0
		}
		return 200, s.hookJSON(h), nil, nil
	case http.MethodDelete:
		if q.Get("force") != "true" && q.Get("force") != "1" {
			return 0, nil, nil, errBody(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
		}
		out := s.hookJSON(h)
		delete(s.webhooks, id)
		return 200, out, nil, nil
	}
	return 0, nil, nil, noRoute
}
