package square

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- inventory ----

func (s *Simulator) hasLocation(id string) bool {
	for _, l := range s.locations {
		if l.ID == id {
			return true
		}
	}
	return false
}

func (s *Simulator) countOf(k countKey, c *simCount) inventoryCount {
	return inventoryCount{
		CatalogObjectID: k.variation, CatalogObjectType: "ITEM_VARIATION", State: "IN_STOCK", LocationID: k.location,
		Quantity: formatDecimal(c.qty, 5), CalculatedAt: c.calculatedAt.Format(timeLayout),
	}
}

func (s *Simulator) retrieveCounts(body []byte) answer {
	var req batchRetrieveCountsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match BatchRetrieveInventoryCountsRequest: "+err.Error(), "")
	}
	if req.Limit != 0 && (req.Limit < 1 || req.Limit > 1000) {
		return badValue("limit must be between 1 and 1000.", "limit")
	}
	limit := req.Limit
	if limit == 0 {
		limit = 1000
	}
	var after time.Time
	if req.UpdatedAfter != "" {
		t, err := time.Parse(time.RFC3339Nano, req.UpdatedAfter)
		if err != nil {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_TIME", "updated_after is not an RFC 3339 timestamp.", "updated_after")
		}
		after = t
	}
	in := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var out []inventoryCount
	for k, c := range s.counts {
		if !in(req.CatalogObjectIDs, k.variation) || !in(req.LocationIDs, k.location) || !in(req.States, "IN_STOCK") {
			continue
		}
		if !after.IsZero() && !c.calculatedAt.After(after) {
			continue
		}
		out = append(out, s.countOf(k, c))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.CalculatedAt != b.CalculatedAt {
			return a.CalculatedAt < b.CalculatedAt
		}
		return a.CatalogObjectID+a.LocationID < b.CatalogObjectID+b.LocationID
	})
	key := func(n inventoryCount) string { return n.CalculatedAt + "|" + n.CatalogObjectID + n.LocationID }
	if req.Cursor != "" {
		v, okc := decodeCursor(req.Cursor)
		last, found := strings.CutPrefix(v, "counts:")
		if !okc || !found {
			return invalidCursor()
		}
		start := sort.Search(len(out), func(i int) bool { return key(out[i]) > last })
		out = out[start:]
	}
	resp := batchRetrieveCountsResponse{Counts: out[:min(limit, len(out))]}
	if len(out) > limit {
		resp.Cursor = encodeCursor("counts:" + key(out[limit-1]))
	}
	if resp.Counts == nil {
		resp.Counts = []inventoryCount{}
	}
	return ok(resp)
}

