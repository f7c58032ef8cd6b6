package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
)

// The admin routes under /sandbox/admin/ (no bearer: the api key is a parameter) and the order
// page for people.

// checkAdminKey validates the api_key parameter of an admin route.
func checkAdminKey(key string) *apiError {
	if key == "" {
		return invalid("api_key", "api_key is required")
	}
	if !validKey(key) {
		return invalid("api_key", "api_key must start with sbx_ (and sbx_invalid is always refused)")
	}
	return nil
}

// adminTenant reads the api key from the query and loads its tenant.
func (s *Server) adminTenant(w http.ResponseWriter, r *http.Request, key string) (*tenant, bool) {
	if e := checkAdminKey(key); e != nil {
		writeErr(w, e)
		return nil, false
	}
	t, err := s.tenantFor(r.Context(), key)
	if err != nil {
		s.log.Error("load sandbox tenant", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not load the sandbox"))
		return nil, false
	}
	return t, true
}

// faultAnswer is the answer of POST /sandbox/admin/faults. The key is not echoed (keys are
// credentials); its last four characters say which tenant the fault is for.
type faultAnswer struct {
	KeyHint  string `json:"key_hint"`
	FailNext int    `json:"fail_next"`
	Status   any    `json:"status"`
}

func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APIKey   string          `json:"api_key"`
		FailNext int             `json:"fail_next"`
		Status   json.RawMessage `json:"status"`
	}
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	if e := checkAdminKey(in.APIKey); e != nil {
		writeErr(w, e)
		return
	}
	if in.FailNext < 1 || in.FailNext > 1000 {
		writeErr(w, invalid("fail_next", "fail_next must be a whole number from 1 to 1000"))
		return
	}
	status, shown, ok := parseFaultStatus(in.Status)
	if !ok {
		writeErr(w, invalid("status", `status must be 500, 502, 503, 401, 429 or "timeout"`))
		return
	}
	s.mu.Lock()
	s.faults[in.APIKey] = &fault{remaining: in.FailNext, status: status}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, faultAnswer{KeyHint: keyHint(in.APIKey), FailNext: in.FailNext, Status: shown})
}

// parseFaultStatus reads a fault status: a number (or numeric string) among the allowed ones, or
// "timeout" (status 0).
func parseFaultStatus(raw json.RawMessage) (status int, shown any, ok bool) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return 0, nil, false
		}
		if strings.EqualFold(str, "timeout") {
			return 0, "timeout", true
		}
		if n, err = strconv.Atoi(str); err != nil {
			return 0, nil, false
		}
	}
	switch n {
	case 401, 429, 500, 502, 503:
		return n, n, true
	}
	return 0, nil, false
}

func (s *Server) getFaults(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("api_key")
	if e := checkAdminKey(key); e != nil {
		writeErr(w, e)
		return
	}
	out := faultAnswer{KeyHint: keyHint(key)}
	s.mu.Lock()
	if f := s.faults[key]; f != nil {
		out.FailNext, out.Status = f.remaining, f.status
		if f.status == 0 {
			out.Status = "timeout"
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFaults(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("api_key")
	if e := checkAdminKey(key); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	delete(s.faults, key)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, faultAnswer{KeyHint: keyHint(key)})
}

// adminOrders lists every order of the key's sandbox, oldest first (deleted ones too).
func (s *Server) adminOrders(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminTenant(w, r, r.URL.Query().Get("api_key"))
	if !ok {
		return
	}
	defer s.release(t)
	base := orderBase(r)
	out := []wireOrder{}
	t.view(func(st *state) {
		for _, rec := range ordersByCreation(st) {
			out = append(out, orderOut(rec.O, base))
		}
	})
	writeJSON(w, http.StatusOK, out)
}

// adminBody reads an optional JSON body of an admin POST into v and returns the api key from
// the query or, failing that, from the body's api_key.
func adminBody(w http.ResponseWriter, r *http.Request, v any, bodyKey *string) (string, *apiError) {
	b, e := readBody(w, r)
	if e != nil {
		return "", e
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if e := decode(b, v); e != nil {
			return "", e
		}
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		return k, nil
	}
	return *bodyKey, nil
}

// adminComplete completes an open order and sends the order.completed webhook.
func (s *Server) adminComplete(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APIKey string `json:"api_key"`
	}
	key, e := adminBody(w, r, &in, &in.APIKey)
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, key)
	if !ok {
		return
	}
	defer s.release(t)
	id, base := r.PathValue("id"), orderBase(r)
	var (
		out   wireOrder
		hooks []hookRec
	)
	e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		cur := st.Orders[id]
		if cur == nil {
			return false, notFound("order", id)
		}
		if cur.O.State != string(domain.OrderOpen) {
			return false, errf(http.StatusConflict, "invalid_state", "state", "order %s is %s; only an open order can be completed", id, cur.O.State)
		}
		o := cur.O
		o.State = string(domain.OrderCompleted)
		o.Version++
		o.UpdatedAt = s.now()
		st.Orders[id] = &orderRec{Seq: st.next(), N: cur.N, O: o}
		st.mark(collOrders, id)
		out, hooks = orderOut(o, base), s.hooksOf(st)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emit(t, hooks, "order.completed", out)
	writeJSON(w, http.StatusOK, out)
}

