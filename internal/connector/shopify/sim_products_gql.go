package shopify

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// The simulator's GraphQL product operations: productSet (create, or update with the product's
// id; the variant list is replaced as Shopify documents: variants with an id updated, others
// created, those left out deleted) and product(id:) with its variants. Products live in the same
// store as the REST resources, so what GraphQL writes REST reads, and the other way round.

type simSetVariant struct {
	ID           string `json:"id"`
	OptionValues []struct {
		OptionName string `json:"optionName"`
		Name       string `json:"name"`
	} `json:"optionValues"`
	Price         *string `json:"price"`
	SKU           *string `json:"sku"`
	Barcode       *string `json:"barcode"`
	InventoryItem *struct {
		Tracked     *bool `json:"tracked"`
		Measurement *struct {
			Weight *struct {
				Value json.Number `json:"value"`
				Unit  string      `json:"unit"`
			} `json:"weight"`
		} `json:"measurement"`
	} `json:"inventoryItem"`
	InventoryQuantities []struct {
		LocationID string `json:"locationId"`
		Name       string `json:"name"`
		Quantity   int    `json:"quantity"`
	} `json:"inventoryQuantities"`
}

type simSetInput struct {
	ID              string           `json:"id"`
	Title           *string          `json:"title"`
	DescriptionHTML *string          `json:"descriptionHtml"`
	ProductType     *string          `json:"productType"`
	Status          *string          `json:"status"`
	Variants        *[]simSetVariant `json:"variants"`
	Metafields      *[]struct {
		Namespace string `json:"namespace"`
		Key       string `json:"key"`
		Type      string `json:"type"`
		Value     string `json:"value"`
	} `json:"metafields"`
}

var simWeightUnits = map[string]string{"GRAMS": "g", "KILOGRAMS": "kg", "OUNCES": "oz", "POUNDS": "lb"}

