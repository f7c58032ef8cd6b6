package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
)

// The admin routes under /sandbox/admin/ and the order page for people.
//
// An admin request names its sandbox by the tenant's api key (the api_key parameter, in the
// query or the body, or Authorization: Bearer sbx_...), or comes from the account the sandbox
// belongs to (its posbridge API key as Authorization: Bearer, or a console session) with
// integration_id naming that account's Sandbox POS integration.

// adminRef is how an admin request's body may name its sandbox.
type adminRef struct {
	APIKey        string `json:"api_key"`
	IntegrationID string `json:"integration_id"`
}

// ref is the sandbox the request names: the query's parameters first, then the body's.
func (a adminRef) ref(r *http.Request) adminRef {
	q := r.URL.Query()
	if k := q.Get("api_key"); k != "" {
		a.APIKey = k
	}
	if id := q.Get("integration_id"); id != "" {
		a.IntegrationID = id
	}
	if a.APIKey == "" {
		if b := bearer(r); strings.HasPrefix(b, APIKeyPrefix) {
			a.APIKey = b
		}
	}
	return a
}

// adminTenant finds and holds the tenant of an admin request (see adminRef); the caller
// releases it. On failure it has answered: 401 for an unknown key or no credentials, 422 without
// integration_id, 404 for an integration that is not a Sandbox POS of the account.
func (s *Server) adminTenant(w http.ResponseWriter, r *http.Request, ref adminRef) (*tenant, bool) {
	t, e := s.resolveAdmin(r, ref)
	if e != nil {
		writeErr(w, e)
		return nil, false
	}
	return t, true
}

func (s *Server) resolveAdmin(r *http.Request, ref adminRef) (*tenant, *apiError) {
	if ref.APIKey != "" {
		return s.tenantOrErr(r.Context(), ref.APIKey)
	}
	account, err := s.opts.Tenants.Account(r)
	if errors.Is(err, ErrNoAccount) {
		return nil, errf(http.StatusUnauthorized, "unauthorized", "",
			"send the sandbox's api_key, or your posbridge API key (Authorization: Bearer) with integration_id")
	}
	if err != nil {
		s.log.Error("authenticate sandbox admin request", "err", err)
		return nil, errf(http.StatusInternalServerError, "internal_error", "", "could not check the credentials")
	}
	if ref.IntegrationID == "" {
		return nil, invalid("integration_id", "integration_id is required: the id of your Sandbox POS integration (or send its api_key)")
	}
	key, err := s.opts.Tenants.IntegrationKey(r.Context(), account, ref.IntegrationID)
	if errors.Is(err, ErrNoIntegration) {
		return nil, errf(http.StatusNotFound, "not_found", "integration_id", "Sandbox POS integration %s not found", ref.IntegrationID)
	}
	if err != nil {
		s.log.Error("read sandbox integration", "err", err)
		return nil, errf(http.StatusInternalServerError, "internal_error", "", "could not read the integration")
	}
	t, err := s.tenantFor(r.Context(), key)
	if errors.Is(err, ErrUnknownTenant) {
		return nil, invalid("integration_id", "integration %s has an API key that is not a sandbox of this posbridge; "+
			"change its credentials (leave the API key empty to get a new sandbox)", ref.IntegrationID)
	}
	if err != nil {
		s.log.Error("load sandbox tenant", "err", err)
		return nil, errf(http.StatusInternalServerError, "internal_error", "", "could not load the sandbox")
	}
	if t.account != account {
		s.release(t)
		return nil, errf(http.StatusNotFound, "not_found", "integration_id", "Sandbox POS integration %s not found", ref.IntegrationID)
	}
	return t, nil
}

