package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/posbridge/posbridge/internal/domain"
)

// The connector API under /sandbox/api/v1/.

func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request, t *tenant) {
	var a wireAccount
	t.view(func(st *state) {
		a = wireAccount{ID: "acc_" + st.Tag, Name: "Sandbox POS " + maskKey(t.key), Currency: "EUR", CreatedAt: st.CreatedAt}
	})
	writeJSON(w, http.StatusOK, a)
}

// maskKey shows the start of an api key only.
func maskKey(k string) string {
	if len(k) <= 8 {
		return k
	}
	return k[:8] + "…"
}

func (s *Server) getStores(w http.ResponseWriter, _ *http.Request, t *tenant) {
	var out wireList[wireStore]
	t.view(func(st *state) { out.Data = append([]wireStore(nil), st.Stores...) })
	writeJSON(w, http.StatusOK, out)
}

// ---- pagination ----

// pageReq is a parsed listing request. Cursors are opaque: base64 of "<kind>:<seq>", where seq is
// the tenant's change sequence of the last item seen.
type pageReq struct {
	after int64
	limit int
	since time.Time
}

func encodeCursor(kind string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(seq, 10)))
}

func parsePage(r *http.Request, kind string) (pageReq, *apiError) {
	q := r.URL.Query()
	pr := pageReq{limit: 50}
	if c := q.Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		k, n, ok := strings.Cut(string(b), ":")
		seq, perr := strconv.ParseInt(n, 10, 64)
		if err != nil || !ok || k != kind || perr != nil || seq < 0 {
			return pr, invalid("cursor", "cursor %q is not a cursor of this listing", c)
		}
		pr.after = seq
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return pr, invalid("limit", "limit must be a whole number from 1 to 100")
		}
		pr.limit = n
	}
	if u := q.Get("updated_since"); u != "" {
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return pr, invalid("updated_since", "updated_since must be an RFC 3339 time, e.g. 2026-01-02T15:04:05.999Z")
		}
		pr.since = t
	}
	return pr, nil
}

// paginate lists the records after the cursor in change order. The last page carries a resume
// cursor: reading from it later returns exactly what changed after this read.
func paginate[R, T any](st *state, kind string, m map[string]*R, seq func(*R) int64, updated func(*R) time.Time,
	out func(*R) T, pr pageReq) wireList[T] {
	list := wireList[T]{Data: []T{}}
	for _, r := range bySeq(m, seq) {
		if seq(r) <= pr.after || (!pr.since.IsZero() && updated(r).Before(pr.since)) {
			continue
		}
		if len(list.Data) == pr.limit {
			list.NextCursor = encodeCursor(kind, pr.after)
			return list
		}
		list.Data = append(list.Data, out(r))
		pr.after = seq(r)
	}
	list.ResumeCursor = encodeCursor(kind, st.Seq)
	return list
}

// ---- products ----

// maxBatch caps the items of one batch write.
const maxBatch = 100

