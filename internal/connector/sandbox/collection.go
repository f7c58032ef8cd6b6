package sandbox

import (
	"net/http"
	"time"
)

// collection is one resource of the sandbox API that is listed in change order, read by id and,
// when it has save, created and replaced whole: products, stock levels, customers, orders and
// sales share these handlers, so paging, not-found answers and version checks behave alike.
type collection[R, T any] struct {
	kind    string                                                         // cursor prefix, e.g. "prd"
	name    string                                                         // in not-found messages, e.g. "product"
	records func(*state) map[string]*R                                     // the tenant's records by id
	seq     func(*R) int64                                                 // change number: a change moves a record to the end
	updated func(*R) time.Time                                             // for updated_since
	show    func(*R, *http.Request) T                                      // the record as the API answers it
	save    func(st *state, in T, id string, now time.Time) (T, *apiError) // create (id "") or replace
}

// list answers a page of the records after the request's cursor (see paginate).
func (c collection[R, T]) list(w http.ResponseWriter, r *http.Request, t *tenant) {
	pr, e := parsePage(r, c.kind)
	if e != nil {
		writeErr(w, e)
		return
	}
	var out wireList[T]
	t.view(func(st *state) {
		out = paginate(st, c.kind, c.records(st), c.seq, c.updated, func(rec *R) T { return c.show(rec, r) }, pr)
	})
	writeJSON(w, http.StatusOK, out)
}

// get answers the record named by the path's {id}, or 404.
func (c collection[R, T]) get(w http.ResponseWriter, r *http.Request, t *tenant) {
	id := r.PathValue("id")
	var out T
	found := false
	t.view(func(st *state) {
		if rec := c.records(st)[id]; rec != nil {
			out, found = c.show(rec, r), true
		}
	})
	if !found {
		writeErr(w, notFound(c.name, id))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// create answers 201 with the record saved from the request's body.
func (c collection[R, T]) create(s *Server) func(http.ResponseWriter, *http.Request, *tenant) {
	return func(w http.ResponseWriter, r *http.Request, t *tenant) { c.write(s, w, r, t, "", http.StatusCreated) }
}

// put answers 200 with the path's {id} replaced from the request's body.
func (c collection[R, T]) put(s *Server) func(http.ResponseWriter, *http.Request, *tenant) {
	return func(w http.ResponseWriter, r *http.Request, t *tenant) {
		c.write(s, w, r, t, r.PathValue("id"), http.StatusOK)
	}
}

func (c collection[R, T]) write(s *Server, w http.ResponseWriter, r *http.Request, t *tenant, id string, status int) {
	var in T
	if e := readJSON(w, r, &in); e != nil {
		writeErr(w, e)
		return
	}
	var out T
	e := s.update(r.Context(), t, func(st *state) (bool, *apiError) {
		saved, e := c.save(st, in, id, s.now())
		out = saved
		return e == nil, e
	})
	if e != nil {
		writeErr(w, e)
		return
	}
	writeJSON(w, status, out)
}

var (
	productsAPI = collection[productRec, wireProduct]{kind: "prd", name: "product",
		records: func(st *state) map[string]*productRec { return st.Products },
		seq:     func(r *productRec) int64 { return r.Seq },
		updated: func(r *productRec) time.Time { return r.P.UpdatedAt },
		show:    func(r *productRec, _ *http.Request) wireProduct { return r.P },
		save:    (*state).saveProduct}
	stockAPI = collection[stockRec, wireStock]{kind: "stk", name: "stock level",
		records: func(st *state) map[string]*stockRec { return st.Stock },
		seq:     func(r *stockRec) int64 { return r.Seq },
		updated: func(r *stockRec) time.Time { return r.S.UpdatedAt },
		show:    func(r *stockRec, _ *http.Request) wireStock { return r.S }}
	customersAPI = collection[custRec, wireCustomer]{kind: "cus", name: "customer",
		records: func(st *state) map[string]*custRec { return st.Customers },
		seq:     func(r *custRec) int64 { return r.Seq },
		updated: func(r *custRec) time.Time { return r.C.UpdatedAt },
		show:    func(r *custRec, _ *http.Request) wireCustomer { return r.C },
		save:    (*state).saveCustomer}
	// Orders are written through idempotent handlers of their own (createOrder, putOrder).
	ordersAPI = collection[orderRec, wireOrder]{kind: "ord", name: "order",
		records: func(st *state) map[string]*orderRec { return st.Orders },
		seq:     func(r *orderRec) int64 { return r.Seq },
		updated: func(r *orderRec) time.Time { return r.O.UpdatedAt },
		show:    func(r *orderRec, req *http.Request) wireOrder { return orderOut(r.O, orderBase(req)) }}
	salesAPI = collection[saleRec, wireSale]{kind: "sal", name: "sale",
		records: func(st *state) map[string]*saleRec { return st.Sales },
		seq:     func(r *saleRec) int64 { return r.Seq },
		updated: func(r *saleRec) time.Time { return r.S.UpdatedAt },
		show:    func(r *saleRec, _ *http.Request) wireSale { return r.S }}
)
