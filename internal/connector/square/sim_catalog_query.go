package square

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// searchableText lists the string attributes SearchCatalogObjects filters and sorts on, by
// object type (CatalogQuery: name on items and variations, description and abbreviation on
// items, sku and upc on variations). caption and display_name are searchable on image and item
// option objects, which the simulator does not hold: they are accepted and match nothing.
var searchableText = map[string]bool{"name": true, "description": true, "abbreviation": true, "sku": true, "upc": true,
	"caption": true, "display_name": true}

// rangeAttributes are the numeric attributes range_query accepts here. Square ranges numeric
// custom attributes, which the simulator does not hold; it ranges a variation's ordinal and
// its price amount in minor units (price_money) instead, and refuses every other name.
var rangeAttributes = map[string]bool{"ordinal": true, "price_money": true}

// textAttr returns an object's value of a searchable string attribute, false when the object's
// type does not have that attribute.
func textAttr(o catalogObject, name string) (string, bool) {
	switch {
	case o.Type == "ITEM" && o.ItemData != nil:
		switch name {
		case "name":
			return o.ItemData.Name, true
		case "description":
			return o.ItemData.Description, true
		}
	case o.Type == "ITEM_VARIATION" && o.ItemVariationData != nil:
		switch name {
		case "name":
			return o.ItemVariationData.Name, true
		case "sku":
			return o.ItemVariationData.SKU, true
		case "upc":
			return o.ItemVariationData.UPC, true
		}
	}
	return "", false
}

func numAttr(o catalogObject, name string) (int64, bool) {
	if o.Type != "ITEM_VARIATION" || o.ItemVariationData == nil {
		return 0, false
	}
	switch name {
	case "ordinal":
		return int64(o.ItemVariationData.Ordinal), true
	case "price_money":
		if p := o.ItemVariationData.PriceMoney; p != nil {
			return p.Amount, true
		}
	}
	return 0, false
}

// keywordsOf keeps the text_query keywords Square uses: those with 3 or more alphanumeric
// characters, lower-cased.
func keywordsOf(words []string) []string {
	var out []string
	for _, w := range words {
		n := 0
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				n++
			}
		}
		if n >= 3 {
			out = append(out, strings.ToLower(strings.TrimSpace(w)))
		}
	}
	return out
}

// tokens splits text into lower-case alphanumeric words.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// checkQuery refuses, with Square's 400 error, a query the simulator cannot answer truthfully:
// a query type it does not implement, a combination Square does not allow, a missing required
// field or an attribute that is not searchable.
func checkQuery(q *catalogQuery) *answer {
	refuse := func(code, detail, field string) *answer {
		a := fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", code, detail, field)
		return &a
	}
	for name, raw := range map[string][]byte{
		"items_for_tax_query": q.ItemsForTaxQuery, "items_for_modifier_list_query": q.ItemsForModifierListQuery,
		"items_for_item_options_query":                 q.ItemsForItemOptionsQuery,
		"item_variations_for_item_option_values_query": q.ItemVariationsForItemOptionValuesQuery,
	} {
		if len(raw) > 0 && string(raw) != "null" {
			return refuse("INVALID_VALUE", fmt.Sprintf("The simulator holds no taxes, modifier lists or item options and does not support %s.", name), "query."+name)
		}
	}
	combinable := 0
	for _, set := range []bool{q.ExactQuery != nil, q.PrefixQuery != nil, q.RangeQuery != nil, q.SortedAttributeQuery != nil, q.TextQuery != nil} {
		if set {
			combinable++
		}
	}
	if q.SetQuery != nil && combinable > 0 {
		return refuse("INVALID_VALUE", "set_query cannot be combined with other query types.", "query.set_query")
	}
	text := func(field, name string) *answer {
		if name == "" {
			return refuse("MISSING_REQUIRED_PARAMETER", "Field must be set", field+".attribute_name")
		}
		if !searchableText[name] {
			return refuse("INVALID_VALUE", fmt.Sprintf("Attribute %q is not searchable.", name), field+".attribute_name")
		}
		return nil
	}
	if e := q.ExactQuery; e != nil {
		if a := text("query.exact_query", e.AttributeName); a != nil {
			return a
		}
	}
	if e := q.SetQuery; e != nil {
		if a := text("query.set_query", e.AttributeName); a != nil {
			return a
		}
		if len(e.AttributeValues) == 0 {
			return refuse("MISSING_REQUIRED_PARAMETER", "Field must be set", "query.set_query.attribute_values")
		}
		if len(e.AttributeValues) > 250 {
			return refuse("ARRAY_LENGTH_TOO_LONG", "At most 250 attribute values may be searched.", "query.set_query.attribute_values")
		}
	}
	if e := q.PrefixQuery; e != nil {
		if a := text("query.prefix_query", e.AttributeName); a != nil {
			return a
		}
		if e.AttributePrefix == "" {
			return refuse("MISSING_REQUIRED_PARAMETER", "Field must be set", "query.prefix_query.attribute_prefix")
		}
	}
	if e := q.SortedAttributeQuery; e != nil {
		if a := text("query.sorted_attribute_query", e.AttributeName); a != nil {
			return a
		}
		if e.SortOrder != "" && e.SortOrder != "ASC" && e.SortOrder != "DESC" {
			return refuse("INVALID_ENUM_VALUE", fmt.Sprintf("Expected sort_order to be one of ASC, DESC; got %q.", e.SortOrder), "query.sorted_attribute_query.sort_order")
		}
	}
	if e := q.RangeQuery; e != nil {
		if e.AttributeName == "" {
			return refuse("MISSING_REQUIRED_PARAMETER", "Field must be set", "query.range_query.attribute_name")
		}
		if !rangeAttributes[e.AttributeName] {
			return refuse("INVALID_VALUE", fmt.Sprintf("The simulator ranges ordinal and price_money only, not %q.", e.AttributeName), "query.range_query.attribute_name")
		}
	}
	if e := q.TextQuery; e != nil {
		if len(e.Keywords) == 0 {
			return refuse("MISSING_REQUIRED_PARAMETER", "Field must be set", "query.text_query.keywords")
		}
		if len(e.Keywords) > 3 {
			return refuse("ARRAY_LENGTH_TOO_LONG", "A text query takes 1, 2 or 3 keywords.", "query.text_query.keywords")
		}
	}
	return nil
}

