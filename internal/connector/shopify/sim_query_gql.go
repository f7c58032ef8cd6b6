package shopify

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The simulator's GraphQL queries are resolved field by field from the query's selection set, as
// the real schema resolves them: an answer has exactly the fields asked for (under their
// aliases), so its actual cost (answerCost) is that of what was selected and returned. It
// answers the Admin API's reads of products, variants, inventory items, inventory levels and
// locations:
//
//	products(first|last, after, before, query, sortKey: ID|UPDATED_AT|TITLE|CREATED_AT, reverse)
//	product(id) productVariant(id) productVariants(first, after, query) inventoryItem(id)
//	location(id) locations(first, after) shop
//
// with connections (nodes, edges { cursor node }, pageInfo) whose cursors are opaque base64 of
// the sort value and id, as Shopify's are. A field the schema does not have is the error
// Shopify answers for it (undefinedField), and a connection without first or last is refused.

// selField is one field of a selection set, its arguments resolved against the variables.
type selField struct {
	name, alias string
	args        map[string]any
	sel         []*selField
}

func (f *selField) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

// gqlParser reads an operation's selection sets from gqlTokens.
type gqlParser struct {
	toks []string
	i    int
	vars map[string]json.RawMessage
	err  error
}

// parseOperation answers the top selection set of the request's operation and whether it is a
// mutation.
func parseOperation(req gqlReq) ([]*selField, bool, error) {
	p := &gqlParser{toks: gqlTokens(req.Query), vars: req.Variables}
	mutation := false
	for p.i < len(p.toks) && p.toks[p.i] != "{" {
		if p.i == 0 && p.toks[0] == "mutation" {
			mutation = true
		}
		if p.toks[p.i] == "(" {
			p.i = skipParens(p.toks, p.i)
			continue
		}
		p.i++
	}
	if p.i >= len(p.toks) {
		return nil, mutation, fmt.Errorf("the document has no selection set")
	}
	sel := p.selection()
	return sel, mutation, p.err
}

func (p *gqlParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *gqlParser) fail(format string, a ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, a...)
	}
	p.i = len(p.toks)
}

// selection reads "{ field field ... }" (p.i at "{").
func (p *gqlParser) selection() []*selField {
	p.i++ // "{"
	var out []*selField
	for p.err == nil && p.i < len(p.toks) && p.peek() != "}" {
		if p.peek() == "..." { // an inline fragment: its fields belong to this object
			p.i++
			if p.peek() == "on" {
				p.i += 2
			}
			if p.peek() != "{" {
				p.fail("fragment spreads are not supported by the simulator")
				return nil
			}
			out = append(out, p.selection()...)
			continue
		}
		f := &selField{name: p.peek()}
		p.i++
		if p.peek() == ":" {
			p.i++
			f.alias, f.name = f.name, p.peek()
			p.i++
		}
		if p.peek() == "(" {
			f.args = p.arguments()
		}
		for p.peek() == "@" { // directives are accepted and ignored
			p.i += 2
			if p.peek() == "(" {
				p.i = skipParens(p.toks, p.i)
			}
		}
		if p.peek() == "{" {
			f.sel = p.selection()
		}
		out = append(out, f)
	}
	if p.peek() != "}" {
		p.fail("a selection set is not closed")
	}
	p.i++
	return out
}

// arguments reads "(name: value, ...)".
func (p *gqlParser) arguments() map[string]any {
	p.i++ // "("
	args := map[string]any{}
	for p.err == nil && p.i < len(p.toks) && p.peek() != ")" {
		name := p.peek()
		p.i++
		if p.peek() != ":" {
			p.fail("argument %s has no value", name)
			return nil
		}
		p.i++
		args[name] = p.value()
	}
	p.i++ // ")"
	return args
}