func (s *Simulator) changeInventory(body []byte) answer {
	var req batchChangeInventoryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match BatchChangeInventoryRequest: "+err.Error(), "")
	}
	if len(req.Changes) > 100 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "ARRAY_LENGTH_TOO_LONG", "changes must have at most 100 elements.", "changes")
	}
	type op struct {
		k     countKey
		set   bool
		delta int64
	}
	var ops []op
	for i, ch := range req.Changes {
		field := fmt.Sprintf("changes[%d]", i)
		var obj, loc, qty, occurred string
		o := op{}
		switch ch.Type {
		case "PHYSICAL_COUNT":
			if ch.PhysicalCount == nil {
				return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", field+".physical_count")
			}
			pc := ch.PhysicalCount
			obj, loc, qty, occurred, o.set = pc.CatalogObjectID, pc.LocationID, pc.Quantity, pc.OccurredAt, true
			if pc.State != "IN_STOCK" {
				return badValue("The simulator counts the IN_STOCK state only.", field+".physical_count.state")
			}
		case "ADJUSTMENT":
			if ch.Adjustment == nil {
				return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", field+".adjustment")
			}
			a := ch.Adjustment
			obj, loc, qty, occurred = a.CatalogObjectID, a.LocationID, a.Quantity, a.OccurredAt
			switch {
			case a.FromState == "NONE" && a.ToState == "IN_STOCK":
				o.delta = 1
			case a.FromState == "IN_STOCK" && (a.ToState == "SOLD" || a.ToState == "WASTE"):
				o.delta = -1
			default:
				return badValue("The simulator supports adjustments NONE->IN_STOCK and IN_STOCK->SOLD|WASTE.", field+".adjustment")
			}
		default:
			return badValue(fmt.Sprintf("Unsupported inventory change type %q.", ch.Type), field+".type")
		}
		if _, found := s.varOwner[obj]; !found {
			return badValue(fmt.Sprintf("Catalog object %s is not an item variation of this seller.", obj), field+".catalog_object_id")
		}
		if !s.hasLocation(loc) {
			return badValue(fmt.Sprintf("Location %s not found.", loc), field+".location_id")
		}
		n, err := parseDecimal(qty, 5)
		if err != nil || n < 0 {
			return badValue(fmt.Sprintf("Quantity %q is not a non-negative decimal with at most 5 decimals.", qty), field+".quantity")
		}
		if _, err := time.Parse(time.RFC3339Nano, occurred); err != nil {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_TIME", "occurred_at must be an RFC 3339 timestamp.", field+".occurred_at")
		}
		o.k = countKey{obj, loc}
		if !o.set {
			o.delta *= n
		} else {
			o.delta = n
		}
		ops = append(ops, o)
	}
	t := s.tick()
	resp := batchChangeInventoryResponse{Counts: []inventoryCount{}}
	for _, o := range ops {
		c := s.counts[o.k]
		if c == nil {
			c = &simCount{}
			s.counts[o.k] = c
		}
		if o.set {
			c.qty = o.delta
		} else {
			c.qty += o.delta
		}
		c.calculatedAt = t
		n := s.countOf(o.k, c)
		resp.Counts = append(resp.Counts, n)
		s.emit("inventory.count.updated", "inventory", o.k.variation, map[string]any{"inventory_counts": []inventoryCount{n}})
	}
	return ok(resp)
}

// ---- orders ----

// CompleteOrder marks an OPEN order COMPLETED as if it had been paid at the register.
func (s *Simulator) CompleteOrder(id string) bool {
	s.mu.Lock()
	o := s.orders[id]
	if o == nil || o.State != "OPEN" {
		s.mu.Unlock()
		return false
	}
	t := s.tick().Format(timeLayout)
	o.State, o.ClosedAt, o.UpdatedAt = "COMPLETED", t, t
	o.Version++
	s.emitOrder("order.updated", o)
	events := s.pendingEvent
	s.pendingEvent = nil
	s.mu.Unlock()
	s.deliver(events)
	return true
}

func (s *Simulator) emitOrder(eventType string, o *order) {
	key := "order_created"
	if eventType == "order.updated" {
		key = "order_updated"
	}
	obj := map[string]any{"order_id": o.ID, "location_id": o.LocationID, "state": o.State, "version": o.Version, "created_at": o.CreatedAt}
	if key == "order_updated" {
		obj["updated_at"] = o.UpdatedAt
	}
	s.emit(eventType, key, o.ID, map[string]any{key: obj})
}

func (s *Simulator) locationCurrency(id string) string {
	for _, l := range s.locations {
		if l.ID == id {
			return l.Currency
		}
	}
	return ""
}

