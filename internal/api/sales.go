package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/salesimport"
	"github.com/posbridge/posbridge/internal/store"
)

func salesInterval(i domain.Integration) int {
	if i.SalesIntervalMinutes <= 0 {
		return int(domain.DefaultSalesInterval / time.Minute)
	}
	return i.SalesIntervalMinutes
}

func (a *API) salesService() error {
	if a.Sales == nil {
		return &domain.Error{Code: domain.CodeUnavailable, Message: "the sales import is not running in this process"}
	}
	return nil
}

func (a *API) refreshSales(w http.ResponseWriter, r *http.Request, acct string) error {
	if err := a.salesService(); err != nil {
		return err
	}
	i, res, err := a.Sales.Refresh(r.Context(), acct, domain.ActorAPI, r.PathValue("id"))
	if err != nil {
		return err
	}
	ij, err := a.integrationJSON(r.Context(), i)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"integration": ij, "fetch": res})
}

// SaleJSON is an imported sale as the API shows it; amounts in minor units of currency.
type SaleJSON struct {
	ID            string            `json:"id"`
	IntegrationID string            `json:"integration_id"`
	ExternalID    string            `json:"external_id"`
	Number        string            `json:"number"`
	StoreID       string            `json:"store_id"`
	SoldAt        time.Time         `json:"sold_at"`
	Status        string            `json:"status"`
	Currency      string            `json:"currency"`
	Total         int64             `json:"total"`
	Lines         []SaleLineJSON    `json:"lines"`
	Payments      []SalePaymentJSON `json:"payments"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// SaleLineJSON is a line of a sale.
type SaleLineJSON struct {
	PosItemID string `json:"pos_item_id"`
	Name      string `json:"name"`
	Quantity  string `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
	Total     int64  `json:"total"`
}

// SalePaymentJSON is a payment of a sale.
type SalePaymentJSON struct {
	Method string `json:"method"`
	Amount int64  `json:"amount"`
}

// SaleJSONOf renders a sale.
func SaleJSONOf(s domain.ImportedSale) SaleJSON {
	out := SaleJSON{ID: s.ID, IntegrationID: s.IntegrationID, ExternalID: s.ExternalID, Number: s.Number, StoreID: s.StoreID,
		SoldAt: s.SoldAt, Status: s.Status, Currency: s.Currency, Total: s.Total, UpdatedAt: s.UpdatedAt,
		Lines: make([]SaleLineJSON, 0, len(s.Lines)), Payments: make([]SalePaymentJSON, 0, len(s.Payments))}
	for _, l := range s.Lines {
		out.Lines = append(out.Lines, SaleLineJSON{PosItemID: l.PosItemID, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Total: l.Total})
	}
	for _, p := range s.Payments {
		out.Payments = append(out.Payments, SalePaymentJSON{Method: p.Method, Amount: p.Amount})
	}
	return out
}

// queryTime reads an RFC 3339 time (or a date, YYYY-MM-DD, as its UTC midnight) from the query.
func queryTime(r *http.Request, name string) (*time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return &t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return &t, nil
	}
	return nil, domain.Invalid(name, "%s must be an RFC 3339 time (2026-12-01T09:00:00Z) or a date (2026-12-01)", name)
}

func queryLimit(r *http.Request, def, maxN int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxN {
		return 0, domain.Invalid("limit", "limit must be a whole number from 1 to %d", maxN)
	}
	return n, nil
}

// integrationParam checks the integration_id query parameter names one of the account's.
func (a *API) integrationParam(r *http.Request, acct string, required bool) (string, error) {
	id := r.URL.Query().Get("integration_id")
	if id == "" {
		if required {
			return "", domain.Invalid("integration_id", "integration_id is required")
		}
		return "", nil
	}
	if err := domain.CheckText("integration_id", id, domain.TextID); err != nil {
		return "", err
	}
	if _, err := a.lc.Get(r.Context(), acct, id); err != nil {
		return "", err
	}
	return id, nil
}

// listSales lists sales in change order: a cursor from an earlier page (next_cursor) or from the
// sales.imported webhook reads exactly what came or changed since.
func (a *API) listSales(w http.ResponseWriter, r *http.Request, acct string) error {
	f := store.SaleFilter{}
	var err error
	if f.IntegrationID, err = a.integrationParam(r, acct, false); err != nil {
		return err
	}
	if f.Since, err = queryTime(r, "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until"); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(r, 100, 500); err != nil {
		return err
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		seq, id, _ := strings.Cut(c, "_")
		n, perr := strconv.ParseInt(seq, 10, 64)
		if perr != nil || n < 0 || len(id) > 64 {
			return domain.Invalid("cursor", "cursor must be a next_cursor of this list or the cursor of a sales.imported event")
		}
		f.AfterSeq, f.AfterID = n, id
	}
	sales, err := a.st.ListSales(r.Context(), acct, f)
	if err != nil {
		return err
	}
	out := make([]SaleJSON, 0, len(sales))
	for _, s := range sales {
		out = append(out, SaleJSONOf(s))
	}
	// next_cursor is where the next read starts, also when this page is the last (later reads
	// from it see what arrives or changes afterwards).
	next := r.URL.Query().Get("cursor")
	if len(sales) > 0 {
		last := sales[len(sales)-1]
		next = strconv.FormatInt(last.Seq, 10) + "_" + last.ID
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out, "next_cursor": next, "has_more": len(sales) == f.Limit})
}

// SalesDayJSON is one day of the sales summary.
type SalesDayJSON struct {
	Date          string `json:"date"`
	Currency      string `json:"currency"`
	Count         int    `json:"count"`
	Total         int64  `json:"total"`
	RefundedCount int    `json:"refunded_count"`
	RefundedTotal int64  `json:"refunded_total"`
	VoidedCount   int    `json:"voided_count"`
}