// value reads one argument value: a $variable (decoded from JSON), a string, a number, a
// boolean, null, an enum name, or a list of these.
func (p *gqlParser) value() any {
	t := p.peek()
	p.i++
	switch {
	case t == "$":
		name := p.peek()
		p.i++
		raw, ok := p.vars[name]
		if !ok {
			return nil
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			p.fail("variable %s is not JSON", name)
		}
		return v
	case t == "[":
		var list []any
		for p.err == nil && p.i < len(p.toks) && p.peek() != "]" {
			list = append(list, p.value())
		}
		p.i++
		return list
	case t == "{":
		depth := 1
		for p.i < len(p.toks) && depth > 0 {
			switch p.peek() {
			case "{":
				depth++
			case "}":
				depth--
			}
			p.i++
		}
		return map[string]any{} // object literals: the simulator's callers use variables
	case strings.HasPrefix(t, `"`):
		s, err := strconv.Unquote(t)
		if err != nil {
			return strings.Trim(t, `"`)
		}
		return s
	case t == "true" || t == "false":
		return t == "true"
	case t == "null":
		return nil
	case t != "" && (t[0] == '-' || t[0] >= '0' && t[0] <= '9'):
		return json.Number(t)
	}
	return t // an enum value
}

// argInt reads an Int argument (-1 when absent).
func argInt(args map[string]any, k string) int {
	switch v := args[k].(type) {
	case json.Number:
		n, err := strconv.Atoi(v.String())
		if err == nil {
			return n
		}
	case float64:
		return int(v)
	case int:
		return v
	}
	return -1
}

func argStr(args map[string]any, k string) string {
	s, _ := args[k].(string)
	return s
}

func argBool(args map[string]any, k string) bool {
	b, _ := args[k].(bool)
	return b
}

// resolver answers one query; s.mu is held while it runs.
type resolver struct {
	s     *Simulator
	err   *gqlError
	items map[int64][2]int64 // inventory item -> product, variant (built on first use)
}

func (r *resolver) fail(code, format string, a ...any) any {
	if r.err == nil {
		r.err = &gqlError{code: code, msg: fmt.Sprintf(format, a...)}
	}
	return nil
}

func (r *resolver) undefined(typ string, f *selField) any {
	return r.fail("undefinedField", "Field '%s' doesn't exist on type '%s'", f.name, typ)
}

// object answers the selected fields of one object: field resolves each by name, and answers
// false for a field the type does not have.
func (r *resolver) object(typ string, sel []*selField, field func(f *selField) (any, bool)) map[string]any {
	out := make(map[string]any, len(sel))
	for _, f := range sel {
		if f.name == "__typename" {
			out[f.key()] = typ
			continue
		}
		v, ok := field(f)
		if !ok {
			r.undefined(typ, f)
			return nil
		}
		out[f.key()] = v
	}
	return out
}

// citem is one item of a connection: its sort value, its id (the tie-break) and its node.
type citem struct {
	value string
	id    int64
	node  func(sel []*selField) any
}

type cursorJSON struct {
	LastID    int64  `json:"last_id"`
	LastValue string `json:"last_value"`
}

func encodeCursor(it citem) string {
	b, _ := json.Marshal(cursorJSON{LastID: it.id, LastValue: it.value})
	return base64.StdEncoding.EncodeToString(b)
}

func cmpItem(a citem, value string, id int64) int {
	if c := strings.Compare(a.value, value); c != 0 {
		return c
	}
	switch {
	case a.id < id:
		return -1
	case a.id > id:
		return 1
	}
	return 0
}

