package console

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/domain"
)

// backOfficeData is the body of Back office: a store's draft editor, Save and Publish, the
// version history with diffs and the store's terminals.
type backOfficeData struct {
	StoreID   string
	Draft     backoffice.Draft
	Prices    map[string]string
	Rates     map[string]string // tax rate id -> percent
	Pcts      map[string]string // discount id -> percent
	Versions  []backoffice.Version
	Terminals []backoffice.TerminalJSON
	Code      string // a pairing code just made
	Error     string
	Delay     string
	Settings  backoffice.AccountSettings
	// POSFailed are the failed POS deliveries of the newest version written to POS integrations.
	POSFailed []posFailure
}

type posFailure struct {
	Version              int64
	Integration, Message string
}

func minorText(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

func parseMinor(s string) (int64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(s, ",", ".")), 64)
	if err != nil || f < 0 || f > 1e13 || math.IsNaN(f) {
		return 0, false
	}
	return int64(math.Round(f * 100)), true
}

func (c *Console) storeOf(r *http.Request) string {
	s := strings.TrimSpace(r.URL.Query().Get("store_id"))
	if s == "" {
		s = strings.TrimSpace(r.PostForm.Get("store_id"))
	}
	if s == "" || domain.HasControl(s) || len(s) > domain.MaxIDLen {
		return "main"
	}
	return s
}

func (c *Console) backOfficePage(w http.ResponseWriter, r *http.Request, s *session) {
	storeID := c.storeOf(r)
	if r.URL.Query().Get("store_id") == "" {
		// Without a choice: the store of the account's first POS integration that has one, so
		// the back office opens on the store the POS knows (a --demo server's Sandbox POS store).
		all, err := c.d.Lifecycle.List(r.Context(), s.account.ID, "")
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		for _, i := range all {
			if i.StoreID != "" && i.Status != domain.StatusInactive {
				storeID = i.StoreID
				break
			}
		}
	}
	c.renderBackOffice(w, r, s, http.StatusOK, backOfficeData{StoreID: storeID})
}

func (c *Console) renderBackOffice(w http.ResponseWriter, r *http.Request, s *session, status int, d backOfficeData) {
	bo := c.d.BackOffice
	p := s.principal()
	var err error
	if d.Draft, err = bo.GetDraft(r.Context(), p, d.StoreID); err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Prices = map[string]string{}
	for _, pr := range d.Draft.Content.Products {
		d.Prices[pr.ID] = minorText(pr.Price)
	}
	d.Rates, d.Pcts = map[string]string{}, map[string]string{}
	for _, x := range d.Draft.Content.TaxRates {
		d.Rates[x.ID] = strings.TrimSuffix(strings.TrimSuffix(minorText(x.Rate), "0"), ".0")
	}
	for _, x := range d.Draft.Content.Discounts {
		d.Pcts[x.ID] = strings.TrimSuffix(strings.TrimSuffix(minorText(x.Percent), "0"), ".0")
	}
	if d.Versions, err = bo.Versions(r.Context(), p, d.StoreID); err != nil {
		c.fail(w, r, s, err)
		return
	}
	for _, v := range d.Versions {
		if len(v.Deliveries.POS) == 0 {
			continue
		}
		for _, x := range v.Deliveries.POS {
			if x.Status == backoffice.POSFailed {
				d.POSFailed = append(d.POSFailed, posFailure{Version: v.Version, Integration: x.Integration, Message: x.Message})
			}
		}
		break
	}
	ts, err := bo.Terminals(r.Context(), p)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	for _, t := range ts {
		if t.StoreID == d.StoreID {
			d.Terminals = append(d.Terminals, t)
		}
	}
	if d.Settings, err = bo.GetSettings(r.Context(), p); err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Delay = (time.Duration(d.Settings.PublishDelaySeconds) * time.Second).String()
	c.render(w, status, "back_office", c.newPage(r, s, "Back office", "back-office", d))
}