// productSetField answers productSet; s.mu is held.
func (s *Simulator) productSetField(req gqlReq) any {
	var in simSetInput
	dec := json.NewDecoder(strings.NewReader(string(req.Variables["input"])))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return userErrs("input is not a ProductSetInput", "input")
	}
	var p productJSON
	var old *productJSON
	if in.ID != "" {
		cur, ok := s.products[gidNumber(in.ID)]
		if !ok || !strings.HasPrefix(in.ID, "gid://shopify/Product/") {
			return map[string]any{"product": nil, "userErrors": []map[string]any{{"field": []string{"input", "id"},
				"message": "Product does not exist", "code": "PRODUCT_DOES_NOT_EXIST"}}}
		}
		old = cur
		p = *cur
		p.Variants = append([]variantJSON(nil), cur.Variants...)
	} else {
		p.Status = "active"
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.DescriptionHTML != nil {
		p.BodyHTML = *in.DescriptionHTML
	}
	if in.ProductType != nil {
		p.ProductType = *in.ProductType
	}
	if in.Status != nil {
		p.Status = strings.ToLower(*in.Status)
	}
	type stock struct {
		loc int64
		qty int
	}
	var quantities [][]stock // per variant of p, for a created variant
	if in.Variants != nil {
		byID := map[int64]variantJSON{}
		for _, v := range p.Variants {
			byID[v.ID] = v
		}
		p.Variants = nil
		for i, sv := range *in.Variants {
			var v variantJSON
			if sv.ID != "" {
				o, ok := byID[gidNumber(sv.ID)]
				if !ok {
					return userErrs("Variant does not exist", "input", "variants", strconv.Itoa(i), "id")
				}
				v = o
			}
			if len(sv.OptionValues) > 0 {
				v.Option1, v.Title = sv.OptionValues[0].Name, sv.OptionValues[0].Name
			}
			if sv.Price != nil {
				v.Price = *sv.Price
			}
			if sv.SKU != nil {
				v.SKU = *sv.SKU
			}
			if sv.Barcode != nil {
				v.Barcode = *sv.Barcode
			}
			if it := sv.InventoryItem; it != nil {
				if it.Tracked != nil {
					v.InventoryManagement = nil
					if *it.Tracked {
						mg := "shopify"
						v.InventoryManagement = &mg
					}
				}
				if it.Measurement != nil && it.Measurement.Weight != nil {
					w := it.Measurement.Weight.Value
					v.Weight, v.WeightUnit = &w, simWeightUnits[it.Measurement.Weight.Unit]
					if v.WeightUnit == "" {
						return userErrs("Weight unit is not a WeightUnit", "input", "variants", strconv.Itoa(i), "inventoryItem", "measurement", "weight", "unit")
					}
				}
			}
			var q []stock
			for _, iq := range sv.InventoryQuantities {
				q = append(q, stock{loc: gidNumber(iq.LocationID), qty: iq.Quantity})
			}
			quantities = append(quantities, q)
			p.Variants = append(p.Variants, v)
		}
	}
	if len(p.Variants) == 0 {
		p.Variants = []variantJSON{{}}
		quantities = append(quantities, nil)
	}
	if errs := validateProduct(p, s.currency); len(errs) > 0 {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ue []map[string]any
		for _, k := range keys {
			name := strings.ToUpper(k[:1]) + strings.ReplaceAll(k[1:], ".", " ")
			for _, m := range errs[k] {
				code := "INVALID_INPUT"
				if m == "can't be blank" {
					code = "BLANK"
				}
				ue = append(ue, map[string]any{"field": append([]string{"input"}, strings.Split(k, ".")...), "message": name + " " + m, "code": code})
			}
		}
		return map[string]any{"product": nil, "userErrors": ue}
	}
	if old == nil {
		s.insertProduct(&p)
		old = s.products[p.ID]
	} else {
		for i := range p.Variants {
			s.fillVariant(&p, &p.Variants[i])
		}
		*old = p
		s.touch(old)
	}
	for i, v := range old.Variants {
		if v.InventoryManagement == nil {
			continue
		}
		if i < len(quantities) && len(quantities[i]) > 0 {
			for _, q := range quantities[i] {
				if _, stocked := s.levels[[2]int64{v.InventoryItemID, q.loc}]; stocked || s.hasLocation(q.loc) {
					s.setLevel(v.InventoryItemID, q.loc, q.qty)
				}
			}
			continue
		}
		if !s.stocked(v.InventoryItemID) {
			s.setLevel(v.InventoryItemID, s.locations[0].ID, 0)
		}
	}
	if in.Metafields != nil {
		for _, m := range *in.Metafields {
			if m.Namespace == refNamespace && m.Key == refKey {
				s.refs[old.ID] = m.Value
			}
		}
	}
	if in.ID == "" {
		s.notify("products/create", old)
	} else {
		s.notify("products/update", old)
	}
	return map[string]any{"product": s.gqlProductJSON(old), "userErrors": []any{}}
}

func (s *Simulator) hasLocation(id int64) bool {
	for _, l := range s.locations {
		if l.ID == id {
			return true
		}
	}
	return false
}

func (s *Simulator) stocked(item int64) bool {
	for _, l := range s.locations {
		if _, ok := s.levels[[2]int64{item, l.ID}]; ok {
			return true
		}
	}
	return false
}

// gqlProductJSON is a product as the client's queries select it.
func (s *Simulator) gqlProductJSON(p *productJSON) map[string]any {
	var nodes []map[string]any
	for _, v := range p.Variants {
		nodes = append(nodes, map[string]any{"id": gid("ProductVariant", v.ID), "title": v.Title, "sku": v.SKU, "price": v.Price,
			"inventoryItem": map[string]any{"id": gid("InventoryItem", v.InventoryItemID), "tracked": v.InventoryManagement != nil}})
	}
	return map[string]any{"id": gid("Product", p.ID), "updatedAt": p.UpdatedAt, "variants": map[string]any{"nodes": nodes}}
}

// inventoryItem finds the variant of an inventory item; s.mu is held.
func (s *Simulator) inventoryItem(item int64) bool {
	for _, p := range s.products {
		for _, v := range p.Variants {
			if v.InventoryItemID == item {
				return true
			}
		}
	}
	return false
}