// adminSale records a completed sale now; without lines it sells a few catalogue items.
func (s *Server) adminSale(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APIKey     string     `json:"api_key"`
		StoreID    string     `json:"store_id"`
		CustomerID string     `json:"customer_id"`
		Lines      []wireLine `json:"lines"`
	}
	key, e := adminBody(w, r, &in, &in.APIKey)
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, key)
	if !ok {
		return
	}
	defer s.release(t)
	var (
		out   wireSale
		hooks []hookRec
	)
	e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		if e := st.full("sales", len(st.Sales)); e != nil {
			return false, e
		}
		storeID := in.StoreID
		if storeID == "" {
			storeID = st.Stores[0].ID
		} else if _, ok := st.store(storeID); !ok {
			return false, invalid("store_id", "store %q not found", storeID)
		}
		if in.CustomerID != "" && st.Customers[in.CustomerID] == nil {
			return false, invalid("customer_id", "customer %q not found", in.CustomerID)
		}
		var lines []wireLine
		if len(in.Lines) > 0 {
			var e *apiError
			if lines, _, e = st.checkLines(in.Lines); e != nil {
				return false, e
			}
		} else {
			products := bySeq(st.Products, productSeq)
			if len(products) == 0 {
				return false, invalid("lines", "the sandbox has no products; give lines")
			}
			n := len(st.Sales)
			for j := 0; j < 1+n%3; j++ {
				lines = append(lines, saleLine(products[(n*5+j*7)%len(products)].P, strconv.Itoa(1+(n+j)%2)))
			}
		}
		out, hooks = st.addSale(storeID, in.CustomerID, lines, s.now()).S, s.hooksOf(st)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emit(t, hooks, "sale.created", out)
	writeJSON(w, http.StatusCreated, out)
}

// adminDeliveries lists the webhook delivery attempts of the key's sandbox (this process only).
func (s *Server) adminDeliveries(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminTenant(w, r, r.URL.Query().Get("api_key"))
	if !ok {
		return
	}
	defer s.release(t)
	t.mu.Lock()
	out := append([]Delivery{}, t.deliveries...)
	t.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

var orderPageTmpl = template.Must(template.New("order").Funcs(template.FuncMap{"money": formatMoney}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Order {{.O.ID}} · Sandbox POS</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}.num{text-align:right}.state{font-weight:bold}</style></head>
<body><p>Sandbox POS · {{.Store}}</p>
<h1>Order {{.O.ID}}</h1>
<p>Reference <b>{{.O.Reference}}</b> · state <span class="state">{{.O.State}}</span> · version {{.O.Version}}</p>
<p>Created {{.O.CreatedAt.Format "2006-01-02 15:04 MST"}} · updated {{.O.UpdatedAt.Format "2006-01-02 15:04 MST"}}</p>
<table><thead><tr><th>Item</th><th>SKU</th><th class="num">Qty</th><th class="num">Price</th><th class="num">Total</th></tr></thead><tbody>
{{range .O.Lines}}<tr><td>{{.Name}}</td><td>{{.SKU}}</td><td class="num">{{.Quantity}}</td><td class="num">{{money .UnitPrice}}</td><td class="num">{{money .Total}}</td></tr>
{{else}}<tr><td colspan="5">No lines</td></tr>{{end}}</tbody>
<tfoot><tr><th colspan="4">Total</th><th class="num">{{money .O.Total}}</th></tr></tfoot></table>
{{if .O.Note}}<p>Note: {{.O.Note}}</p>{{end}}
</body></html>
`))

func formatMoney(m domain.Money) string {
	sign, a := "", m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%s %d.%02d", sign, m.Currency, a/100, a%100)
}

// orderPage shows an order to a person. The order id carries its tenant's tag; a sandbox not yet
// used since this process started is found with ?api_key=.
func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	notFoundPage := func() {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = fmt.Fprint(w, "<!doctype html><title>Not found · Sandbox POS</title><h1>Order not found</h1>\n")
	}
	parts := strings.Split(id, "_")
	if len(parts) != 3 || parts[0] != "ord" {
		notFoundPage()
		return
	}
	s.mu.Lock()
	key := s.tags[parts[1]]
	s.mu.Unlock()
	if q := r.URL.Query().Get("api_key"); key == "" && validKey(q) && keyTag(q) == parts[1] {
		key = q
	}
	if key == "" {
		notFoundPage()
		return
	}
	t, err := s.tenantFor(r.Context(), key)
	if err != nil {
		http.Error(w, "could not load the sandbox", http.StatusInternalServerError)
		return
	}
	defer s.release(t)
	var data struct {
		O     wireOrder
		Store string
	}
	found := false
	t.view(func(st *state) {
		if rec := st.Orders[id]; rec != nil {
			found, data.O = true, rec.O
			sto, _ := st.store(rec.O.StoreID)
			data.Store = sto.Name
		}
	})
	if !found {
		notFoundPage()
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := orderPageTmpl.Execute(w, data); err != nil {
		s.log.Error("render sandbox order page", "err", err)
	}
}

// keyHint shows the last four characters of a key, enough to tell keys apart.
func keyHint(key string) string { return "…" + key[max(0, len(key)-4):] }
