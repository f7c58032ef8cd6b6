package square

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// listPageSize is ListCatalog's fixed page size ("currently set to be 100").
const listPageSize = 100

// SeedProducts adds n sample items (one variation each, with stock at the first location) and
// returns their ids.
func (s *Simulator) SeedProducts(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		k := len(s.itemOrder) + 1
		obj := catalogObject{Type: "ITEM", ID: fmt.Sprintf("#seed%d", k), ItemData: &catalogItem{
			Name:        fmt.Sprintf("Sample product %d", k),
			Description: fmt.Sprintf("Sample product number %d of the Square simulator", k),
			Variations: []catalogObject{{Type: "ITEM_VARIATION", ID: fmt.Sprintf("#seed%d-v", k), ItemVariationData: &catalogVariation{
				ItemID: fmt.Sprintf("#seed%d", k), Name: "Regular", SKU: fmt.Sprintf("SQ-%05d", k), PricingType: "FIXED_PRICING",
				PriceMoney: &money{Amount: int64(100 + (k*37)%9900), Currency: s.currency}, TrackInventory: true,
			}}},
		}}
		saved, _, e := s.applyItem(obj, map[string]string{})
		if e != nil {
			continue
		}
		ids = append(ids, saved.ID)
		v := saved.ItemData.Variations[0].ID
		s.counts[countKey{v, s.locations[0].ID}] = &simCount{qty: int64(k%40) * 100000, calculatedAt: s.last}
	}
	return ids
}

// TouchProduct renames an item the way a merchant's edit in the Square Dashboard would.
func (s *Simulator) TouchProduct(id string) {
	s.mu.Lock()
	it := s.items[id]
	if it == nil || it.obj.IsDeleted {
		s.mu.Unlock()
		return
	}
	t := s.tick()
	it.obj.ItemData.Name += " (edited)"
	s.stamp(it, t)
	s.emitCatalog()
	events := s.pendingEvent
	s.pendingEvent = nil
	s.mu.Unlock()
	s.deliver(events)
}

// stamp gives an item and its variations a new version and updated_at.
func (s *Simulator) stamp(it *simItem, t time.Time) {
	it.obj.UpdatedAt = t.Format(timeLayout)
	it.obj.Version = t.UnixMilli()
	for i := range it.obj.ItemData.Variations {
		v := &it.obj.ItemData.Variations[i]
		v.UpdatedAt, v.Version = it.obj.UpdatedAt, it.obj.Version
	}
	s.catalogTime = t
}

func (s *Simulator) emitCatalog() {
	s.emit("catalog.version.updated", "catalog_version", "", map[string]any{
		"catalog_version": map[string]string{"updated_at": s.catalogTime.Format(timeLayout)},
	})
}

// validateItem checks an ITEM to write; it returns Square's error for a refused object.
func (s *Simulator) validateItem(o catalogObject) *sqError {
	bad := func(code, detail, field string) *sqError {
		return &sqError{Category: "INVALID_REQUEST_ERROR", Code: code, Detail: detail, Field: field}
	}
	if o.Type != "ITEM" {
		return bad("INVALID_VALUE", fmt.Sprintf("The simulator writes ITEM objects only, not %q.", o.Type), "type")
	}
	if o.ID == "" {
		return bad("MISSING_REQUIRED_PARAMETER", "Field must be set", "id")
	}
	if o.IsDeleted {
		return bad("INVALID_VALUE", "is_deleted must not be set to true.", "is_deleted")
	}
	if o.ItemData == nil || strings.TrimSpace(o.ItemData.Name) == "" {
		return bad("MISSING_REQUIRED_PARAMETER", fmt.Sprintf("Invalid Object with Id: %s. The item name is required.", o.ID), "item_data.name")
	}
	if len(o.ItemData.Name) > 512 {
		return bad("VALUE_TOO_LONG", "Field must not be greater than 512 length.", "item_data.name")
	}
	if !strings.HasPrefix(o.ID, "#") {
		cur := s.items[o.ID]
		if cur == nil || cur.obj.IsDeleted {
			return bad("INVALID_VALUE", fmt.Sprintf("Invalid Object with Id: %s. Received request to update nonexistent object %s.", o.ID, o.ID), "object_id")
		}
		if o.Version != cur.obj.Version {
			return bad("VERSION_MISMATCH", "Object version does not match latest database version.", "version")
		}
	}
	for _, v := range o.ItemData.Variations {
		if v.Type != "ITEM_VARIATION" || v.ItemVariationData == nil {
			return bad("INVALID_VALUE", "Item variations must be ITEM_VARIATION objects with item_variation_data.", "item_data.variations")
		}
		if !strings.HasPrefix(v.ID, "#") {
			owner, okOwner := s.varOwner[v.ID]
			if !okOwner || owner != o.ID {
				return bad("INVALID_VALUE", fmt.Sprintf("Invalid Object with Id: %s. Received request to update nonexistent object %s.", v.ID, v.ID), "object_id")
			}
			if v.Version != s.variation(v.ID).Version {
				return bad("VERSION_MISMATCH", "Object version does not match latest database version.", "version")
			}
		}
		if p := v.ItemVariationData.PriceMoney; p != nil {
			if p.Amount < 0 {
				return bad("VALUE_TOO_LOW", "price_money.amount must not be negative.", "price_money.amount")
			}
			if p.Currency != s.currency {
				return bad("INVALID_VALUE", fmt.Sprintf("Currency %s does not match the seller's currency %s.", p.Currency, s.currency), "price_money.currency")
			}
		}
	}
	return nil
}

