package domain

import (
	"fmt"
	"time"
)

// Imported sale statuses (the app sees only these three).
const (
	SaleCompleted = "completed"
	SaleRefunded  = "refunded"
	SaleVoided    = "voided"
)

// DefaultSalesInterval is how often sales are fetched when the merchant set nothing: at least
// every 6 hours.
const DefaultSalesInterval = 6 * time.Hour

// MinSalesIntervalMinutes is the shortest sales check frequency a merchant may set.
const MinSalesIntervalMinutes = 5

// MaxSalesIntervalMinutes is the longest: sales are checked at least every 6 hours.
const MaxSalesIntervalMinutes = 360

// Payment is one payment of a sale (method as the POS names it, amount in minor units).
type Payment struct {
	Method string `json:"method"`
	Amount Money  `json:"amount"`
}

// ImportedSale is a sale as posbridge keeps it: keyed by integration and the provider's id.
type ImportedSale struct {
	ID            string
	AccountID     string
	IntegrationID string
	ExternalID    string
	Number        string
	StoreID       string
	Status        string // SaleCompleted, SaleRefunded or SaleVoided
	Currency      string
	Total         int64
	SoldAt        time.Time
	Lines         []SaleLine
	Payments      []SalePayment
	Seq           int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// SaleLine is one line of an imported sale; ItemKey names its POS item within the integration
// (the provider's product id, else its SKU, else its name) and PosItemID is posbridge's id of it.
type SaleLine struct {
	PosItemID string
	ItemKey   string
	SKU       string
	Name      string
	Quantity  string
	UnitPrice int64
	Total     int64
}

// SalePayment is one payment of an imported sale.
type SalePayment struct {
	Method string
	Amount int64
}

// PosItem is an item seen in an integration's sales, with the app's mapping of it.
type PosItem struct {
	ID            string
	AccountID     string
	IntegrationID string
	ExternalID    string
	Name          string
	SKU           string
	AppRef        string
	Currency      string
	LastUnitPrice int64
	FirstSeenAt   time.Time
	LastSeenAt    time.Time
}

// SalesFetchOutcome is one sales fetch: the provider call's outcome and whether a new sale came.
type SalesFetchOutcome struct {
	CheckOutcome
	NewSales bool
}

// ApplySalesFetch moves the status machine by one sales fetch: a successful fetch is
// Healthy ("receiving sales data"), a failed one Failed, and too many failures in a row
// CalledOff. "Last sales check" moves on every attempt, "Last sale imported" only when a new
// sale arrived. The credentials check's own times (LastCheckAt) stay as they are.
//
// A successful fetch leaves an Initializing integration Initializing: its credentials check
// makes it Healthy, together with its stores and default store, so that a Healthy integration
// always has them.
func (i *Integration) ApplySalesFetch(o SalesFetchOutcome, callOffAfter int, now time.Time) *Transition {
	lastCheck := i.LastCheckAt
	var t *Transition
	if !o.OK || i.Status != StatusInitializing {
		t = i.ApplyCheck(o.CheckOutcome, callOffAfter, now)
	}
	i.LastCheckAt = lastCheck
	i.LastSalesCheckAt = &now
	if o.OK && o.NewSales {
		i.LastSaleImportedAt = &now
	}
	return t
}

// NextSalesAt is the first time after now at which an integration fetches sales every interval:
// the phase within the interval comes from a hash of the integration's id, so that many
// integrations with the same interval spread evenly over it instead of all firing together.
func NextSalesAt(id string, interval time.Duration, now time.Time) time.Time {
	if interval <= 0 {
		interval = DefaultSalesInterval
	}
	var h uint64 = 14695981039346656037 // FNV-1a
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	step := interval.Microseconds()
	phase := int64(h % uint64(step))
	n := now.UnixMicro()
	next := n - ((n-phase)%step+step)%step + step // the next slot strictly after now
	return time.UnixMicro(next).UTC()
}

// ValidateSalesInterval checks a sales check frequency in minutes.
func ValidateSalesInterval(m int) error {
	if m < MinSalesIntervalMinutes || m > MaxSalesIntervalMinutes {
		return &Error{Code: CodeInvalid, Field: "sales_interval_minutes",
			Message: fmt.Sprintf("sales_interval_minutes must be from %d to %d (sales are checked at least every 6 hours)", MinSalesIntervalMinutes, MaxSalesIntervalMinutes)}
	}
	return nil
}

// KindSalesFetched is the timeline entry of one sales fetch (or one imported sales file).
const KindSalesFetched = "integration.sales_fetched"

// EventSalesImported tells the app that new or changed sales are there to read: a count and
// the cursor of GET /api/v1/sales to read them from, never the sales themselves.
const EventSalesImported = "sales.imported"