// connection pages items (sorted ascending by value, then id; reverse turns them round) by
// first/after or last/before, and answers the selected nodes, edges and pageInfo.
func (r *resolver) connection(typ string, f *selField, items []citem, reverse bool) any {
	first, last := argInt(f.args, "first"), argInt(f.args, "last")
	if first < 0 && last < 0 {
		return r.fail("MISSING_ARGUMENT", "you must provide one of first or last")
	}
	if first > 250 || last > 250 {
		return r.fail("BAD_REQUEST", "The first or last argument of %s must be at most 250", f.name)
	}
	if reverse {
		items = append([]citem(nil), items...)
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	dir := 1
	if reverse {
		dir = -1
	}
	from, to := 0, len(items)
	for _, b := range []struct {
		arg   string
		after bool
	}{{"after", true}, {"before", false}} {
		c := argStr(f.args, b.arg)
		if c == "" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(c)
		var cj cursorJSON
		if err != nil || json.Unmarshal(raw, &cj) != nil {
			return r.fail("BAD_REQUEST", "Invalid cursor for the %s argument", b.arg)
		}
		// items are in page order: after skips those up to the cursor, before ends at it
		i := sort.Search(len(items), func(i int) bool {
			c := cmpItem(items[i], cj.LastValue, cj.LastID) * dir
			if b.after {
				return c > 0
			}
			return c >= 0
		})
		if b.after {
			from = i
		} else {
			to = i
		}
	}
	if from > to {
		from = to
	}
	page := items[from:to]
	hasNext, hasPrev := false, from > 0
	if first >= 0 && len(page) > first {
		page, hasNext = page[:first], true
	} else if last >= 0 && len(page) > last {
		page, hasPrev = page[len(page)-last:], true
	}
	if first >= 0 {
		hasNext = hasNext || to < len(items)
	}
	return r.object(typ+"Connection", f.sel, func(g *selField) (any, bool) {
		switch g.name {
		case "nodes":
			nodes := make([]any, 0, len(page))
			for _, it := range page {
				nodes = append(nodes, it.node(g.sel))
			}
			return nodes, true
		case "edges":
			edges := make([]any, 0, len(page))
			for _, it := range page {
				it := it
				edges = append(edges, r.object(typ+"Edge", g.sel, func(h *selField) (any, bool) {
					switch h.name {
					case "cursor":
						return encodeCursor(it), true
					case "node":
						return it.node(h.sel), true
					}
					return nil, false
				}))
			}
			return edges, true
		case "pageInfo":
			return r.object("PageInfo", g.sel, func(h *selField) (any, bool) {
				switch h.name {
				case "hasNextPage":
					return hasNext, true
				case "hasPreviousPage":
					return hasPrev, true
				case "startCursor", "endCursor":
					if len(page) == 0 {
						return nil, true
					}
					if h.name == "startCursor" {
						return encodeCursor(page[0]), true
					}
					return encodeCursor(page[len(page)-1]), true
				}
				return nil, false
			}), true
		}
		return nil, false
	})
}

// queryRoot answers one root field of a query.
func (r *resolver) queryRoot(f *selField) any {
	s := r.s
	switch f.name {
	case "shop":
		return r.object("Shop", f.sel, func(g *selField) (any, bool) {
			switch g.name {
			case "id":
				return gid("Shop", s.appID), true
			case "name":
				return s.shopName, true
			case "currencyCode":
				return s.currency, true
			case "myshopifyDomain":
				return s.shopName + ".myshopify.com", true
			case "timezoneOffsetMinutes":
				return 60, true
			case "ianaTimezone":
				return "Europe/Amsterdam", true
			case "customerAccounts":
				return "OPTIONAL", true
			}
			return nil, false
		})
	case "products":
		return r.products(f)
	case "product":
		p, ok := s.products[r.gidArg(f, "id", "Product")]
		if !ok {
			return nil
		}
		return r.product(p, f.sel)
	case "productVariant":
		p, v := s.variant(r.gidArg(f, "id", "ProductVariant"))
		if v == nil {
			return nil
		}
		return r.variant(p, v, f.sel)
	case "productVariants":
		return r.productVariants(f)
	case "inventoryItem":
		pv, ok := r.item(r.gidArg(f, "id", "InventoryItem"))
		if !ok {
			return nil
		}
		p, v := r.pv(pv)
		if v == nil {
			return nil
		}
		return r.inventoryItem(p, v, f.sel)
	case "location":
		id := r.gidArg(f, "id", "Location")
		for i := range s.locations {
			if s.locations[i].ID == id {
				return r.location(&s.locations[i], f.sel)
			}
		}
		return nil
	case "locations":
		items := make([]citem, 0, len(s.locations))
		for i := range s.locations {
			l := &s.locations[i]
			if !l.Active && !argBool(f.args, "includeInactive") {
				continue
			}
			items = append(items, citem{id: l.ID, node: func(sel []*selField) any { return r.location(l, sel) }})
		}
		return r.connection("Location", f, items, argBool(f.args, "reverse"))
	}
	return r.undefined("QueryRoot", f)
}

// gidArg reads a global id argument of the kind given (0 when it names another kind).
func (r *resolver) gidArg(f *selField, arg, kind string) int64 {
	g := argStr(f.args, arg)
	if !strings.HasPrefix(g, "gid://shopify/"+kind+"/") {
		if g == "" {
			r.fail("MISSING_ARGUMENT", "Field '%s' is missing required argument: %s", f.name, arg)
		}
		return 0
	}
	return gidNumber(g)
}

// item finds the product and variant of an inventory item.
func (r *resolver) item(id int64) ([2]int64, bool) {
	if r.items == nil {
		r.items = map[int64][2]int64{}
		for _, p := range r.s.products {
			for _, v := range p.Variants {
				r.items[v.InventoryItemID] = [2]int64{p.ID, v.ID}
			}
		}
	}
	pv, ok := r.items[id]
	return pv, ok
}

// pv finds a product and its variant by their ids.
func (r *resolver) pv(ids [2]int64) (*productJSON, *variantJSON) {
	p, ok := r.s.products[ids[0]]
	if !ok {
		return nil, nil
	}
	for i := range p.Variants {
		if p.Variants[i].ID == ids[1] {
			return p, &p.Variants[i]
		}
	}
	return nil, nil
}

// searchTerm is one term of Shopify's search syntax: field:value, field:>value, field:>=value
// (also < and <=), or a bare word matched against the title.
type searchTerm struct {
	field, op, value string
}

var termRE = regexp.MustCompile(`(?:(\w+):(>=|<=|>|<)?('[^']*'|"[^"]*"|\S+))|(\S+)`)

func parseSearch(q string) []searchTerm {
	var out []searchTerm
	for _, m := range termRE.FindAllStringSubmatch(q, -1) {
		if m[4] != "" {
			if strings.EqualFold(m[4], "AND") {
				continue
			}
			out = append(out, searchTerm{value: strings.ToLower(m[4])})
			continue
		}
		op := m[2]
		if op == "" {
			op = ":"
		}
		out = append(out, searchTerm{field: strings.ToLower(m[1]), op: op, value: strings.Trim(m[3], `'"`)})
	}
	return out
}

// matchTime compares a time with a search value (RFC 3339, or a date).
func matchTime(t time.Time, op, value string) bool {
	v, err := time.Parse(time.RFC3339, value)
	if err != nil {
		if v, err = time.Parse("2006-01-02", value); err != nil {
			return false
		}
	}
	switch op {
	case ">":
		return t.After(v)
	case ">=":
		return !t.Before(v)
	case "<":
		return t.Before(v)
	case "<=":
		return !t.After(v)
	}
	return t.Equal(v)
}

func matchID(id int64, op, value string) bool {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return false
	}
	switch op {
	case ">":
		return id > n
	case ">=":
		return id >= n
	case "<":
		return id < n
	case "<=":
		return id <= n
	}
	return id == n
}