// backOfficeSave saves the edited draft; with publish=1 it then publishes it (Save and Publish).
func (c *Console) backOfficeSave(w http.ResponseWriter, r *http.Request, s *session) {
	storeID := c.storeOf(r)
	publish := r.PostForm.Get("publish") == "1"
	if publish && !s.can(domain.PermPublish) {
		c.fail(w, r, s, domain.Forbidden(domain.PermPublish))
		return
	}
	bo := c.d.BackOffice
	p := s.principal()
	d, err := bo.GetDraft(r.Context(), p, storeID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	content := d.Content
	if msg := applyLists(r.PostForm, &content); msg != "" {
		c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: msg})
		return
	}
	for i, pr := range content.Products {
		if v := r.PostForm.Get("name_" + pr.ID); v != "" {
			content.Products[i].Name = v
		}
		if v, ok := r.PostForm["price_"+pr.ID]; ok {
			m, ok := parseMinor(v[0])
			if !ok {
				c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: "The price of " + pr.Name + " is not an amount such as 2.50."})
				return
			}
			content.Products[i].Price = m
		}
		if v, ok := r.PostForm["cat_"+pr.ID]; ok {
			content.Products[i].CategoryID = v[0]
		}
		if v, ok := r.PostForm["tax_"+pr.ID]; ok {
			content.Products[i].TaxRateID = v[0]
		}
	}
	dropRefs(&content)
	if name := strings.TrimSpace(r.PostForm.Get("new_name")); name != "" {
		m, ok := parseMinor(r.PostForm.Get("new_price"))
		if !ok {
			c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: "The new product's price is not an amount such as 2.50."})
			return
		}
		ids := make([]string, 0, len(content.Products))
		for _, x := range content.Products {
			ids = append(ids, x.ID)
		}
		content.Products = append(content.Products, backoffice.Product{ID: freeID("p", ids), Name: name, Price: m,
			CategoryID: r.PostForm.Get("new_cat"), TaxRateID: r.PostForm.Get("new_tax")})
		dropRefs(&content)
	}
	content.Settings.ReceiptHeader = r.PostForm.Get("receipt_header")
	content.Settings.ReceiptFooter = r.PostForm.Get("receipt_footer")
	if _, err := bo.SaveDraft(r.Context(), p, storeID, content); err != nil {
		if de, ok := err.(*domain.Error); ok && de.Code == domain.CodeInvalid {
			c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: de.Message})
			return
		}
		c.fail(w, r, s, err)
		return
	}
	msg := "bosaved"
	if publish {
		if _, err := bo.Publish(r.Context(), p, storeID); err != nil {
			c.fail(w, r, s, err)
			return
		}
		msg = "bopublished"
	}
	http.Redirect(w, r, "/back-office?store_id="+url.QueryEscape(storeID)+"&msg="+msg, http.StatusSeeOther)
}

func (c *Console) backOfficePair(w http.ResponseWriter, r *http.Request, s *session) {
	storeID := c.storeOf(r)
	code, _, err := c.d.BackOffice.CreatePairingCode(r.Context(), s.principal(), storeID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.renderBackOffice(w, r, s, http.StatusOK, backOfficeData{StoreID: storeID, Code: code})
}

func (c *Console) backOfficeRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.d.BackOffice.RevokeTerminal(r.Context(), s.principal(), r.PathValue("id")); err != nil {
		c.fail(w, r, s, err)
		return
	}
	back := "/back-office?store_id=" + url.QueryEscape(c.storeOf(r))
	if r.PostForm.Get("from") == "terminals" {
		back = "/terminals?"
	}
	http.Redirect(w, r, back+"&msg=terminalrevoked", http.StatusSeeOther)
}

// backOfficeSettings sets the account's publish delay.
func (c *Console) backOfficeSettings(w http.ResponseWriter, r *http.Request, s *session) {
	storeID := c.storeOf(r)
	n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("publish_delay_seconds")))
	if err != nil {
		c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: "The publish delay is a whole number of seconds, such as 30."})
		return
	}
	if _, err := c.d.BackOffice.SaveSettings(r.Context(), s.principal(), n); err != nil {
		if de, ok := err.(*domain.Error); ok && de.Code == domain.CodeInvalid {
			c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: "The publish delay must be 0 to 3600 seconds."})
			return
		}
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/back-office?store_id="+url.QueryEscape(storeID)+"&msg=bosettings", http.StatusSeeOther)
}

// freeID is the first of prefix1, prefix2, ... not among ids.
func freeID(prefix string, ids []string) string {
	used := map[string]bool{}
	for _, id := range ids {
		used[id] = true
	}
	for n := len(ids) + 1; ; n++ {
		if id := fmt.Sprintf("%s%d", prefix, n); !used[id] {
			return id
		}
	}
}

// percentBP reads a percentage such as 21 or 5.5 as basis points.
func percentBP(v string) (int64, bool) {
	return parseMinor(strings.TrimSuffix(strings.TrimSpace(v), "%"))
}