func (s *Simulator) variation(id string) catalogObject {
	it := s.items[s.varOwner[id]]
	if it == nil {
		return catalogObject{}
	}
	for _, v := range it.obj.ItemData.Variations {
		if v.ID == id {
			return v
		}
	}
	return catalogObject{}
}

// applyItem validates and writes one ITEM, mapping temporary ids into mapping.
func (s *Simulator) applyItem(o catalogObject, mapping map[string]string) (catalogObject, []idMapping, *sqError) {
	if e := s.validateItem(o); e != nil {
		return catalogObject{}, nil, e
	}
	t := s.tick()
	var ids []idMapping
	id := o.ID
	if strings.HasPrefix(id, "#") {
		id = s.newID()
		mapping[o.ID] = id
		ids = append(ids, idMapping{ClientObjectID: o.ID, ObjectID: id})
	}
	it := s.items[id]
	if it == nil {
		s.seq++
		it = &simItem{seq: s.seq}
		s.items[id] = it
		s.itemOrder = append(s.itemOrder, id)
	} else {
		for _, v := range it.obj.ItemData.Variations { // variations left out are deleted
			delete(s.varOwner, v.ID)
		}
	}
	present := true
	item := *o.ItemData
	item.Variations = nil
	for j, v := range o.ItemData.Variations {
		vid := v.ID
		if strings.HasPrefix(vid, "#") {
			vid = s.newID()
			mapping[v.ID] = vid
			ids = append(ids, idMapping{ClientObjectID: v.ID, ObjectID: vid})
		}
		d := *v.ItemVariationData
		d.ItemID = id
		d.Ordinal = j + 1
		if d.PricingType == "" {
			d.PricingType = "FIXED_PRICING"
		}
		s.varOwner[vid] = id
		item.Variations = append(item.Variations, catalogObject{Type: "ITEM_VARIATION", ID: vid, PresentAtAllLocations: &present, ItemVariationData: &d})
	}
	it.obj = catalogObject{Type: "ITEM", ID: id, PresentAtAllLocations: &present, ItemData: &item}
	s.stamp(it, t)
	return it.obj, ids, nil
}

func (s *Simulator) upsertObject(body []byte) answer {
	var req upsertCatalogObjectRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match UpsertCatalogObjectRequest: "+err.Error(), "")
	}
	saved, ids, e := s.applyItem(req.Object, map[string]string{})
	if e != nil {
		return answer{status: http.StatusBadRequest, body: mustJSON(errorsBody{Errors: []sqError{*e}})}
	}
	s.emitCatalog()
	return ok(upsertCatalogObjectResponse{CatalogObject: &saved, IDMappings: ids})
}