// checkLine validates a line item and fills what the catalog gives.
func (s *Simulator) checkLine(li *orderLineItem, currency, field string) *answer {
	if li.Quantity == "" {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", field+".quantity")
		return &a
	}
	if n, err := parseDecimal(li.Quantity, 5); err != nil || n <= 0 {
		a := badValue(fmt.Sprintf("Quantity %q must be a positive decimal.", li.Quantity), field+".quantity")
		return &a
	}
	if li.CatalogObjectID != "" {
		v, found := s.object(li.CatalogObjectID)
		if !found || v.Type != "ITEM_VARIATION" || v.IsDeleted {
			a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Item variation with catalog object ID `%s` not found.", li.CatalogObjectID), field+".catalog_object_id")
			return &a
		}
		if li.Name == "" {
			li.Name = s.items[s.varOwner[v.ID]].obj.ItemData.Name
		}
		li.VariationName = v.ItemVariationData.Name
		if li.BasePriceMoney == nil && v.ItemVariationData.PriceMoney != nil {
			p := *v.ItemVariationData.PriceMoney
			li.BasePriceMoney = &p
		}
	}
	if li.Name == "" || li.BasePriceMoney == nil {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "An ad hoc line item needs a name and base_price_money.", field)
		return &a
	}
	if li.BasePriceMoney.Currency != currency {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "CURRENCY_MISMATCH", fmt.Sprintf("The line item currency %s does not match the location currency %s.", li.BasePriceMoney.Currency, currency), field+".base_price_money.currency")
		return &a
	}
	if li.BasePriceMoney.Amount < 0 {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LOW", "base_price_money.amount must not be negative.", field+".base_price_money.amount")
		return &a
	}
	return nil
}

// total recomputes line and order totals (no taxes or discounts in the simulator).
func total(o *order, currency string) {
	var sum int64
	for i := range o.LineItems {
		li := &o.LineItems[i]
		q, _ := parseDecimal(li.Quantity, 5)
		amount := (li.BasePriceMoney.Amount*q + 50000) / 100000 // round half up
		li.ItemType = "ITEM"
		li.GrossSalesMoney = &money{Amount: amount, Currency: currency}
		li.TotalTaxMoney = &money{Amount: 0, Currency: currency}
		li.TotalDiscMoney = &money{Amount: 0, Currency: currency}
		li.TotalMoney = &money{Amount: amount, Currency: currency}
		sum += amount
	}
	o.TotalMoney = &money{Amount: sum, Currency: currency}
	o.TotalTaxMoney = &money{Amount: 0, Currency: currency}
	o.TotalDiscountMoney = &money{Amount: 0, Currency: currency}
	due := sum
	if o.State == "COMPLETED" || o.State == "CANCELED" {
		due = 0
	}
	o.NetAmountDueMoney = &money{Amount: due, Currency: currency}
}

func (s *Simulator) createOrder(body []byte) answer {
	var req createOrderRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match CreateOrderRequest: "+err.Error(), "")
	}
	raw, bad := checkOrderFields(body)
	if bad != nil {
		return *bad
	}
	o := req.Order
	o.Metadata = cleanMetadata(raw["metadata"])
	o.Fulfillments = s.newFulfillments(o.Fulfillments)
	if len(o.Fulfillments) == 0 {
		o.Fulfillments = nil
	}
	var rawLines []rawOrder
	_ = json.Unmarshal(raw["line_items"], &rawLines)
	for i := range o.LineItems {
		if i < len(rawLines) {
			o.LineItems[i].Metadata = cleanMetadata(rawLines[i]["metadata"])
		}
	}
	if o.LocationID == "" {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "order.location_id")
	}
	cur := s.locationCurrency(o.LocationID)
	if cur == "" {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Location `%s` not found.", o.LocationID), "order.location_id")
	}
	if len(o.ReferenceID) > 40 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LONG", "Field must not be greater than 40 length.", "order.reference_id")
	}
	if o.CustomerID != "" && s.customers[o.CustomerID] == nil {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Customer `%s` not found.", o.CustomerID), "order.customer_id")
	}
	switch o.State {
	case "":
		o.State = "OPEN"
	case "OPEN", "DRAFT":
	default:
		return badValue("A new order must be OPEN or DRAFT.", "order.state")
	}
	for i := range o.LineItems {
		if a := s.checkLine(&o.LineItems[i], cur, fmt.Sprintf("order.line_items[%d]", i)); a != nil {
			return *a
		}
		if o.LineItems[i].UID == "" {
			o.LineItems[i].UID = s.newID()[:22]
		}
	}
	t := s.tick().Format(timeLayout)
	o.ID = s.newID()[:22] + "eV"
	o.CreatedAt, o.UpdatedAt, o.ClosedAt, o.Version = t, t, "", 1
	total(&o, cur)
	s.orders[o.ID] = &o
	s.orderOrder = append(s.orderOrder, o.ID)
	s.emitOrder("order.created", &o)
	return ok(orderResponse{Order: &o})
}