func (s *Server) batchProducts(w http.ResponseWriter, r *http.Request, t *tenant) {
	var in struct {
		Products []wireProduct `json:"products"`
	}
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	if len(in.Products) == 0 || len(in.Products) > maxBatch {
		writeErr(w, invalid("products", "products must hold 1 to %d items", maxBatch))
		return
	}
	out := wireResults{Results: []wireItemResult{}}
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		changed := false
		for i, p := range in.Products {
			saved, e := st.saveProduct(p, p.ID, s.now())
			if e != nil {
				out.Results = append(out.Results, wireItemResult{Index: i, ID: p.ID, Status: e.status, Error: e.wire()})
				continue
			}
			changed = true
			status := http.StatusOK
			if p.ID == "" {
				status = http.StatusCreated
			}
			out.Results = append(out.Results, wireItemResult{Index: i, ID: saved.ID, Status: status, Product: &saved})
		}
		return changed, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// saveProduct validates in and creates it (id "") or replaces the writable fields of product id.
// A non-zero in.Version must match the current version.
func (st *state) saveProduct(in wireProduct, id string, now time.Time) (wireProduct, *apiError) {
	var cur *productRec
	if id != "" {
		if cur = st.Products[id]; cur == nil {
			return wireProduct{}, notFound("product", id)
		}
		if in.Version != 0 && in.Version != cur.P.Version {
			return wireProduct{}, errf(http.StatusConflict, "version_mismatch", "version",
				"product %s is at version %d, not %d", id, cur.P.Version, in.Version)
		}
	}
	if cur == nil {
		if e := st.full("products", len(st.Products)); e != nil {
			return wireProduct{}, e
		}
	}
	if e := st.checkProduct(&in, id); e != nil {
		return wireProduct{}, e
	}
	p := in
	if cur == nil {
		p.ID, p.Version, p.CreatedAt = st.newID("prd"), 1, now
	} else {
		p.ID, p.Version, p.CreatedAt = cur.P.ID, cur.P.Version+1, cur.P.CreatedAt
	}
	p.UpdatedAt = now
	for i := range p.Variants {
		if p.Variants[i].ID == "" {
			p.Variants[i].ID = st.newID("var")
		}
	}
	st.Products[p.ID] = &productRec{Seq: st.next(), P: p}
	st.mark(collProducts, p.ID)
	return p, nil
}

// checkProduct normalises and validates a product write; selfID is the product being replaced.
func (st *state) checkProduct(p *wireProduct, selfID string) *apiError {
	p.Name = strings.TrimSpace(p.Name)
	p.SKU = strings.TrimSpace(p.SKU)
	if p.Name == "" {
		return invalid("name", "name is required")
	}
	if utf8.RuneCountInString(p.Name) > 200 {
		return invalid("name", "name is longer than 200 characters")
	}
	if len(p.Description) > 10000 {
		return invalid("description", "description is longer than 10000 bytes")
	}
	if e := checkMoney(&p.Price, "price", false); e != nil {
		return e
	}
	if p.Weight != nil {
		switch p.Weight.Unit {
		case "g", "kg", "oz", "lb":
		default:
			return invalid("weight.unit", "weight.unit must be g, kg, oz or lb")
		}
		if !weightRe.MatchString(p.Weight.Value) {
			return invalid("weight.value", "weight.value must be a decimal number such as 1.25")
		}
	}
	for i, c := range p.Categories {
		if strings.TrimSpace(c.ID) == "" && strings.TrimSpace(c.Name) == "" {
			return invalid(fmt.Sprintf("categories[%d]", i), "a category needs an id or a name")
		}
	}
	skus := map[string]string{}
	if p.SKU != "" {
		skus[p.SKU] = "sku"
	}
	var existing map[string]bool
	if selfID != "" {
		existing = map[string]bool{}
		for _, v := range st.Products[selfID].P.Variants {
			existing[v.ID] = true
		}
	}
	for i := range p.Variants {
		v := &p.Variants[i]
		f := fmt.Sprintf("variants[%d]", i)
		v.Name, v.SKU = strings.TrimSpace(v.Name), strings.TrimSpace(v.SKU)
		if v.Name == "" {
			return invalid(f+".name", "%s.name is required", f)
		}
		if v.ID != "" && !existing[v.ID] {
			return invalid(f+".id", "variant %s is not a variant of this product", v.ID)
		}
		if v.Price.Amount == 0 && v.Price.Currency == "" {
			v.Price = p.Price
		}
		if e := checkMoney(&v.Price, f+".price", false); e != nil {
			return e
		}
		if v.SKU != "" {
			if _, dup := skus[v.SKU]; dup {
				return invalid(f+".sku", "sku %q is used twice in this product", v.SKU)
			}
			skus[v.SKU] = f + ".sku"
		}
	}
	for _, r := range st.Products {
		if r.P.ID == selfID {
			continue
		}
		if f, ok := skus[r.P.SKU]; ok && r.P.SKU != "" {
			return errf(http.StatusConflict, "duplicate_sku", f, "sku %q is already used by product %s", r.P.SKU, r.P.ID)
		}
		for _, v := range r.P.Variants {
			if f, ok := skus[v.SKU]; ok && v.SKU != "" {
				return errf(http.StatusConflict, "duplicate_sku", f, "sku %q is already used by product %s", v.SKU, r.P.ID)
			}
		}
	}
	return nil
}

// checkMoney defaults the currency to EUR and checks the amount.
func checkMoney(m *domain.Money, field string, allowNegative bool) *apiError {
	if m.Currency == "" {
		m.Currency = "EUR"
	}
	if m.Currency != "EUR" {
		return invalid(field+".currency", "the sandbox works in EUR, not %q", m.Currency)
	}
	if !allowNegative && m.Amount < 0 {
		return invalid(field+".amount", "%s.amount must not be negative", field)
	}
	if m.Amount > 1e11 || m.Amount < -1e11 {
		return invalid(field+".amount", "%s.amount is out of range", field)
	}
	return nil
}

// ---- stock ----

func (s *Server) putStock(w http.ResponseWriter, r *http.Request, t *tenant) {
	var in struct {
		Levels []wireStock `json:"levels"`
	}
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	if len(in.Levels) == 0 || len(in.Levels) > 500 {
		writeErr(w, invalid("levels", "levels must hold 1 to 500 items"))
		return
	}
	out := wireResults{Results: []wireItemResult{}}
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		changed := false
		for i, l := range in.Levels {
			if e := st.checkStock(l); e != nil {
				out.Results = append(out.Results, wireItemResult{Index: i, ID: l.ProductID, Status: e.status, Error: e.wire()})
				continue
			}
			l.UpdatedAt = s.now()
			sk := stockKey(l.ProductID, l.VariantID, l.LocationID)
			st.Stock[sk] = &stockRec{Seq: st.next(), S: l}
			st.mark(collStock, sk)
			changed = true
			out.Results = append(out.Results, wireItemResult{Index: i, ID: l.ProductID, Status: http.StatusOK})
		}
		return changed, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (st *state) checkStock(l wireStock) *apiError {
	p := st.Products[l.ProductID]
	if p == nil {
		return invalid("product_id", "product %q not found", l.ProductID)
	}
	if !p.P.TrackStock {
		return invalid("product_id", "product %s does not track stock", l.ProductID)
	}
	if len(p.P.Variants) > 0 || l.VariantID != "" {
		found := false
		for _, v := range p.P.Variants {
			found = found || v.ID == l.VariantID
		}
		if !found {
			return invalid("variant_id", "variant_id must name one of the variants of product %s", l.ProductID)
		}
	}
	if _, ok := st.store(l.LocationID); !ok {
		return invalid("location_id", "location %q not found", l.LocationID)
	}
	if !stockQuantityRe.MatchString(l.Quantity) {
		return invalid("quantity", "quantity must be a decimal number such as 12 or -1.5")
	}
	return nil
}

// ---- customers ----

// saveCustomer validates in and creates it (id "") or replaces customer id. A non-zero
// in.Version must match the current version.
func (st *state) saveCustomer(in wireCustomer, id string, now time.Time) (wireCustomer, *apiError) {
	var cur *custRec
	if id != "" {
		if cur = st.Customers[id]; cur == nil {
			return wireCustomer{}, notFound("customer", id)
		}
		if in.Version != 0 && in.Version != cur.C.Version {
			return wireCustomer{}, errf(http.StatusConflict, "version_mismatch", "version",
				"customer %s is at version %d, not %d", id, cur.C.Version, in.Version)
		}
	}
	if cur == nil {
		if e := st.full("customers", len(st.Customers)); e != nil {
			return wireCustomer{}, e
		}
	}
	if e := st.checkCustomer(&in, id); e != nil {
		return wireCustomer{}, e
	}
	c := in
	if cur == nil {
		c.ID, c.Version, c.CreatedAt = st.newID("cus"), 1, now
	} else {
		c.ID, c.Version, c.CreatedAt = cur.C.ID, cur.C.Version+1, cur.C.CreatedAt
	}
	c.UpdatedAt = now
	st.Customers[c.ID] = &custRec{Seq: st.next(), C: c}
	st.mark(collCustomers, c.ID)
	return c, nil
}

func (st *state) checkCustomer(c *wireCustomer, selfID string) *apiError {
	c.Email = strings.ToLower(strings.TrimSpace(c.Email))
	c.FirstName, c.LastName = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	c.Phone, c.Reference = strings.TrimSpace(c.Phone), strings.TrimSpace(c.Reference)
	if c.Email == "" && c.FirstName == "" && c.LastName == "" {
		return invalid("email", "a customer needs an email or a name")
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		if err != nil || a.Address != c.Email {
			return invalid("email", "%q is not an email address", c.Email)
		}
	}
	for f, v := range map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "reference": c.Reference} {
		if utf8.RuneCountInString(v) > 100 {
			return invalid(f, "%s is longer than 100 characters", f)
		}
	}
	if len(c.Phone) > 40 {
		return invalid("phone", "phone is longer than 40 characters")
	}
	if c.Email != "" {
		for _, r := range st.Customers {
			if r.C.ID != selfID && r.C.Email == c.Email {
				return errf(http.StatusConflict, "email_taken", "email", "customer %s already has the email %s", r.C.ID, c.Email)
			}
		}
	}
	return nil
}

// ---- orders ----

// orderBase is the root URL people reach this server at, for order links.
func orderBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func orderOut(o wireOrder, base string) wireOrder {
	o.URL = base + "/sandbox/orders/" + url.PathEscape(o.ID)
	return o
}

// orderIn is the writable part of an order.
type orderIn struct {
	Reference  string     `json:"reference"`
	StoreID    string     `json:"store_id"`
	CustomerID string     `json:"customer_id"`
	Lines      []wireLine `json:"lines"`
	Note       string     `json:"note"`
	Version    int64      `json:"version"`
}

func (st *state) checkOrder(in *orderIn) (total int64, e *apiError) {
	in.Reference = strings.TrimSpace(in.Reference)
	if utf8.RuneCountInString(in.Reference) > 100 {
		return 0, invalid("reference", "reference is longer than 100 characters")
	}
	if in.StoreID == "" {
		in.StoreID = st.Stores[0].ID
	} else if _, ok := st.store(in.StoreID); !ok {
		return 0, invalid("store_id", "store %q not found", in.StoreID)
	}
	if in.CustomerID != "" && st.Customers[in.CustomerID] == nil {
		return 0, invalid("customer_id", "customer %q not found", in.CustomerID)
	}
	if len(in.Note) > 2000 {
		return 0, invalid("note", "note is longer than 2000 bytes")
	}
	lines, total, e := st.checkLines(in.Lines)
	in.Lines = lines
	return total, e
}

// checkLines validates order or sale lines, fills names, SKUs and prices from the catalogue where
// missing, and computes the line totals and their sum.
func (st *state) checkLines(in []wireLine) ([]wireLine, int64, *apiError) {
	if len(in) > 200 {
		return nil, 0, invalid("lines", "an order holds at most 200 lines")
	}
	lines := make([]wireLine, 0, len(in))
	var total int64
	for i, l := range in {
		f := fmt.Sprintf("lines[%d]", i)
		if l.ProductID != "" {
			p := st.Products[l.ProductID]
			if p == nil {
				return nil, 0, invalid(f+".product_id", "product %q not found", l.ProductID)
			}
			name, sku, price := p.P.Name, p.P.SKU, p.P.Price
			if l.VariantID != "" {
				found := false
				for _, v := range p.P.Variants {
					if v.ID == l.VariantID {
						found, name, sku, price = true, p.P.Name+" "+v.Name, v.SKU, v.Price
					}
				}
				if !found {
					return nil, 0, invalid(f+".variant_id", "variant %q is not a variant of product %s", l.VariantID, l.ProductID)
				}
			}
			if strings.TrimSpace(l.Name) == "" {
				l.Name = name
			}
			if l.SKU == "" {
				l.SKU = sku
			}
			if l.UnitPrice.Amount == 0 && l.UnitPrice.Currency == "" {
				l.UnitPrice = price
			}
		} else if l.VariantID != "" {
			return nil, 0, invalid(f+".variant_id", "variant_id needs a product_id")
		}
		l.Name = strings.TrimSpace(l.Name)
		if l.Name == "" {
			return nil, 0, invalid(f+".name", "%s.name is required", f)
		}
		if utf8.RuneCountInString(l.Name) > 200 {
			return nil, 0, invalid(f+".name", "%s.name is longer than 200 characters", f)
		}
		if !quantityRe.MatchString(l.Quantity) || strings.Trim(l.Quantity, "0.") == "" {
			return nil, 0, invalid(f+".quantity", "%s.quantity must be a decimal number above 0 such as 1 or 2.5", f)
		}
		if e := checkMoney(&l.UnitPrice, f+".unit_price", true); e != nil {
			return nil, 0, e
		}
		if l.TaxRate != "" && !taxRateRe.MatchString(l.TaxRate) {
			return nil, 0, invalid(f+".tax_rate", "%s.tax_rate must be a percentage such as 21 or 9.5", f)
		}
		lt, err := domain.MulRat(l.UnitPrice.Amount, l.Quantity) // overflow-checked, never wraps
		if err == nil {
			total, err = domain.AddAmounts(total, lt)
		}
		if err != nil {
			return nil, 0, invalid(f+".quantity", "%s: quantity x unit_price.amount takes the order total out of range", f)
		}
		l.Total = domain.Money{Amount: lt, Currency: "EUR"}
		lines = append(lines, l)
	}
	return lines, total, nil
}

// idempotent runs a write that honours an Idempotency-Key header: the same key with the same body
// replays the first answer; with another body it is refused with 422. fn answers status and body.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, t *tenant, body []byte,
	fn func(st *state) (status int, answer any, e *apiError)) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 255 {
		writeErr(w, invalid("Idempotency-Key", "Idempotency-Key is longer than 255 characters"))
		return
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	idk := r.Method + " " + r.URL.Path + " " + key
	var (
		status   int
		answer   []byte
		replayed bool
	)
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		now := s.now()
		if key != "" {
			if rec := st.Idem[idk]; rec != nil && now.Sub(rec.At) <= idemTTL {
				if rec.BodyHash != hash {
					return false, errf(http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key",
						"Idempotency-Key %q was used with another request body", key)
				}
				status, answer, replayed = rec.Status, rec.Answer, true
				return false, nil
			}
		}
		st0, v, e := fn(st)
		if e != nil {
			return false, e
		}
		b, err := json.Marshal(v)
		if err != nil {
			return false, errf(http.StatusInternalServerError, "internal_error", "", "could not encode the answer")
		}
		status, answer = st0, b
		if key != "" {
			st.pruneIdem(now)
			st.Idem[idk] = &idemRec{BodyHash: hash, Status: status, Answer: b, At: now}
			st.mark(collIdem, idk)
		}
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, answer)
}