func (s *Simulator) batchUpsert(body []byte) answer {
	var req batchUpsertRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match BatchUpsertCatalogObjectsRequest: "+err.Error(), "")
	}
	total := 0
	for _, b := range req.Batches {
		if len(b.Objects) > 1000 {
			return badValue(fmt.Sprintf("Too many objects (%d, max 1000) in a single batch in BatchUpsertCatalogObjects request.", len(b.Objects)), "batches")
		}
		for _, o := range b.Objects {
			total++
			if o.ItemData != nil {
				total += len(o.ItemData.Variations)
			}
		}
	}
	if total > 10000 {
		return badValue(fmt.Sprintf("Too many objects (%d, max 10000) in a BatchUpsertCatalogObjects request.", total), "batches")
	}
	resp := batchUpsertResponse{Objects: []catalogObject{}}
	mapping := map[string]string{}
	for _, b := range req.Batches {
		// A batch is all or nothing: check every object before writing any.
		var bad *sqError
		for _, o := range b.Objects {
			if bad = s.validateItem(o); bad != nil {
				break
			}
		}
		if bad != nil {
			resp.Errors = append(resp.Errors, *bad)
			continue
		}
		for _, o := range b.Objects {
			saved, ids, e := s.applyItem(o, mapping)
			if e != nil {
				resp.Errors = append(resp.Errors, *e)
				continue
			}
			resp.Objects = append(resp.Objects, saved)
			resp.IDMappings = append(resp.IDMappings, ids...)
		}
	}
	resp.UpdatedAt = s.catalogTime.Format(timeLayout)
	if len(resp.Objects) > 0 {
		s.emitCatalog()
	}
	if len(resp.Objects) == 0 && len(resp.Errors) > 0 {
		return answer{status: http.StatusBadRequest, body: mustJSON(errorsBody{Errors: resp.Errors})}
	}
	return ok(resp)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// typesOf parses ListCatalog's comma-separated, case-insensitive types.
func typesOf(s string) map[string]bool {
	out := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		out["ITEM"] = true
		return out
	}
	for _, t := range strings.Split(s, ",") {
		out[strings.ToUpper(strings.TrimSpace(t))] = true
	}
	return out
}

// flat lists the live catalog objects of the wanted types, items before their variations.
func (s *Simulator) flat(types map[string]bool, includeDeleted bool) []catalogObject {
	var out []catalogObject
	for _, id := range s.itemOrder {
		it := s.items[id]
		if it.obj.IsDeleted && !includeDeleted {
			continue
		}
		if types["ITEM"] {
			out = append(out, it.obj)
		}
		if types["ITEM_VARIATION"] {
			out = append(out, it.obj.ItemData.Variations...)
		}
	}
	return out
}

func (s *Simulator) listCatalog(r *http.Request) answer {
	q := r.URL.Query()
	types := typesOf(q.Get("types"))
	var after int64
	if c := q.Get("cursor"); c != "" {
		v, okc := decodeCursor(c)
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "list:"), 10, 64)
		if !okc || !strings.HasPrefix(v, "list:") || err != nil || n < 0 {
			return invalidCursor()
		}
		after = n
	}
	// Pages end at an item boundary; the cursor is the creation sequence of the page's last
	// item, so items added or deleted meanwhile neither shift nor repeat the rest.
	resp := listCatalogResponse{Objects: []catalogObject{}}
	var last int64
	more := false
	// itemOrder is in creation order, so the page starts right after the cursor's item.
	from := sort.Search(len(s.itemOrder), func(i int) bool { return s.items[s.itemOrder[i]].seq > after })
	for _, id := range s.itemOrder[from:] {
		it := s.items[id]
		if it.seq <= after || it.obj.IsDeleted {
			continue
		}
		if len(resp.Objects) >= listPageSize {
			more = true
			break
		}
		if types["ITEM"] {
			resp.Objects = append(resp.Objects, it.obj)
		}
		if types["ITEM_VARIATION"] {
			resp.Objects = append(resp.Objects, it.obj.ItemData.Variations...)
		}
		last = it.seq
	}
	if more {
		resp.Cursor = encodeCursor(fmt.Sprintf("list:%d", last))
	}
	return ok(resp)
}