func (s *Simulator) getOrder(rawID string) answer {
	id, _ := url.PathUnescape(rawID)
	o := s.orders[id]
	if o == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Order `%s` not found.", id), "")
	}
	c := *o
	return ok(orderResponse{Order: &c})
}

func (s *Simulator) updateOrder(rawID string, body []byte) answer {
	id, _ := url.PathUnescape(rawID)
	o := s.orders[id]
	if o == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Order `%s` not found.", id), "")
	}
	var req updateOrderRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match UpdateOrderRequest: "+err.Error(), "")
	}
	raw, bad := checkOrderFields(body)
	if bad != nil {
		return *bad
	}
	in := req.Order
	if in.Version == 0 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "order.version")
	}
	if in.Version != o.Version {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VERSION_MISMATCH", fmt.Sprintf("The order version %d does not match the current version %d.", in.Version, o.Version), "order.version")
	}
	if o.State == "COMPLETED" || o.State == "CANCELED" {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "BAD_REQUEST", fmt.Sprintf("An order in the %s state cannot be updated.", o.State), "order.state")
	}
	if in.LocationID != "" && in.LocationID != o.LocationID {
		return badValue("The location of an order cannot change.", "order.location_id")
	}
	next := *o
	next.LineItems = append([]orderLineItem(nil), o.LineItems...)
	for _, f := range req.FieldsToClear {
		switch {
		case f == "reference_id":
			next.ReferenceID = ""
		case f == "customer_id":
			next.CustomerID = ""
		case f == "ticket_name":
			next.TicketName = ""
		case f == "metadata":
			next.Metadata = nil
		case strings.HasPrefix(f, "metadata."):
			next.Metadata = withoutKey(next.Metadata, strings.TrimPrefix(f, "metadata."))
		case f == "line_items":
			next.LineItems = nil
		case f == "fulfillments":
			next.Fulfillments = nil
		case f == "pricing_options":
			next.PricingOptions = nil
		case strings.HasPrefix(f, "fulfillments[") && strings.HasSuffix(f, "]"):
			uid := strings.TrimSuffix(strings.TrimPrefix(f, "fulfillments["), "]")
			var kept []map[string]any
			for _, fl := range next.Fulfillments {
				if fl["uid"] != uid {
					kept = append(kept, fl)
				}
			}
			if len(kept) == len(next.Fulfillments) {
				return badValue(fmt.Sprintf("No fulfillment with uid %s to clear.", uid), "fields_to_clear")
			}
			next.Fulfillments = kept
		case strings.HasPrefix(f, "line_items[") && (strings.HasSuffix(f, "].note") || strings.HasSuffix(f, "].metadata")):
			uid, sub, _ := strings.Cut(strings.TrimPrefix(f, "line_items["), "].")
			found := false
			for i := range next.LineItems {
				if next.LineItems[i].UID == uid {
					found = true
					if sub == "note" {
						next.LineItems[i].Note = ""
					} else {
						next.LineItems[i].Metadata = nil
					}
				}
			}
			if !found {
				return badValue(fmt.Sprintf("No line item with uid %s to clear.", uid), "fields_to_clear")
			}
		case strings.HasPrefix(f, "line_items[") && strings.HasSuffix(f, "]"):
			uid := strings.TrimSuffix(strings.TrimPrefix(f, "line_items["), "]")
			found := false
			for i, li := range next.LineItems {
				if li.UID == uid {
					next.LineItems = append(next.LineItems[:i], next.LineItems[i+1:]...)
					found = true
					break
				}
			}
			if !found {
				return badValue(fmt.Sprintf("No line item with uid %s to clear.", uid), "fields_to_clear")
			}
		default:
			return badValue(fmt.Sprintf("The simulator cannot clear %q.", f), "fields_to_clear")
		}
	}
	if in.ReferenceID != "" {
		if len(in.ReferenceID) > 40 {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LONG", "Field must not be greater than 40 length.", "order.reference_id")
		}
		next.ReferenceID = in.ReferenceID
	}
	if in.CustomerID != "" {
		next.CustomerID = in.CustomerID
	}
	// A field sent as null is cleared (Square's sparse update); one left out is kept.
	for k, v := range raw {
		if !isNull(v) {
			continue
		}
		switch k {
		case "reference_id":
			next.ReferenceID = ""
		case "customer_id":
			next.CustomerID = ""
		case "ticket_name":
			next.TicketName = ""
		}
	}
	if in.TicketName != "" {
		next.TicketName = in.TicketName
	}
	if f, has := raw["fulfillments"]; has {
		if isNull(f) {
			next.Fulfillments = nil
		} else {
			next.Fulfillments = s.mergeFulfillments(next.Fulfillments, in.Fulfillments)
		}
	}
	if _, has := raw["pricing_options"]; has {
		next.PricingOptions = in.PricingOptions // null clears
	}
	if m, has := raw["metadata"]; has {
		next.Metadata = mergeMetadata(next.Metadata, m)
		if len(next.Metadata) > 10 {
			return badValue("Metadata may have at most 10 entries.", "order.metadata")
		}
	}
	var rawLines []rawOrder
	_ = json.Unmarshal(raw["line_items"], &rawLines)
	cur := s.locationCurrency(o.LocationID)
	for i, li := range in.LineItems {
		field := fmt.Sprintf("order.line_items[%d]", i)
		pos := -1
		for j := range next.LineItems {
			if li.UID != "" && next.LineItems[j].UID == li.UID {
				pos = j
			}
		}
		if pos < 0 { // a new line item
			if li.UID == "" {
				li.UID = s.newID()[:22]
			}
			if i < len(rawLines) {
				li.Metadata = cleanMetadata(rawLines[i]["metadata"])
			}
			if a := s.checkLine(&li, cur, field); a != nil {
				return *a
			}
			next.LineItems = append(next.LineItems, li)
			continue
		}
		merged := next.LineItems[pos] // a sparse update of an existing line item
		if li.Name != "" {
			merged.Name = li.Name
		}
		if li.Quantity != "" {
			merged.Quantity = li.Quantity
		}
		if li.BasePriceMoney != nil {
			merged.BasePriceMoney = li.BasePriceMoney
		}
		if li.CatalogObjectID != "" {
			merged.CatalogObjectID = li.CatalogObjectID
		}
		if li.Note != "" {
			merged.Note = li.Note
		}
		if li.QuantityUnit != nil {
			merged.QuantityUnit = li.QuantityUnit
		}
		if i < len(rawLines) {
			if m, has := rawLines[i]["metadata"]; has {
				merged.Metadata = mergeMetadata(merged.Metadata, m)
			}
		}
		if a := s.checkLine(&merged, cur, field); a != nil {
			return *a
		}
		next.LineItems[pos] = merged
	}
	t := s.tick().Format(timeLayout)
	switch in.State {
	case "", next.State:
	case "CANCELED":
		next.State, next.ClosedAt = "CANCELED", t
	case "COMPLETED":
		next.State, next.ClosedAt = "COMPLETED", t
	case "OPEN":
		if next.State != "DRAFT" {
			return badValue("Invalid state transition.", "order.state")
		}
		next.State = "OPEN"
	default:
		return badValue(fmt.Sprintf("Invalid state transition to %s.", in.State), "order.state")
	}
	next.Version++
	next.UpdatedAt = t
	total(&next, cur)
	*o = next
	s.emitOrder("order.updated", o)
	c := *o
	return ok(orderResponse{Order: &c})
}