// matches tells whether an object passes every filter of the query.
func matches(q *catalogQuery, o catalogObject) bool {
	if e := q.ExactQuery; e != nil {
		v, has := textAttr(o, e.AttributeName)
		if !has || !strings.EqualFold(v, e.AttributeValue) {
			return false
		}
	}
	if e := q.SetQuery; e != nil {
		v, has := textAttr(o, e.AttributeName)
		if !has {
			return false
		}
		found := false
		for _, want := range e.AttributeValues {
			if strings.EqualFold(v, want) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if e := q.PrefixQuery; e != nil {
		v, has := textAttr(o, e.AttributeName)
		if !has || !strings.HasPrefix(strings.ToLower(v), strings.ToLower(e.AttributePrefix)) {
			return false
		}
	}
	if e := q.RangeQuery; e != nil {
		n, has := numAttr(o, e.AttributeName)
		if !has || (e.AttributeMinValue != nil && n < *e.AttributeMinValue) || (e.AttributeMaxValue != nil && n > *e.AttributeMaxValue) {
			return false
		}
	}
	if e := q.TextQuery; e != nil {
		var words []string
		for _, a := range []string{"name", "description", "abbreviation", "sku", "upc"} {
			if v, has := textAttr(o, a); has {
				words = append(words, tokens(v)...)
			}
		}
		for _, k := range keywordsOf(e.Keywords) {
			found := false
			for _, w := range words {
				if strings.HasPrefix(w, k) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	if e := q.SortedAttributeQuery; e != nil {
		v, has := textAttr(o, e.AttributeName)
		if !has {
			return false
		}
		if e.InitialAttributeValue != nil {
			c := strings.Compare(strings.ToLower(v), strings.ToLower(*e.InitialAttributeValue))
			if (e.SortOrder == "DESC" && c > 0) || (e.SortOrder != "DESC" && c < 0) {
				return false
			}
		}
	}
	return true
}

// sortByAttribute orders objects by the sorted_attribute_query's attribute (case-insensitive),
// then by id.
func sortByAttribute(objs []catalogObject, q *catalogQuerySortedAttribute) {
	key := func(o catalogObject) string {
		v, _ := textAttr(o, q.AttributeName)
		return strings.ToLower(v)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := key(objs[i]), key(objs[j])
		if a != b {
			if q.SortOrder == "DESC" {
				return a > b
			}
			return a < b
		}
		return objs[i].ID < objs[j].ID
	})
}

// queryPage answers one page of a search with a query: objs are already filtered and ordered;
// the cursor is the offset of the next page.
func queryPage(objs []catalogObject, cursor string, limit int, latest string) answer {
	start := 0
	if cursor != "" {
		v, okc := decodeCursor(cursor)
		n, err := strconv.Atoi(strings.TrimPrefix(v, "query:"))
		if !okc || !strings.HasPrefix(v, "query:") || err != nil || n < 0 || n > len(objs) {
			return invalidCursor()
		}
		start = n
	}
	objs = objs[start:]
	resp := searchCatalogResponse{Objects: objs[:min(limit, len(objs))], LatestTime: latest}
	if len(objs) > limit {
		resp.Cursor = encodeCursor(fmt.Sprintf("query:%d", start+limit))
	}
	return ok(resp)
}