// postTenants mints a new sandbox for the account whose credentials the request carries.
func (s *Server) postTenants(w http.ResponseWriter, r *http.Request) {
	account, err := s.opts.Tenants.Account(r)
	if errors.Is(err, ErrNoAccount) {
		writeErr(w, errf(http.StatusUnauthorized, "unauthorized", "", "send your posbridge API key as Authorization: Bearer <key>"))
		return
	}
	if err != nil {
		s.log.Error("authenticate sandbox admin request", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not check the credentials"))
		return
	}
	key, err := s.opts.Tenants.Mint(r.Context(), account)
	if errors.Is(err, ErrTenantLimit) {
		writeErr(w, errf(http.StatusUnprocessableEntity, "tenant_limit", "",
			"this account has as many sandboxes as it may (%d): use one of them, or delete one it no longer needs (DELETE /sandbox/admin/tenants)", DefaultMaxTenants))
		return
	}
	if err != nil {
		s.log.Error("mint sandbox tenant", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not create the sandbox"))
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		APIKey string `json:"api_key"`
	}{key})
}

// deleteTenant deletes one of the account's sandboxes (named by api_key, or by integration_id
// of the integration that uses it) with everything it holds, so it no longer counts against the
// account's limit. Only the owning account may, with its API key or console session; a sandbox
// an active integration uses is refused (409).
func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) {
	account, err := s.opts.Tenants.Account(r)
	if errors.Is(err, ErrNoAccount) {
		writeErr(w, errf(http.StatusUnauthorized, "unauthorized", "", "send your posbridge API key as Authorization: Bearer <key>"))
		return
	}
	if err != nil {
		s.log.Error("authenticate sandbox admin request", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not check the credentials"))
		return
	}
	q := r.URL.Query()
	key, integrationID := q.Get("api_key"), q.Get("integration_id")
	if key == "" && integrationID != "" {
		key, err = s.opts.Tenants.IntegrationKey(r.Context(), account, integrationID)
		if errors.Is(err, ErrNoIntegration) {
			writeErr(w, errf(http.StatusNotFound, "not_found", "integration_id", "Sandbox POS integration %s not found", integrationID))
			return
		}
		if err != nil {
			s.log.Error("read sandbox integration", "err", err)
			writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not read the integration"))
			return
		}
	}
	if key == "" {
		writeErr(w, invalid("api_key", "api_key is required: the key of the sandbox to delete (or integration_id)"))
		return
	}
	err = s.opts.Tenants.Delete(r.Context(), account, key)
	switch {
	case errors.Is(err, ErrUnknownTenant):
		writeErr(w, errf(http.StatusNotFound, "not_found", "api_key", "your account has no such sandbox"))
		return
	case errors.Is(err, ErrTenantInUse):
		writeErr(w, errf(http.StatusConflict, "in_use", "api_key", "%s", err.Error()))
		return
	case err != nil:
		s.log.Error("delete sandbox tenant", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "could not delete the sandbox"))
		return
	}
	s.evict(key)
	if err := s.opts.Persister.Delete(key)(); err != nil {
		s.log.Error("delete sandbox state", "err", err)
		writeErr(w, errf(http.StatusInternalServerError, "internal_error", "", "the sandbox was deleted but its data could not be removed yet"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
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
		APIKey        string          `json:"api_key"`
		IntegrationID string          `json:"integration_id"`
		FailNext      int             `json:"fail_next"`
		Status        json.RawMessage `json:"status"`
	}
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, adminRef{in.APIKey, in.IntegrationID}.ref(r))
	if !ok {
		return
	}
	s.release(t)
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
	s.faults[t.key] = &fault{remaining: in.FailNext, status: status}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, faultAnswer{KeyHint: KeyHint(t.key), FailNext: in.FailNext, Status: shown})
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
	t, ok := s.adminTenant(w, r, adminRef{}.ref(r))
	if !ok {
		return
	}
	s.release(t)
	key := t.key
	out := faultAnswer{KeyHint: KeyHint(key)}
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
	t, ok := s.adminTenant(w, r, adminRef{}.ref(r))
	if !ok {
		return
	}
	s.release(t)
	s.mu.Lock()
	delete(s.faults, t.key)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, faultAnswer{KeyHint: KeyHint(t.key)})
}