func (s *Simulator) searchOrders(body []byte) answer {
	var req searchOrdersRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match SearchOrdersRequest: "+err.Error(), "")
	}
	if len(req.LocationIDs) == 0 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "location_ids")
	}
	if len(req.LocationIDs) > 10 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "ARRAY_LENGTH_TOO_LONG", "location_ids must have at most 10 elements.", "location_ids")
	}
	locs := map[string]bool{}
	for _, l := range req.LocationIDs {
		if !s.hasLocation(l) {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Location `%s` not found.", l), "location_ids")
		}
		locs[l] = true
	}
	limit := req.Limit
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	sortField, desc := "CREATED_AT", true
	var states map[string]bool
	var rng *timeRange
	rangeField := ""
	if q := req.Query; q != nil {
		if q.Sort != nil {
			sortField = q.Sort.SortField
			desc = q.Sort.SortOrder != "ASC"
		}
		if f := q.Filter; f != nil {
			if f.StateFilter != nil {
				states = map[string]bool{}
				for _, st := range f.StateFilter.States {
					states[st] = true
				}
			}
			if d := f.DateTimeFilter; d != nil {
				switch {
				case d.CreatedAt != nil:
					rng, rangeField = d.CreatedAt, "CREATED_AT"
				case d.UpdatedAt != nil:
					rng, rangeField = d.UpdatedAt, "UPDATED_AT"
				case d.ClosedAt != nil:
					rng, rangeField = d.ClosedAt, "CLOSED_AT"
				}
				if rangeField != sortField {
					return badValue("The sort_field must match the field of the date_time_filter.", "query.sort.sort_field")
				}
			}
		}
	}
	if sortField == "CLOSED_AT" && (states == nil || states["OPEN"] || states["DRAFT"]) {
		return badValue("Sorting or filtering on closed_at needs a state_filter of closed states.", "query.filter.state_filter")
	}
	at := func(o *order) string {
		switch sortField {
		case "UPDATED_AT":
			return o.UpdatedAt
		case "CLOSED_AT":
			return o.ClosedAt
		}
		return o.CreatedAt
	}
	var out []order
	for _, id := range s.orderOrder {
		o := s.orders[id]
		if !locs[o.LocationID] || states != nil && !states[o.State] {
			continue
		}
		if rng != nil && (rng.StartAt != "" && at(o) < normTime(rng.StartAt) || rng.EndAt != "" && at(o) > normTime(rng.EndAt)) {
			continue
		}
		out = append(out, *o)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if desc {
			return at(&out[i]) > at(&out[j])
		}
		return at(&out[i]) < at(&out[j])
	})
	start := 0
	if req.Cursor != "" {
		v, okc := decodeCursor(req.Cursor)
		n, err := strconv.Atoi(strings.TrimPrefix(v, "orders:"))
		if !okc || !strings.HasPrefix(v, "orders:") || err != nil || n < 0 || n > len(out) {
			return invalidCursor()
		}
		start = n
	}
	end := min(start+limit, len(out))
	resp := searchOrdersResponse{Orders: out[start:end]}
	if resp.Orders == nil {
		resp.Orders = []order{}
	}
	if end < len(out) {
		resp.Cursor = encodeCursor(fmt.Sprintf("orders:%d", end))
	}
	return ok(resp)
}

