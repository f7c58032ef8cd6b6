package console

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
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
	Versions  []backoffice.Version
	Terminals []backoffice.TerminalJSON
	Code      string // a pairing code just made
	Error     string
	Delay     string
	Settings  backoffice.AccountSettings
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
	c.renderBackOffice(w, r, s, http.StatusOK, backOfficeData{StoreID: c.storeOf(r)})
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
	if d.Versions, err = bo.Versions(r.Context(), p, d.StoreID); err != nil {
		c.fail(w, r, s, err)
		return
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
	}
	if name := strings.TrimSpace(r.PostForm.Get("new_name")); name != "" {
		m, ok := parseMinor(r.PostForm.Get("new_price"))
		if !ok {
			c.renderBackOffice(w, r, s, http.StatusUnprocessableEntity, backOfficeData{StoreID: storeID, Error: "The new product's price is not an amount such as 2.50."})
			return
		}
		id := fmt.Sprintf("p%d", len(content.Products)+1)
		content.Products = append(content.Products, backoffice.Product{ID: id, Name: name, Price: m})
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
	http.Redirect(w, r, "/back-office?store_id="+url.QueryEscape(c.storeOf(r))+"&msg=terminalrevoked", http.StatusSeeOther)
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
