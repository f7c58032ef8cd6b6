package square

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The simulator models these writable Order fields; read-only fields a caller echoes back are
// ignored, as Square ignores them. Any other field (taxes, discounts, service_charges,
// fulfillments, pricing_options, rewards, ...) is refused with a 400 naming it rather than
// dropped without a word, since a dropped field is a difference from Square a user would meet.
var (
	orderWritable = map[string]bool{"location_id": true, "reference_id": true, "source": true, "customer_id": true,
		"line_items": true, "state": true, "ticket_name": true, "metadata": true, "version": true}
	orderReadOnly = map[string]bool{"id": true, "created_at": true, "updated_at": true, "closed_at": true,
		"total_money": true, "total_tax_money": true, "total_discount_money": true, "total_tip_money": true,
		"total_service_charge_money": true, "net_amount_due_money": true, "net_amounts": true}
	lineWritable = map[string]bool{"uid": true, "name": true, "quantity": true, "note": true, "catalog_object_id": true,
		"catalog_version": true, "item_type": true, "base_price_money": true, "metadata": true}
	lineReadOnly = map[string]bool{"variation_name": true, "gross_sales_money": true, "total_tax_money": true,
		"total_discount_money": true, "total_money": true, "variation_total_price_money": true}
	metadataKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,60}$`)
)

// maxTicketName is Square's limit on ticket_name.
const maxTicketName = 30

// rawOrder is the request's order as sent, to tell a field set to null (clear it) from one left
// out (keep it), which Square's sparse updates distinguish.
type rawOrder map[string]json.RawMessage

func isNull(r json.RawMessage) bool { return strings.TrimSpace(string(r)) == "null" }

// checkOrderFields refuses fields the simulator would otherwise drop and checks metadata.
func checkOrderFields(body []byte) (rawOrder, *answer) {
	refuse := func(detail, field string) (rawOrder, *answer) {
		a := badValue(detail, field)
		return nil, &a
	}
	var req struct {
		Order rawOrder `json:"order"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return refuse("The request body does not match the order request: "+err.Error(), "order")
	}
	for k := range req.Order {
		if !orderWritable[k] && !orderReadOnly[k] {
			return refuse(fmt.Sprintf("The simulator does not support the order field %s.", k), "order."+k)
		}
	}
	if raw, has := req.Order["ticket_name"]; has && !isNull(raw) {
		var t string
		if json.Unmarshal(raw, &t) != nil {
			return refuse("ticket_name must be a string.", "order.ticket_name")
		}
		if utf8.RuneCountInString(t) > maxTicketName {
			a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LONG", fmt.Sprintf("Field must not be greater than %d length.", maxTicketName), "order.ticket_name")
			return nil, &a
		}
	}
	if raw, has := req.Order["metadata"]; has && !isNull(raw) {
		if a := checkMetadata(raw, "order.metadata"); a != nil {
			return nil, a
		}
	}
	if raw, has := req.Order["line_items"]; has && !isNull(raw) {
		var lines []map[string]json.RawMessage
		if json.Unmarshal(raw, &lines) != nil {
			return refuse("line_items must be an array of line items.", "order.line_items")
		}
		for i, li := range lines {
			field := fmt.Sprintf("order.line_items[%d]", i)
			for k := range li {
				if !lineWritable[k] && !lineReadOnly[k] {
					return refuse(fmt.Sprintf("The simulator does not support the line item field %s.", k), field+"."+k)
				}
			}
			if m, has := li["metadata"]; has && !isNull(m) {
				if a := checkMetadata(m, field+".metadata"); a != nil {
					return nil, a
				}
			}
		}
	}
	return req.Order, nil
}

// checkMetadata checks a metadata object: string values (null clears an entry in an update),
// keys of 1 to 60 characters of [A-Za-z0-9_-], values of at most 255 characters, 10 entries.
func checkMetadata(raw json.RawMessage, field string) *answer {
	var m map[string]*string
	if err := json.Unmarshal(raw, &m); err != nil {
		a := badValue("metadata must map keys to string values.", field)
		return &a
	}
	if len(m) > 10 {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_VALUE", "Metadata may have at most 10 entries.", field)
		return &a
	}
	for k, v := range m {
		if !metadataKey.MatchString(k) {
			a := badValue(fmt.Sprintf("Metadata key %q must be 1 to 60 characters of letters, digits, _ and -.", k), field)
			return &a
		}
		if v != nil && utf8.RuneCountInString(*v) > 255 {
			a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "VALUE_TOO_LONG", fmt.Sprintf("The value of metadata key %s must not be greater than 255 length.", k), field+"."+k)
			return &a
		}
	}
	return nil
}

// mergeMetadata applies a sparse metadata update to cur: null clears it all, a key set to null
// is removed, others are set. It returns a new map (nil when empty).
func mergeMetadata(cur map[string]string, raw json.RawMessage) map[string]string {
	if isNull(raw) {
		return nil
	}
	var m map[string]*string
	_ = json.Unmarshal(raw, &m)
	out := make(map[string]string, len(cur)+len(m))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range m {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// withoutKey returns a copy of m without key (nil when empty).
func withoutKey(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cleanMetadata drops the null entries a create request may carry.
func cleanMetadata(raw json.RawMessage) map[string]string {
	if raw == nil {
		return nil
	}
	return mergeMetadata(nil, raw)
}