// normTime rewrites an RFC 3339 time in the simulator's layout so times compare as strings.
func normTime(v string) string {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return v
	}
	return t.UTC().Format(timeLayout)
}

// ---- customers ----

func (s *Simulator) listCustomers(r *http.Request) answer {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "EXPECTED_INTEGER", "limit must be an integer.", "limit")
		case n < 1:
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LOW", "limit must be at least 1.", "limit")
		case n > 100:
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_HIGH", "limit must be at most 100.", "limit")
		}
		limit = n
	}
	var all []customer
	for _, id := range s.custOrder {
		all = append(all, *s.customers[id])
	}
	return s.customerPage(all, q.Get("cursor"), limit)
}

func (s *Simulator) customerPage(all []customer, cursor string, limit int) answer {
	start := 0
	if cursor != "" {
		v, okc := decodeCursor(cursor)
		n, err := strconv.Atoi(strings.TrimPrefix(v, "customers:"))
		if !okc || !strings.HasPrefix(v, "customers:") || err != nil || n < 0 || n > len(all) {
			return invalidCursor()
		}
		start = n
	}
	end := min(start+limit, len(all))
	resp := listCustomersResponse{Customers: all[start:end]}
	if end < len(all) {
		resp.Cursor = encodeCursor(fmt.Sprintf("customers:%d", end))
	}
	return ok(resp)
}

