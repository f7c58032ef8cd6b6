package domain

import (
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DocKind is a kind of document of the business app that may become a POS order.
type DocKind string

// The document kinds.
const (
	KindJob     DocKind = "job"
	KindInvoice DocKind = "invoice"
	KindSale    DocKind = "sale"
	KindBooking DocKind = "booking"
)

// docStatuses lists the statuses each kind may have.
var docStatuses = map[DocKind][]string{
	KindJob:     {"open", "accepted", "completed", "cancelled", "rejected"},
	KindBooking: {"open", "accepted", "completed", "cancelled", "rejected"},
	KindInvoice: {"draft", "issued", "paid", "void"},
	KindSale:    {"completed", "refunded"},
}

// ParseDocKind checks a kind from a URL.
func ParseDocKind(s string) (DocKind, error) {
	k := DocKind(s)
	if _, ok := docStatuses[k]; !ok {
		return "", Invalid("kind", "kind must be job, invoice, sale or booking, not %q", s)
	}
	return k, nil
}

// Statuses lists the statuses of the kind.
func (k DocKind) Statuses() []string { return docStatuses[k] }

// SyncStatus is where a document stands with the POS.
type SyncStatus string

// Sync statuses.
const (
	SyncNotSent SyncStatus = "not_sent"
	SyncPending SyncStatus = "pending"
	SyncSyncing SyncStatus = "syncing"
	SyncSynced  SyncStatus = "synced"
	SyncFailed  SyncStatus = "failed"
	// SyncRetrying: the last push failed and posbridge tries again by itself at NextAttemptAt.
	SyncRetrying SyncStatus = "retrying"
)

// DocCustomer is the customer on a document.
type DocCustomer struct {
	Ref   string `json:"ref,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// DocLine is a line of a document.
type DocLine struct {
	ProductRef  string `json:"product_ref,omitempty"`
	Description string `json:"description"`
	Quantity    string `json:"quantity"`
	UnitPrice   Money  `json:"unit_price"`
	TaxRate     string `json:"tax_rate,omitempty"`
}

// DocLink links a document to another (a job's invoice).
type DocLink struct {
	Kind DocKind `json:"kind"`
	Ref  string  `json:"ref"`
}

// DocContent is what the app says about a document; its hash tells whether a write changed it.
type DocContent struct {
	Status   string       `json:"status"`
	Customer *DocCustomer `json:"customer,omitempty"`
	Lines    []DocLine    `json:"lines"`
	Links    []DocLink    `json:"links,omitempty"`
}

// Document is an app document and its sync state.
type Document struct {
	AccountID string
	Kind      DocKind
	Ref       string
	DocContent
	Version   int64 // bumped on every change
	Hash      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Sync      DocSync
}

// DocSync is a document's link to its POS order.
type DocSync struct {
	Status        SyncStatus
	IntegrationID string
	ExternalID    string
	ExternalURL   string
	AutoSync      bool
	LastSyncedAt  *time.Time
	LastError     string
	SyncedVersion int64  // the document version the POS order holds
	Generation    int    // how many times "Send as new order" was used
	Action        string // a manual action waiting for the worker: "", "resync", "new", "new_void"
	// While retrying: when the next automatic attempt is due, and which attempt of how many it is.
	NextAttemptAt *time.Time
	Attempt       int
	MaxAttempts   int
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidateRef checks a document reference of the app.
func ValidateRef(ref string) error {
	if !refPattern.MatchString(ref) {
		return Invalid("ref", "ref must be 1 to 128 letters, digits or . _ : - and start with a letter or digit")
	}
	return nil
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

var decimalPattern = regexp.MustCompile(`^-?[0-9]{1,12}(\.[0-9]{1,5})?$`)

// Validate checks the content for the kind, naming the wrong field.
func (c *DocContent) Validate(k DocKind) error {
	ok := false
	for _, s := range docStatuses[k] {
		if c.Status == s {
			ok = true
		}
	}
	if !ok {
		return Invalid("status", "status of %s %s must be one of %s", Article(string(k)), k, strings.Join(docStatuses[k], ", "))
	}
	if len(c.Lines) > 500 {
		return Invalid("lines", "at most 500 lines")
	}
	currency := ""
	for i, l := range c.Lines {
		f := func(name string) string { return "lines[" + itoa(i) + "]." + name }
		if strings.TrimSpace(l.Description) == "" {
			return Invalid(f("description"), "description is required (at most %d characters)", MaxLineDescriptionLen)
		}
		if err := CheckText(f("description"), l.Description, TextLineDescription); err != nil {
			return err
		}
		if err := CheckText(f("product_ref"), l.ProductRef, TextRef); err != nil {
			return err
		}
		if !decimalPattern.MatchString(l.Quantity) {
			return Invalid(f("quantity"), "quantity must be a decimal string such as \"1\" or \"0.5\"")
		}
		q, _ := new(big.Rat).SetString(l.Quantity)
		if q == nil || q.Sign() == 0 {
			return Invalid(f("quantity"), "quantity must not be zero")
		}
		if new(big.Rat).Abs(q).Cmp(new(big.Rat).SetInt64(MaxQuantity)) > 0 {
			return Invalid(f("quantity"), "quantity must be between -%d and %d", MaxQuantity, MaxQuantity)
		}
		if err := CheckAmount(f("unit_price.amount"), l.UnitPrice.Amount); err != nil {
			return err
		}
		if _, err := l.LineTotal(); err != nil {
			return Invalid(f("quantity"), "quantity x unit_price.amount is beyond %d minor units", MaxAmount)
		}
		if !currencyPattern.MatchString(l.UnitPrice.Currency) {
			return Invalid(f("unit_price.currency"), "currency must be an ISO 4217 code such as EUR")
		}
		if currency != "" && l.UnitPrice.Currency != currency {
			return Invalid(f("unit_price.currency"), "all lines must have the same currency")
		}
		currency = l.UnitPrice.Currency
		if l.TaxRate != "" && !decimalPattern.MatchString(l.TaxRate) {
			return Invalid(f("tax_rate"), "tax_rate must be a decimal percentage such as \"21\"")
		}
	}
	if _, err := c.Total(); err != nil {
		return Invalid("lines", "the document's total is beyond %d minor units", MaxAmount)
	}
	if len(c.Links) > 100 {
		return Invalid("links", "at most 100 links")
	}
	for i, l := range c.Links {
		if _, err := ParseDocKind(string(l.Kind)); err != nil {
			return Invalid("links["+itoa(i)+"].kind", "kind must be job, invoice, sale or booking")
		}
		if err := ValidateRef(l.Ref); err != nil {
			return Invalid("links["+itoa(i)+"].ref", "%s", err.(*Error).Message)
		}
	}
	if cu := c.Customer; cu != nil {
		for _, t := range []struct {
			field, v string
			k        TextKind
		}{{"customer.ref", cu.Ref, TextRef}, {"customer.name", cu.Name, TextName}, {"customer.email", cu.Email, TextEmail}, {"customer.phone", cu.Phone, TextPhone}} {
			if err := CheckText(t.field, t.v, t.k); err != nil {
				return err
			}
		}
	}
	if c.Customer != nil && c.Customer.Email != "" {
		if _, err := NormalizeEmail("customer.email", c.Customer.Email); err != nil {
			return err
		}
	}
	return nil
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

// LineTotal is quantity x unit price in minor units, rounded half away from zero;
// ErrOutOfRange when it leaves ±MaxAmount (never a wrapped number).
func (l DocLine) LineTotal() (int64, error) {
	return MulRat(l.UnitPrice.Amount, l.Quantity)
}

// Total is the sum of the line totals in the lines' currency, overflow-checked.
func (c *DocContent) Total() (Money, error) {
	var m Money
	for _, l := range c.Lines {
		t, err := l.LineTotal()
		if err != nil {
			return Money{}, err
		}
		if m.Amount, err = AddAmounts(m.Amount, t); err != nil {
			return Money{}, err
		}
		m.Currency = l.UnitPrice.Currency
	}
	return m, nil
}

// OrderSyncSettings are an account's "Automatic Sync" settings.
type OrderSyncSettings struct {
	IntegrationID                string     `json:"integration_id"`
	AutoSync                     bool       `json:"auto_sync"`
	SyncOnJobCreated             bool       `json:"sync_on_job_created"`
	SyncOnItemsChanged           bool       `json:"sync_on_items_changed"`
	SyncOnInvoiceCreated         bool       `json:"sync_on_invoice_created"`
	SyncOnSaleCompleted          bool       `json:"sync_on_sale_completed"`
	SyncOnBooking                string     `json:"sync_on_booking"` // off, created, accepted
	OnCancel                     CancelMode `json:"on_cancel"`       // none, void, archive, delete
	MarkInvoicePaidOnCompletion  bool       `json:"mark_invoice_paid_on_completion"`
	MarkJobCompletedOnCompletion bool       `json:"mark_job_completed_on_completion"`
}

// DefaultOrderSyncSettings are the settings of an account that never saved any: off, with the
// usual choices ready under the master toggle (sync jobs, invoices and sales when created and
// when their items change).
func DefaultOrderSyncSettings() OrderSyncSettings {
	return OrderSyncSettings{SyncOnJobCreated: true, SyncOnItemsChanged: true, SyncOnInvoiceCreated: true,
		SyncOnSaleCompleted: true, SyncOnBooking: "off", OnCancel: CancelVoid,
		MarkInvoicePaidOnCompletion: true, MarkJobCompletedOnCompletion: true}
}

// Validate checks the enumerations.
func (s OrderSyncSettings) Validate() error {
	switch s.SyncOnBooking {
	case "off", "created", "accepted":
	default:
		return Invalid("sync_on_booking", `sync_on_booking must be "off", "created" or "accepted"`)
	}
	if !slices.Contains(CancelModes, s.OnCancel) {
		return Invalid("on_cancel", `on_cancel must be "none", "void", "archive" or "delete"`)
	}
	if err := CheckText("integration_id", s.IntegrationID, TextID); err != nil {
		return err
	}
	if s.AutoSync && s.IntegrationID == "" {
		return Invalid("integration_id", "choose the integration orders go to before turning automatic sync on")
	}
	return nil
}

// Cancelled tells whether the document's status takes its POS order back.
func (d *Document) Cancelled() bool {
	return (d.Kind == KindJob || d.Kind == KindBooking) && (d.Status == "cancelled" || d.Status == "rejected") ||
		d.Kind == KindInvoice && d.Status == "void"
}

// Change describes one write of the app, for the sync decision.
type Change struct {
	Created       bool
	LinesChanged  bool
	StatusChanged bool
	OtherChanged  bool  // any other part of the content (links, ...)
	Override      *bool // the app's "Sync to POS" for this action
}

// ShouldSync decides from the settings ("When to sync") whether this change goes to
// the POS now. The per-document toggle and the per-action override win over the defaults.
func ShouldSync(s OrderSyncSettings, d *Document, c Change) bool {
	if !s.AutoSync || s.IntegrationID == "" || !d.Sync.AutoSync {
		return false
	}
	if c.Override != nil {
		return *c.Override
	}
	hasOrder := d.Sync.ExternalID != ""
	if hasOrder && d.Cancelled() && c.StatusChanged {
		return s.OnCancel != CancelNone
	}
	if d.Cancelled() {
		return false
	}
	failed := d.Sync.Status == SyncFailed || d.Sync.Status == SyncRetrying
	switch {
	case failed && (c.LinesChanged || c.StatusChanged || c.OtherChanged):
		// The last sync of this document failed; a change may be its fix: send it again.
		return true
	case c.Created:
		switch d.Kind {
		case KindJob:
			return s.SyncOnJobCreated
		case KindInvoice:
			return s.SyncOnInvoiceCreated
		case KindSale:
			return s.SyncOnSaleCompleted && d.Status == "completed"
		case KindBooking:
			return s.SyncOnBooking == "created" || s.SyncOnBooking == "accepted" && d.Status == "accepted"
		}
	case d.Kind == KindBooking && !hasOrder && c.StatusChanged && d.Status == "accepted":
		return s.SyncOnBooking == "accepted"
	case d.Kind == KindSale && !hasOrder && c.StatusChanged && d.Status == "completed":
		return s.SyncOnSaleCompleted
	case hasOrder && c.LinesChanged:
		return s.SyncOnItemsChanged
	case hasOrder && c.StatusChanged:
		return true
	}
	return false
}

// Article is "an" before a word that starts with a vowel sound, else "a".
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}