func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, t *tenant) {
	body, e := readBody(w, r)
	if e != nil {
		writeErr(w, e)
		return
	}
	var in orderIn
	if e := decode(body, &in); e != nil {
		writeErr(w, e)
		return
	}
	base := orderBase(r)
	s.idempotent(w, r, t, body, func(st *state) (int, any, *apiError) {
		if e := st.full("orders", len(st.Orders)); e != nil {
			return 0, nil, e
		}
		total, e := st.checkOrder(&in)
		if e != nil {
			return 0, nil, e
		}
		now := s.now()
		o := wireOrder{ID: st.newID("ord"), Reference: in.Reference, StoreID: in.StoreID, State: string(domain.OrderOpen),
			CustomerID: in.CustomerID, Lines: in.Lines, Total: domain.Money{Amount: total, Currency: "EUR"},
			Note: in.Note, Version: 1, CreatedAt: now, UpdatedAt: now}
		st.Orders[o.ID] = &orderRec{Seq: st.next(), N: st.NextID, O: o}
		st.mark(collOrders, o.ID)
		return http.StatusCreated, orderOut(o, base), nil
	})
}

func (s *Server) putOrder(w http.ResponseWriter, r *http.Request, t *tenant) {
	body, e := readBody(w, r)
	if e != nil {
		writeErr(w, e)
		return
	}
	var in orderIn
	if e := decode(body, &in); e != nil {
		writeErr(w, e)
		return
	}
	id, base := r.PathValue("id"), orderBase(r)
	s.idempotent(w, r, t, body, func(st *state) (int, any, *apiError) {
		cur := st.Orders[id]
		if cur == nil {
			return 0, nil, notFound("order", id)
		}
		if cur.O.State != string(domain.OrderOpen) {
			return 0, nil, errf(http.StatusConflict, "order_not_open", "state", "order %s is %s and can no longer be changed", id, cur.O.State)
		}
		if in.Version != 0 && in.Version != cur.O.Version {
			return 0, nil, errf(http.StatusConflict, "version_mismatch", "version", "order %s is at version %d, not %d", id, cur.O.Version, in.Version)
		}
		total, e := st.checkOrder(&in)
		if e != nil {
			return 0, nil, e
		}
		o := cur.O
		o.Reference, o.StoreID, o.CustomerID, o.Lines, o.Note = in.Reference, in.StoreID, in.CustomerID, in.Lines, in.Note
		o.Total = domain.Money{Amount: total, Currency: "EUR"}
		o.Version++
		o.UpdatedAt = s.now()
		st.Orders[id] = &orderRec{Seq: st.next(), N: cur.N, O: o}
		st.mark(collOrders, id)
		return http.StatusOK, orderOut(o, base), nil
	})
}