func (s *Simulator) searchCustomers(body []byte) answer {
	var req searchCustomersRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match SearchCustomersRequest: "+err.Error(), "")
	}
	limit := req.Limit
	if limit == 0 {
		limit = 100
	}
	if limit < 1 || limit > 100 {
		return badValue("limit must be between 1 and 100.", "limit")
	}
	var rng *timeRange
	if req.Query != nil && req.Query.Filter != nil {
		rng = req.Query.Filter.UpdatedAt
	}
	var all []customer
	for _, id := range s.custOrder {
		c := s.customers[id]
		if rng != nil && (rng.StartAt != "" && c.UpdatedAt < normTime(rng.StartAt) || rng.EndAt != "" && c.UpdatedAt > normTime(rng.EndAt)) {
			continue
		}
		all = append(all, *c)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].UpdatedAt < all[j].UpdatedAt })
	return s.customerPage(all, req.Cursor, limit)
}

func (s *Simulator) createCustomer(body []byte) answer {
	var req createCustomerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match CreateCustomerRequest: "+err.Error(), "")
	}
	if req.GivenName == "" && req.FamilyName == "" && req.EmailAddress == "" && req.PhoneNumber == "" {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "BAD_REQUEST",
			"At least one of the following fields must be set: given_name, family_name, company_name, email_address, phone_number.", "")
	}
	if req.EmailAddress != "" && !strings.Contains(req.EmailAddress, "@") {
		return badValue("Expected email_address to be a valid email address.", "email_address")
	}
	t := s.tick().Format(timeLayout)
	c := &customer{ID: s.newID(), CreatedAt: t, UpdatedAt: t, GivenName: req.GivenName, FamilyName: req.FamilyName,
		EmailAddress: req.EmailAddress, PhoneNumber: req.PhoneNumber, ReferenceID: req.ReferenceID, Version: 0}
	s.customers[c.ID] = c
	s.custOrder = append(s.custOrder, c.ID)
	s.emit("customer.created", "customer", c.ID, map[string]any{"customer": c})
	return ok(customerResponse{Customer: c})
}

func (s *Simulator) getCustomer(rawID string) answer {
	id, _ := url.PathUnescape(rawID)
	c := s.customers[id]
	if c == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Customer with ID `%s` not found.", id), "")
	}
	return ok(customerResponse{Customer: c})
}

func (s *Simulator) updateCustomer(rawID string, body []byte) answer {
	id, _ := url.PathUnescape(rawID)
	c := s.customers[id]
	if c == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Customer with ID `%s` not found.", id), "")
	}
	var req updateCustomerRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match UpdateCustomerRequest: "+err.Error(), "")
	}
	if req.Version != nil && *req.Version != c.Version {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VERSION_MISMATCH", "The customer version does not match the latest version.", "version")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.GivenName, req.GivenName)
	set(&c.FamilyName, req.FamilyName)
	set(&c.EmailAddress, req.EmailAddress)
	set(&c.PhoneNumber, req.PhoneNumber)
	set(&c.ReferenceID, req.ReferenceID)
	c.Version++
	c.UpdatedAt = s.tick().Format(timeLayout)
	s.emit("customer.updated", "customer", c.ID, map[string]any{"customer": c})
	return ok(customerResponse{Customer: c})
}

// ---- webhook subscriptions ----