// productMatches applies products(query:): updated_at, created_at, id, sku, barcode, handle,
// status, product_type, title and bare words (in the title).
func (r *resolver) productMatches(p *productJSON, terms []searchTerm) bool {
	for _, t := range terms {
		ok := false
		switch t.field {
		case "":
			ok = strings.Contains(strings.ToLower(p.Title), t.value)
		case "updated_at":
			ok = matchTime(r.s.pUpdated[p.ID], t.op, t.value)
		case "created_at":
			ok = matchTime(parseTime(p.CreatedAt), t.op, t.value)
		case "id":
			ok = matchID(p.ID, t.op, t.value)
		case "sku", "barcode":
			for _, v := range p.Variants {
				if t.field == "sku" && strings.EqualFold(v.SKU, t.value) || t.field == "barcode" && v.Barcode == t.value {
					ok = true
				}
			}
		case "handle":
			ok = p.Handle == t.value
		case "status":
			ok = strings.EqualFold(p.Status, t.value)
		case "product_type":
			ok = strings.EqualFold(p.ProductType, t.value)
		case "title":
			ok = strings.Contains(strings.ToLower(p.Title), strings.ToLower(t.value))
		default:
			ok = true // a filter the simulator does not know narrows nothing
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r *resolver) products(f *selField) any {
	s := r.s
	terms := parseSearch(argStr(f.args, "query"))
	sortKey := argStr(f.args, "sortKey")
	items := make([]citem, 0, len(s.products))
	for _, p := range s.products {
		if !r.productMatches(p, terms) {
			continue
		}
		p := p
		it := citem{id: p.ID, node: func(sel []*selField) any { return r.product(p, sel) }}
		switch sortKey {
		case "", "ID", "RELEVANCE":
		case "UPDATED_AT":
			it.value = s.pUpdated[p.ID].UTC().Format(time.RFC3339Nano)
		case "CREATED_AT":
			it.value = p.CreatedAt
		case "TITLE":
			it.value = strings.ToLower(p.Title)
		default:
			return r.fail("BAD_REQUEST", "Argument 'sortKey' on Field 'products' has an invalid value (%s)", sortKey)
		}
		items = append(items, it)
	}
	sortItems(items)
	return r.connection("Product", f, items, argBool(f.args, "reverse"))
}

func sortItems(items []citem) {
	sort.Slice(items, func(i, j int) bool { return cmpItem(items[i], items[j].value, items[j].id) < 0 })
}

func (r *resolver) productVariants(f *selField) any {
	terms := parseSearch(argStr(f.args, "query"))
	var items []citem
	for _, p := range r.s.products {
		for i := range p.Variants {
			p, v := p, &p.Variants[i]
			ok := true
			for _, t := range terms {
				switch t.field {
				case "sku":
					ok = ok && strings.EqualFold(v.SKU, t.value)
				case "barcode":
					ok = ok && v.Barcode == t.value
				case "product_id":
					ok = ok && matchID(p.ID, t.op, t.value)
				case "updated_at":
					ok = ok && matchTime(parseTime(v.UpdatedAt), t.op, t.value)
				}
			}
			if ok {
				items = append(items, citem{id: v.ID, node: func(sel []*selField) any { return r.variant(p, v, sel) }})
			}
		}
	}
	sortItems(items)
	return r.connection("ProductVariant", f, items, argBool(f.args, "reverse"))
}

var gqlWeightUnits = map[string]string{"g": "GRAMS", "kg": "KILOGRAMS", "oz": "OUNCES", "lb": "POUNDS"}

func (r *resolver) product(p *productJSON, sel []*selField) any {
	s := r.s
	return r.object("Product", sel, func(f *selField) (any, bool) {
		switch f.name {
		case "id":
			return gid("Product", p.ID), true
		case "legacyResourceId":
			return strconv.FormatInt(p.ID, 10), true
		case "title":
			return p.Title, true
		case "handle":
			return p.Handle, true
		case "descriptionHtml":
			return p.BodyHTML, true
		case "description":
			return stripTags(p.BodyHTML), true
		case "productType":
			return p.ProductType, true
		case "vendor":
			return p.Vendor, true
		case "status":
			return strings.ToUpper(p.Status), true
		case "tags":
			tags := []string{}
			for _, t := range strings.Split(p.Tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			return tags, true
		case "createdAt":
			return p.CreatedAt, true
		case "updatedAt":
			return p.UpdatedAt, true
		case "totalInventory":
			n := 0
			for _, v := range p.Variants {
				n += s.available(v.InventoryItemID)
			}
			return n, true
		case "tracksInventory":
			for _, v := range p.Variants {
				if v.InventoryManagement != nil {
					return true, true
				}
			}
			return false, true
		case "variantsCount":
			return r.object("Count", f.sel, func(g *selField) (any, bool) {
				switch g.name {
				case "count":
					return len(p.Variants), true
				case "precision":
					return "EXACT", true
				}
				return nil, false
			}), true
		case "variants":
			items := make([]citem, 0, len(p.Variants))
			for i := range p.Variants {
				v := &p.Variants[i]
				items = append(items, citem{value: fmt.Sprintf("%06d", i+1), id: v.ID, node: func(sel []*selField) any { return r.variant(p, v, sel) }})
			}
			return r.connection("ProductVariant", f, items, argBool(f.args, "reverse")), true
		case "metafield":
			ref, ok := s.refs[p.ID]
			if !ok || argStr(f.args, "namespace") != refNamespace || argStr(f.args, "key") != refKey {
				return nil, true
			}
			return r.object("Metafield", f.sel, func(g *selField) (any, bool) {
				switch g.name {
				case "value":
					return ref, true
				case "namespace":
					return refNamespace, true
				case "key":
					return refKey, true
				case "type":
					return "single_line_text_field", true
				}
				return nil, false
			}), true
		}
		return nil, false
	})
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(h string) string { return strings.TrimSpace(tagRE.ReplaceAllString(h, "")) }

// available is an inventory item's available quantity over every location; s.mu is held.
func (s *Simulator) available(item int64) int {
	n := 0
	for _, l := range s.locations {
		if lv, ok := s.levels[[2]int64{item, l.ID}]; ok && lv.level.Available != nil {
			n += *lv.level.Available
		}
	}
	return n
}

func (r *resolver) variant(p *productJSON, v *variantJSON, sel []*selField) any {
	return r.object("ProductVariant", sel, func(f *selField) (any, bool) {
		switch f.name {
		case "id":
			return gid("ProductVariant", v.ID), true
		case "legacyResourceId":
			return strconv.FormatInt(v.ID, 10), true
		case "title":
			return v.Title, true
		case "displayName":
			return p.Title + " - " + v.Title, true
		case "sku":
			return v.SKU, true
		case "barcode":
			if v.Barcode == "" {
				return nil, true
			}
			return v.Barcode, true
		case "price":
			return v.Price, true
		case "compareAtPrice":
			return nil, true
		case "position":
			for i := range p.Variants {
				if p.Variants[i].ID == v.ID {
					return i + 1, true
				}
			}
			return 1, true
		case "createdAt":
			return p.CreatedAt, true
		case "updatedAt":
			return v.UpdatedAt, true
		case "inventoryQuantity":
			return r.s.available(v.InventoryItemID), true
		case "selectedOptions":
			return []any{r.object("SelectedOption", f.sel, func(g *selField) (any, bool) {
				switch g.name {
				case "name":
					if v.Option1 == defaultValue {
						return defaultOption, true
					}
					return variantOption, true
				case "value":
					return v.Option1, true
				}
				return nil, false
			})}, true
		case "product":
			return r.product(p, f.sel), true
		case "inventoryItem":
			return r.inventoryItem(p, v, f.sel), true
		}
		return nil, false
	})
}

func (r *resolver) inventoryItem(p *productJSON, v *variantJSON, sel []*selField) any {
	s := r.s
	return r.object("InventoryItem", sel, func(f *selField) (any, bool) {
		switch f.name {
		case "id":
			return gid("InventoryItem", v.InventoryItemID), true
		case "legacyResourceId":
			return strconv.FormatInt(v.InventoryItemID, 10), true
		case "sku":
			return v.SKU, true
		case "tracked":
			return v.InventoryManagement != nil, true
		case "variant":
			return r.variant(p, v, f.sel), true
		case "measurement":
			return r.object("InventoryItemMeasurement", f.sel, func(g *selField) (any, bool) {
				if g.name != "weight" {
					return nil, g.name == "id"
				}
				if v.Weight == nil || v.WeightUnit == "" {
					return nil, true
				}
				return r.object("Weight", g.sel, func(h *selField) (any, bool) {
					switch h.name {
					case "value":
						return *v.Weight, true
					case "unit":
						return gqlWeightUnits[v.WeightUnit], true
					}
					return nil, false
				}), true
			}), true
		case "inventoryLevel":
			loc := r.gidArg(f, "locationId", "Location")
			l, ok := s.levels[[2]int64{v.InventoryItemID, loc}]
			if !ok {
				return nil, true
			}
			return r.level(l, f.sel), true
		case "inventoryLevels":
			return r.levels(f, func(k [2]int64) bool { return k[0] == v.InventoryItemID }), true
		}
		return nil, false
	})
}

func (r *resolver) location(l *locationJSON, sel []*selField) any {
	return r.object("Location", sel, func(f *selField) (any, bool) {
		switch f.name {
		case "id":
			return gid("Location", l.ID), true
		case "legacyResourceId":
			return strconv.FormatInt(l.ID, 10), true
		case "name":
			return l.Name, true
		case "isActive":
			return l.Active, true
		case "inventoryLevel":
			item := r.gidArg(f, "inventoryItemId", "InventoryItem")
			lv, ok := r.s.levels[[2]int64{item, l.ID}]
			if !ok {
				return nil, true
			}
			return r.level(lv, f.sel), true
		case "inventoryLevels":
			return r.levels(f, func(k [2]int64) bool { return k[1] == l.ID }), true
		}
		return nil, false
	})
}

// levels answers an inventoryLevels connection (query: updated_at, inventory_item_id), in the
// order the levels were made.
func (r *resolver) levels(f *selField, keep func(k [2]int64) bool) any {
	terms := parseSearch(argStr(f.args, "query"))
	var items []citem
	for k, l := range r.s.levels {
		if !keep(k) {
			continue
		}
		ok := true
		for _, t := range terms {
			switch t.field {
			case "updated_at":
				ok = ok && matchTime(l.updatedAt, t.op, t.value)
			case "inventory_item_id":
				ok = ok && matchID(k[0], t.op, t.value)
			}
		}
		if ok {
			l := l
			items = append(items, citem{id: l.seq, node: func(sel []*selField) any { return r.level(l, sel) }})
		}
	}
	sortItems(items)
	return r.connection("InventoryLevel", f, items, false)
}

// quantityNames are the inventory states InventoryLevel.quantities answers.
var quantityNames = map[string]bool{"available": true, "on_hand": true, "committed": true, "incoming": true,
	"reserved": true, "damaged": true, "safety_stock": true, "quality_control": true}

func (r *resolver) level(l *simLevel, sel []*selField) any {
	s := r.s
	return r.object("InventoryLevel", sel, func(f *selField) (any, bool) {
		switch f.name {
		case "id":
			return gid("InventoryLevel", l.seq), true
		case "updatedAt", "createdAt":
			return l.level.UpdatedAt, true
		case "location":
			for i := range s.locations {
				if s.locations[i].ID == l.level.LocationID {
					return r.location(&s.locations[i], f.sel), true
				}
			}
			return nil, true
		case "item":
			pv, ok := r.item(l.level.InventoryItemID)
			if !ok {
				return nil, true
			}
			p, v := r.pv(pv)
			if v == nil {
				return nil, true
			}
			return r.inventoryItem(p, v, f.sel), true
		case "quantities":
			names, _ := f.args["names"].([]any)
			if len(names) == 0 {
				return r.fail("MISSING_ARGUMENT", "Field 'quantities' is missing required argument: names"), true
			}
			out := make([]any, 0, len(names))
			for _, n := range names {
				name, _ := n.(string)
				if !quantityNames[name] {
					return r.fail("BAD_REQUEST", "The quantity name %q is not valid", name), true
				}
				q := 0
				if (name == "available" || name == "on_hand") && l.level.Available != nil {
					q = *l.level.Available
				}
				out = append(out, r.object("InventoryQuantity", f.sel, func(g *selField) (any, bool) {
					switch g.name {
					case "name":
						return name, true
					case "quantity":
						return q, true
					case "updatedAt":
						return l.level.UpdatedAt, true
					}
					return nil, false
				}))
			}
			return out, true
		}
		return nil, false
	})
}