// editList applies the form's edits of one list: each item not marked del_<tag>_<id> is kept
// and changed by edit; a new one is added by add when the form names it (new_<tag>_name). It
// answers the list, or a sentence naming what is wrong.
func editList[T any](f url.Values, items []T, tag string, id func(T) string, edit func(*T) string, add func(id, name string) (T, string)) ([]T, string) {
	var out []T
	var ids []string
	for _, x := range items {
		ids = append(ids, id(x))
		if f.Get("del_"+tag+"_"+id(x)) != "" {
			continue
		}
		if msg := edit(&x); msg != "" {
			return nil, msg
		}
		out = append(out, x)
	}
	if name := strings.TrimSpace(f.Get("new_" + tag + "_name")); name != "" {
		x, msg := add(freeID(tag[:1], ids), name)
		if msg != "" {
			return nil, msg
		}
		out = append(out, x)
	}
	return out, ""
}

// rateField reads a percentage field as basis points up to limit, keeping cur when it is absent.
func rateField(f url.Values, key string, cur, limit int64) (int64, bool) {
	v, ok := f[key]
	if !ok {
		return cur, true
	}
	bp, ok := percentBP(v[0])
	return bp, ok && bp <= limit
}

// applyLists applies the form's edits of categories, tax rates and discounts (rename, change the
// rate, remove, add one of each); it answers a sentence naming what is wrong, or "".
func applyLists(f url.Values, c *backoffice.Content) string {
	rename := func(key string, name *string) {
		if v := strings.TrimSpace(f.Get(key)); v != "" {
			*name = v
		}
	}
	var msg string
	c.Categories, msg = editList(f, c.Categories, "cat", func(x backoffice.Category) string { return x.ID },
		func(x *backoffice.Category) string { rename("catname_"+x.ID, &x.Name); return "" },
		func(id, name string) (backoffice.Category, string) {
			return backoffice.Category{ID: id, Name: name}, ""
		})
	if msg != "" {
		return msg
	}
	const maxRate = 100_000
	c.TaxRates, msg = editList(f, c.TaxRates, "tax", func(x backoffice.TaxRate) string { return x.ID },
		func(x *backoffice.TaxRate) string {
			rename("taxname_"+x.ID, &x.Name)
			var ok bool
			if x.Rate, ok = rateField(f, "taxrate_"+x.ID, x.Rate, maxRate); !ok {
				return "The rate of " + x.Name + " is not a percentage such as 21 or 5.5."
			}
			return ""
		},
		func(id, name string) (backoffice.TaxRate, string) {
			bp, ok := rateField(f, "new_tax_rate", 0, maxRate)
			if !ok {
				return backoffice.TaxRate{}, "The new tax rate is not a percentage such as 21 or 5.5."
			}
			return backoffice.TaxRate{ID: id, Name: name, Rate: bp}, ""
		})
	if msg != "" {
		return msg
	}
	c.Discounts, msg = editList(f, c.Discounts, "disc", func(x backoffice.Discount) string { return x.ID },
		func(x *backoffice.Discount) string {
			rename("discname_"+x.ID, &x.Name)
			var ok bool
			if x.Percent, ok = rateField(f, "discpct_"+x.ID, x.Percent, 10_000); !ok {
				return "The discount " + x.Name + " is not a percentage from 0 to 100."
			}
			return ""
		},
		func(id, name string) (backoffice.Discount, string) {
			bp, ok := rateField(f, "new_disc_pct", 0, 10_000)
			if !ok {
				return backoffice.Discount{}, "The new discount is not a percentage from 0 to 100."
			}
			return backoffice.Discount{ID: id, Name: name, Percent: bp}, ""
		})
	return msg
}

// dropRefs clears products' references to categories and tax rates that are gone.
func dropRefs(c *backoffice.Content) {
	cats, taxes := map[string]bool{}, map[string]bool{}
	for _, x := range c.Categories {
		cats[x.ID] = true
	}
	for _, x := range c.TaxRates {
		taxes[x.ID] = true
	}
	for i, p := range c.Products {
		if !cats[p.CategoryID] {
			c.Products[i].CategoryID = ""
		}
		if !taxes[p.TaxRateID] {
			c.Products[i].TaxRateID = ""
		}
	}
}

// terminalsPage lists the paired terminals of every store the role covers.
func (c *Console) terminalsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ts, err := c.d.BackOffice.Terminals(r.Context(), s.principal())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].StoreID < ts[j].StoreID })
	c.render(w, http.StatusOK, "terminals", c.newPage(r, s, "Terminals", "terminals", ts))
}