func (a *API) salesSummary(w http.ResponseWriter, r *http.Request, acct string) error {
	id, err := a.integrationParam(r, acct, false)
	if err != nil {
		return err
	}
	if iv := r.URL.Query().Get("interval"); iv != "" && iv != "day" {
		return domain.Invalid("interval", `interval must be "day"`)
	}
	from, err := queryTime(r, "from")
	if err != nil {
		return err
	}
	to, err := queryTime(r, "to")
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if to == nil {
		t := now
		to = &t
	}
	if from == nil {
		t := to.Add(-30 * 24 * time.Hour)
		from = &t
	}
	if !from.Before(*to) || to.Sub(*from) > 366*24*time.Hour {
		return domain.Invalid("from", "from must be before to, at most 366 days apart")
	}
	days, err := a.st.SalesSummary(r.Context(), acct, id, *from, *to)
	if err != nil {
		return err
	}
	out := make([]SalesDayJSON, 0, len(days))
	for _, d := range days {
		out = append(out, SalesDayJSON{Date: d.Day.Format("2006-01-02"), Currency: d.Currency, Count: d.Count, Total: d.Total,
			RefundedCount: d.RefundedCount, RefundedTotal: d.RefundedTotal, VoidedCount: d.VoidedCount})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out, "interval": "day", "from": from.UTC(), "to": to.UTC()})
}

// PosItemJSON is a POS item as the API shows it.
type PosItemJSON struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integration_id"`
	ExternalID    string    `json:"external_id"`
	Name          string    `json:"name"`
	SKU           string    `json:"sku"`
	AppRef        string    `json:"app_ref"`
	Currency      string    `json:"currency"`
	LastUnitPrice int64     `json:"last_unit_price"`
	FirstSeenAt   time.Time `json:"first_seen_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
}

// PosItemJSONOf renders a POS item.
func PosItemJSONOf(p domain.PosItem) PosItemJSON {
	return PosItemJSON{ID: p.ID, IntegrationID: p.IntegrationID, ExternalID: p.ExternalID, Name: p.Name, SKU: p.SKU, AppRef: p.AppRef,
		Currency: p.Currency, LastUnitPrice: p.LastUnitPrice, FirstSeenAt: p.FirstSeenAt, LastSeenAt: p.LastSeenAt}
}

func (a *API) listPosItems(w http.ResponseWriter, r *http.Request, acct string) error {
	f := store.PosItemFilter{}
	var err error
	if f.IntegrationID, err = a.integrationParam(r, acct, false); err != nil {
		return err
	}
	f.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if err := domain.CheckText("q", f.Query, domain.TextNickname); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(r, 100, 500); err != nil {
		return err
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		// The cursor is the last item's id; its name is read back (so the cursor stays short).
		items, err := a.st.GetPosItem(r.Context(), acct, c)
		if err != nil {
			return domain.Invalid("cursor", "cursor must be a next_cursor of this list")
		}
		f.AfterName, f.AfterID = items.Name, items.ID
	}
	items, err := a.st.ListPosItems(r.Context(), acct, f)
	if err != nil {
		return err
	}
	out := make([]PosItemJSON, 0, len(items))
	for _, p := range items {
		out = append(out, PosItemJSONOf(p))
	}
	var next any
	if len(items) == f.Limit {
		next = items[len(items)-1].ID
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": out, "next_cursor": next})
}

func (a *API) mapPosItem(w http.ResponseWriter, r *http.Request, acct string) error {
	var in struct {
		AppRef *string `json:"app_ref"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AppRef == nil {
		return domain.Invalid("app_ref", `app_ref is required ("" clears the mapping)`)
	}
	ref := strings.TrimSpace(*in.AppRef)
	if err := domain.CheckText("app_ref", ref, domain.TextID); err != nil {
		return err
	}
	p, err := a.st.SetPosItemMapping(r.Context(), acct, r.PathValue("id"), ref)
	if err == store.ErrNotFound {
		return domain.NotFound("POS item")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, PosItemJSONOf(p))
}

// EmailInboxJSON is an email integration's address and sales file settings.
type EmailInboxJSON struct {
	Address        string              `json:"address"`
	Mapping        salesimport.Mapping `json:"mapping"`
	AllowedSenders []string            `json:"allowed_senders"`
	LastFileAt     *time.Time          `json:"last_file_at"`
}

func emailInboxJSON(in salesimport.Inbox) EmailInboxJSON {
	s := in.AllowedSenders
	if s == nil {
		s = []string{}
	}
	return EmailInboxJSON{Address: in.Address, Mapping: in.Mapping, AllowedSenders: s, LastFileAt: in.LastFileAt}
}

func (a *API) getEmailInbox(w http.ResponseWriter, r *http.Request, acct string) error {
	if err := a.salesService(); err != nil {
		return err
	}
	in, err := a.Sales.Inbox(r.Context(), acct, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, emailInboxJSON(in))
}

func (a *API) putEmailInbox(w http.ResponseWriter, r *http.Request, acct string) error {
	if err := a.salesService(); err != nil {
		return err
	}
	var in struct {
		Mapping        *salesimport.Mapping `json:"mapping"`
		AllowedSenders []string             `json:"allowed_senders"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Mapping == nil {
		return domain.Invalid("mapping", `mapping is required, for example {"preset": "square"}`)
	}
	box, err := a.Sales.SetInbox(r.Context(), acct, domain.ActorAPI, r.PathValue("id"), *in.Mapping, in.AllowedSenders)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, emailInboxJSON(box))
}