// adminOrders lists every order of the key's sandbox, oldest first (deleted ones too).
func (s *Server) adminOrders(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminTenant(w, r, adminRef{}.ref(r))
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

// adminBody reads an optional JSON body of an admin POST into v and returns the sandbox the
// request names (see adminRef), the query's parameters before the body's.
func adminBody(w http.ResponseWriter, r *http.Request, v any, body func() adminRef) (adminRef, *apiError) {
	b, e := readBody(w, r)
	if e != nil {
		return adminRef{}, e
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if e := decode(b, v); e != nil {
			return adminRef{}, e
		}
	}
	return body().ref(r), nil
}

// adminComplete completes an open order and sends the order.completed webhook.
func (s *Server) adminComplete(w http.ResponseWriter, r *http.Request) {
	var in adminRef
	ref, e := adminBody(w, r, &in, func() adminRef { return in })
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, ref)
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

// adminSale records a completed sale now; without lines it sells a few catalogue items. What it
// sells leaves the store's stock (inventory.updated for each level).
func (s *Server) adminSale(w http.ResponseWriter, r *http.Request) {
	var in struct {
		APIKey        string     `json:"api_key"`
		IntegrationID string     `json:"integration_id"`
		StoreID       string     `json:"store_id"`
		CustomerID    string     `json:"customer_id"`
		Lines         []wireLine `json:"lines"`
	}
	ref, e := adminBody(w, r, &in, func() adminRef { return adminRef{in.APIKey, in.IntegrationID} })
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, ref)
	if !ok {
		return
	}
	defer s.release(t)
	var (
		out   wireSale
		hooks []hookRec
		evs   []pendingEvent
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
			products := bySeq(st.Products, productsAPI.seq)
			if len(products) == 0 {
				return false, invalid("lines", "the sandbox has no products; give lines")
			}
			n := len(st.Sales)
			for j := 0; j < 1+n%3; j++ {
				lines = append(lines, saleLine(products[(n*5+j*7)%len(products)].P, strconv.Itoa(1+(n+j)%2)))
			}
		}
		out, hooks = st.addSale(storeID, in.CustomerID, lines, s.now()).S, s.hooksOf(st)
		evs = st.saleStock(out, false, s.now)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emit(t, hooks, "sale.created", out)
	s.emitAll(t, hooks, evs)
	writeJSON(w, http.StatusCreated, out)
}

// adminDeliveries lists the webhook delivery attempts of the key's sandbox (this process only).
func (s *Server) adminDeliveries(w http.ResponseWriter, r *http.Request) {
	t, ok := s.adminTenant(w, r, adminRef{}.ref(r))
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
	if q := r.URL.Query().Get("api_key"); key == "" && WellFormedKey(q) && keyTag(q) == parts[1] {
		key = q
	}
	if key == "" {
		notFoundPage()
		return
	}
	t, err := s.tenantFor(r.Context(), key)
	if errors.Is(err, ErrUnknownTenant) {
		notFoundPage()
		return
	}
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

// adminRefund refunds a completed sale (the whole of it): its status becomes refunded and it
// reads again as changed, as a POS's refund does, and what it sold goes back into stock.
func (s *Server) adminRefund(w http.ResponseWriter, r *http.Request) {
	var in adminRef
	ref, e := adminBody(w, r, &in, func() adminRef { return in })
	if e != nil {
		writeErr(w, e)
		return
	}
	t, ok := s.adminTenant(w, r, ref)
	if !ok {
		return
	}
	defer s.release(t)
	id := r.PathValue("id")
	var (
		out   wireSale
		hooks []hookRec
		evs   []pendingEvent
	)
	e = s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		cur := st.Sales[id]
		if cur == nil {
			return false, notFound("sale", id)
		}
		if cur.S.Status != "completed" {
			return false, errf(http.StatusConflict, "invalid_state", "status", "sale %s is %s; only a completed sale can be refunded", id, cur.S.Status)
		}
		sale := cur.S
		sale.Status = "refunded"
		sale.UpdatedAt = s.now()
		st.Sales[id] = &saleRec{Seq: st.next(), S: sale}
		st.mark(collSales, id)
		out, hooks = sale, s.hooksOf(st)
		evs = st.saleStock(sale, true, s.now)
		return true, nil
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	s.emit(t, hooks, "sale.updated", out)
	s.emitAll(t, hooks, evs)
	writeJSON(w, http.StatusOK, out)
}