// listOrders lists orders in change order, or with ?reference= every order carrying that
// reference, newest first.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, t *tenant) {
	base := orderBase(r)
	if r.URL.Query().Has("reference") {
		ref := r.URL.Query().Get("reference")
		out := wireList[wireOrder]{Data: []wireOrder{}}
		t.view(func(st *state) {
			for _, rec := range ordersByCreation(st) {
				if rec.O.Reference == ref {
					out.Data = append(out.Data, orderOut(rec.O, base))
				}
			}
		})
		for i, j := 0, len(out.Data)-1; i < j; i, j = i+1, j-1 {
			out.Data[i], out.Data[j] = out.Data[j], out.Data[i]
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	ordersAPI.list(w, r, t)
}

// ordersByCreation returns the tenant's orders, oldest first.
func ordersByCreation(st *state) []*orderRec {
	out := make([]*orderRec, 0, len(st.Orders))
	for _, r := range st.Orders {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}

// orderAction voids, archives or deletes an order. Repeating the same action is harmless.
func (s *Server) orderAction(action string) func(http.ResponseWriter, *http.Request, *tenant) {
	to := map[string]domain.OrderState{"void": domain.OrderVoided, "archive": domain.OrderArchived, "delete": domain.OrderDeleted}[action]
	return func(w http.ResponseWriter, r *http.Request, t *tenant) {
		id := r.PathValue("id")
		var out wireOrder
		e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
			cur := st.Orders[id]
			if cur == nil {
				return false, notFound("order", id)
			}
			out = cur.O
			from := domain.OrderState(cur.O.State)
			if from == to {
				return false, nil
			}
			allowed := false
			switch to {
			case domain.OrderVoided:
				allowed = from == domain.OrderOpen
			case domain.OrderArchived:
				allowed = from != domain.OrderDeleted
			case domain.OrderDeleted:
				allowed = true
			}
			if !allowed {
				return false, errf(http.StatusConflict, "invalid_state", "state", "order %s is %s and cannot be %s", id, from, to)
			}
			o := cur.O
			o.State = string(to)
			o.Version++
			o.UpdatedAt = s.now()
			st.Orders[id] = &orderRec{Seq: st.next(), N: cur.N, O: o}
			st.mark(collOrders, id)
			out = o
			return true, nil
		})
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, orderOut(out, orderBase(r)))
	}
}