func (s *Simulator) createSubscription(body []byte) answer {
	var req createSubscriptionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match CreateWebhookSubscriptionRequest: "+err.Error(), "")
	}
	sub := req.Subscription
	u, err := url.Parse(sub.NotificationURL)
	if sub.NotificationURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return badValue("The notification URL is not valid.", "subscription.notification_url")
	}
	if len(sub.EventTypes) == 0 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "subscription.event_types")
	}
	t := s.tick().Format(timeLayout)
	sub.ID = "wbhk_" + strings.ToLower(s.newID())
	sub.SignatureKey = s.newSignatureKey()
	sub.CreatedAt, sub.UpdatedAt = t, t
	if sub.Enabled == nil {
		on := true
		sub.Enabled = &on
	}
	if sub.APIVersion == "" {
		sub.APIVersion = SquareVersion
	}
	s.subs[sub.ID] = &sub
	s.subOrder = append(s.subOrder, sub.ID)
	return ok(subscriptionResponse{Subscription: &sub})
}

func (s *Simulator) listSubscriptions() answer {
	resp := listSubscriptionsResponse{Subscriptions: []webhookSubscription{}}
	for _, id := range s.subOrder {
		if sub := s.subs[id]; sub != nil {
			c := *sub
			c.SignatureKey = "" // only creation and retrieval show the key
			resp.Subscriptions = append(resp.Subscriptions, c)
		}
	}
	return ok(resp)
}

func (s *Simulator) getSubscription(rawID string) answer {
	id, _ := url.PathUnescape(rawID)
	sub := s.subs[id]
	if sub == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Subscription with ID `%s` not found.", id), "")
	}
	return ok(subscriptionResponse{Subscription: sub})
}

// updateSubscription changes the fields sent (name, enabled, event_types, notification_url,
// api_version); the answer does not show the signature key.
func (s *Simulator) updateSubscription(rawID string, body []byte) answer {
	id, _ := url.PathUnescape(rawID)
	sub := s.subs[id]
	if sub == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Subscription with ID `%s` not found.", id), "")
	}
	var req struct {
		Subscription webhookSubscription `json:"subscription"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match UpdateWebhookSubscriptionRequest: "+err.Error(), "")
	}
	in, next := req.Subscription, *sub
	if in.NotificationURL != "" {
		u, err := url.Parse(in.NotificationURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return badValue("The notification URL is not valid.", "subscription.notification_url")
		}
		next.NotificationURL = in.NotificationURL
	}
	if in.Name != "" {
		next.Name = in.Name
	}
	if in.Enabled != nil {
		on := *in.Enabled
		next.Enabled = &on
	}
	if in.EventTypes != nil {
		next.EventTypes = append([]string(nil), in.EventTypes...)
	}
	if in.APIVersion != "" {
		next.APIVersion = in.APIVersion
	}
	next.UpdatedAt = s.tick().Format(timeLayout)
	*sub = next
	c := next
	c.SignatureKey = ""
	return ok(subscriptionResponse{Subscription: &c})
}

// rotateSignatureKey gives a subscription a new signature key; deliveries from now on are
// signed with it.
func (s *Simulator) rotateSignatureKey(id string) answer {
	id, _ = url.PathUnescape(id)
	sub := s.subs[id]
	if sub == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Subscription with ID `%s` not found.", id), "")
	}
	sub.SignatureKey = s.newSignatureKey()
	sub.UpdatedAt = s.tick().Format(timeLayout)
	return ok(map[string]string{"signature_key": sub.SignatureKey})
}

func (s *Simulator) deleteSubscription(rawID string) answer {
	id, _ := url.PathUnescape(rawID)
	if s.subs[id] == nil {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Subscription with ID `%s` not found.", id), "")
	}
	delete(s.subs, id)
	return ok(errorsBody{})
}

// VoidOrder cancels an OPEN order, as the seller would in Square's dashboard.
func (s *Simulator) VoidOrder(id string) bool {
	s.mu.Lock()
	o := s.orders[id]
	if o == nil || o.State != "OPEN" {
		s.mu.Unlock()
		return false
	}
	t := s.tick().Format(timeLayout)
	o.State, o.ClosedAt, o.UpdatedAt = "CANCELED", t, t
	o.Version++
	s.emitOrder("order.updated", o)
	events := s.pendingEvent
	s.pendingEvent = nil
	s.mu.Unlock()
	s.deliver(events)
	return true
}