func (s *Simulator) searchCatalog(body []byte) answer {
	var req searchCatalogRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match SearchCatalogObjectsRequest: "+err.Error(), "")
	}
	types := map[string]bool{}
	for _, t := range req.ObjectTypes {
		types[strings.ToUpper(t)] = true
	}
	if len(types) == 0 {
		types["ITEM"] = true
	}
	var begin time.Time
	if req.BeginTime != "" {
		t, err := time.Parse(time.RFC3339Nano, req.BeginTime)
		if err != nil {
			return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "INVALID_TIME", "begin_time is not an RFC 3339 timestamp.", "begin_time")
		}
		begin = t
	}
	if req.Query != nil {
		if a := checkQuery(req.Query); a != nil {
			return *a
		}
	}
	var objs []catalogObject
	for _, o := range s.flat(types, req.IncludeDeletedObjects) {
		if !begin.IsZero() {
			if t, _ := time.Parse(time.RFC3339Nano, o.UpdatedAt); !t.After(begin) {
				continue
			}
		}
		if req.Query != nil && !matches(req.Query, o) {
			continue
		}
		objs = append(objs, o)
	}
	// Ordered by (updated_at, id); the cursor is the last key returned, so an object changed
	// while pages are read moves behind the cursor and is returned again rather than skipped.
	sort.Slice(objs, func(i, j int) bool {
		if objs[i].UpdatedAt != objs[j].UpdatedAt {
			return objs[i].UpdatedAt < objs[j].UpdatedAt
		}
		return objs[i].ID < objs[j].ID
	})
	limit := req.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	if req.Query != nil && req.Query.SortedAttributeQuery != nil {
		sortByAttribute(objs, req.Query.SortedAttributeQuery)
		return queryPage(objs, req.Cursor, limit, s.catalogTime.Format(timeLayout))
	}
	if req.Cursor != "" {
		v, okc := decodeCursor(req.Cursor)
		key, found := strings.CutPrefix(v, "search:")
		lastAt, lastID, okk := strings.Cut(key, "|")
		if !okc || !found || !okk {
			return invalidCursor()
		}
		start := sort.Search(len(objs), func(i int) bool {
			return objs[i].UpdatedAt > lastAt || objs[i].UpdatedAt == lastAt && objs[i].ID > lastID
		})
		objs = objs[start:]
	}
	resp := searchCatalogResponse{Objects: objs[:min(limit, len(objs))], LatestTime: s.catalogTime.Format(timeLayout)}
	if len(objs) > limit {
		lastObj := objs[limit-1]
		resp.Cursor = encodeCursor("search:" + lastObj.UpdatedAt + "|" + lastObj.ID)
	}
	return ok(resp)
}

// object finds an item or variation by id.
func (s *Simulator) object(id string) (catalogObject, bool) {
	if it, found := s.items[id]; found {
		return it.obj, true
	}
	if _, found := s.varOwner[id]; found {
		return s.variation(id), true
	}
	return catalogObject{}, false
}

func (s *Simulator) batchRetrieve(body []byte) answer {
	var req batchRetrieveRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return badValue("The request body does not match BatchRetrieveCatalogObjectsRequest: "+err.Error(), "")
	}
	if len(req.ObjectIDs) == 0 {
		return fail(http.StatusBadRequest, "INVALID_REQUEST_ERROR", "MISSING_REQUIRED_PARAMETER", "Field must be set", "object_ids")
	}
	resp := batchRetrieveResponse{Objects: []catalogObject{}}
	for _, id := range req.ObjectIDs {
		if o, found := s.object(id); found && (!o.IsDeleted || req.IncludeDeletedObjects) {
			resp.Objects = append(resp.Objects, o)
		}
	}
	return ok(resp)
}

func (s *Simulator) getObject(id string) answer {
	o, found := s.object(id)
	if !found || o.IsDeleted {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Object with ID `%s` not found.", id), "")
	}
	return ok(retrieveCatalogObjectResponse{Object: &o})
}

func (s *Simulator) deleteObject(id string) answer {
	it := s.items[id]
	if it == nil || it.obj.IsDeleted {
		return fail(http.StatusNotFound, "INVALID_REQUEST_ERROR", "NOT_FOUND", fmt.Sprintf("Object with ID `%s` not found.", id), "")
	}
	t := s.tick()
	deleted := []string{id}
	it.obj.IsDeleted = true
	for i := range it.obj.ItemData.Variations {
		it.obj.ItemData.Variations[i].IsDeleted = true
		deleted = append(deleted, it.obj.ItemData.Variations[i].ID)
	}
	s.stamp(it, t)
	s.emitCatalog()
	return ok(map[string]any{"deleted_object_ids": deleted, "deleted_at": t.Format(timeLayout)})
}