// ---- sales ----

// listSales lists the sales; with SalesPerDay the till first sells what the time since the
// last read brings.
func (s *Server) listSales(w http.ResponseWriter, r *http.Request, t *tenant) {
	if s.opts.SalesPerDay > 0 {
		if e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
			return st.streamSales(s.now(), s.opts.SalesPerDay), nil
		}); e != nil {
			writeErr(w, e)
			return
		}
	}
	salesAPI.list(w, r, t)
}

// ---- webhooks ----

// webhookTopics are the events the sandbox sends.
var webhookTopics = map[string]bool{"order.completed": true, "sale.created": true, "*": true}

func (s *Server) listWebhooks(w http.ResponseWriter, _ *http.Request, t *tenant) {
	out := wireList[wireWebhook]{Data: []wireWebhook{}}
	t.view(func(st *state) {
		for _, h := range st.Webhooks {
			out.Data = append(out.Data, h.W)
		}
	})
	sort.Slice(out.Data, func(i, j int) bool { return out.Data[i].CreatedAt.Before(out.Data[j].CreatedAt) })
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, t *tenant) {
	var in wireWebhookCreate
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	u, err := url.Parse(in.URL)
	if in.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.URL) > 2000 {
		writeErr(w, invalid("url", "url must be an absolute http or https URL"))
		return
	}
	if s.opts.AllowWebhookURL != nil {
		if err := s.opts.AllowWebhookURL(u); err != nil {
			writeErr(w, invalid("url", "url is not allowed: %v", err))
			return
		}
	}
	if len(in.Secret) > 200 {
		writeErr(w, invalid("secret", "secret is longer than 200 bytes"))
		return
	}
	for i, tp := range in.Topics {
		if !webhookTopics[tp] {
			writeErr(w, invalid(fmt.Sprintf("topics[%d]", i), "unknown topic %q; known: order.completed, sale.created, *", tp))
			return
		}
	}
	var out wireWebhook
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		if len(st.Webhooks) >= 20 {
			return false, invalid("url", "a sandbox holds at most 20 webhooks")
		}
		out = wireWebhook{ID: st.newID("wh"), URL: in.URL, Topics: in.Topics, CreatedAt: s.now()}
		st.Webhooks[out.ID] = &hookRec{W: out, Secret: in.Secret}
		st.mark(collWebhooks, out.ID)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, t *tenant) {
	id := r.PathValue("id")
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		if st.Webhooks[id] == nil {
			return false, notFound("webhook", id)
		}
		delete(st.Webhooks, id)
		st.mark(collWebhooks, id)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