// inventorySetQuantitiesField answers inventorySetQuantities: every quantity is set, or (on any
// error) none; an item not stocked at the location is ITEM_NOT_STOCKED_AT_LOCATION. s.mu is held.
func (s *Simulator) inventorySetQuantitiesField(req gqlReq) any {
	var in struct {
		Name       string `json:"name"`
		Reason     string `json:"reason"`
		Quantities []struct {
			InventoryItemID string `json:"inventoryItemId"`
			LocationID      string `json:"locationId"`
			Quantity        *int   `json:"quantity"`
		} `json:"quantities"`
	}
	if err := json.Unmarshal(req.Variables["input"], &in); err != nil {
		return userErrs("input is not an InventorySetQuantitiesInput", "input")
	}
	if in.Name != "available" && in.Name != "on_hand" {
		return map[string]any{"inventoryAdjustmentGroup": nil, "userErrors": []map[string]any{{"field": []string{"input", "name"},
			"message": "The quantity name must be either 'available' or 'on_hand'.", "code": "INVALID_NAME"}}}
	}
	var ue []map[string]any
	for i, q := range in.Quantities {
		path := func(f string) []string { return []string{"input", "quantities", strconv.Itoa(i), f} }
		item, loc := gidNumber(q.InventoryItemID), gidNumber(q.LocationID)
		switch {
		case q.Quantity == nil:
			ue = append(ue, map[string]any{"field": path("quantity"), "message": "The quantity is required.", "code": "INVALID_QUANTITY"})
		case !s.inventoryItem(item):
			ue = append(ue, map[string]any{"field": path("inventoryItemId"), "message": "The specified inventory item could not be found.", "code": "INVALID_INVENTORY_ITEM"})
		case !s.hasLocation(loc):
			ue = append(ue, map[string]any{"field": path("locationId"), "message": "The specified location could not be found.", "code": "INVALID_LOCATION"})
		default:
			if _, ok := s.levels[[2]int64{item, loc}]; !ok {
				ue = append(ue, map[string]any{"field": path("locationId"), "message": "The specified inventory item is not stocked at the location.", "code": "ITEM_NOT_STOCKED_AT_LOCATION"})
			}
		}
	}
	if len(ue) > 0 {
		return map[string]any{"inventoryAdjustmentGroup": nil, "userErrors": ue}
	}
	for _, q := range in.Quantities {
		l := s.setLevel(gidNumber(q.InventoryItemID), gidNumber(q.LocationID), *q.Quantity)
		s.notify("inventory_levels/update", l.level)
	}
	return map[string]any{"inventoryAdjustmentGroup": map[string]any{"id": gid("InventoryAdjustmentGroup", s.id())}, "userErrors": []any{}}
}

// inventoryActivateField answers inventoryActivate: the item is stocked at the location, with
// available when given. s.mu is held.
func (s *Simulator) inventoryActivateField(req gqlReq) any {
	item, loc := gidNumber(req.str("inventoryItemId")), gidNumber(req.str("locationId"))
	if !s.inventoryItem(item) || !s.hasLocation(loc) {
		return map[string]any{"inventoryLevel": nil, "userErrors": []map[string]any{{"field": []string{"inventoryItemId"}, "message": "The inventory item or the location could not be found."}}}
	}
	qty := 0
	if _, ok := req.Variables["available"]; ok {
		qty = req.num("available")
	}
	l, ok := s.levels[[2]int64{item, loc}]
	if !ok || req.Variables["available"] != nil {
		l = s.setLevel(item, loc, qty)
		s.notify("inventory_levels/update", l.level)
	}
	return map[string]any{"inventoryLevel": map[string]any{"id": gid("InventoryLevel", l.seq)}, "userErrors": []any{}}
}

// VariantStock answers a product's available stock per variant title and location.
func (s *Simulator) VariantStock(productID string) map[string]map[int64]int {
	id, _ := strconv.ParseInt(productID, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[int64]int{}
	p, ok := s.products[id]
	if !ok {
		return out
	}
	for _, v := range p.Variants {
		out[v.Title] = map[int64]int{}
		for _, l := range s.locations {
			if lv, ok := s.levels[[2]int64{v.InventoryItemID, l.ID}]; ok && lv.level.Available != nil {
				out[v.Title][l.ID] = *lv.level.Available
			}
		}
	}
	return out
}
