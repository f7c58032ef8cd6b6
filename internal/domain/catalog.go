package domain

import (
	"fmt"
	"slices"
	"time"
)

// CatalogSyncSettings are an account's catalog sync settings: the POS that
// is the system of record for products, stock and customers, and the web shops its products
// are pushed to.
type CatalogSyncSettings struct {
	SourceIntegrationID string               `json:"source_integration_id"`
	Enabled             bool                 `json:"enabled"`
	Destinations        []CatalogDestination `json:"destinations"`
}

// CatalogDestination is a web shop the source's products are pushed to. OwnedFields are the
// fields the shop keeps (edited there without breaking the link); every other field is pushed
// whole, and an empty source value overwrites the shop's unless EmptyOverwrites is false.
type CatalogDestination struct {
	IntegrationID   string   `json:"integration_id"`
	OwnedFields     []string `json:"owned_fields"`
	EmptyOverwrites bool     `json:"empty_overwrites"`
	// StockLocations maps the source's locations whose stock the shop sells to the shop's
	// locations ("" is the shop's default one); several may map to one and are summed. Empty:
	// every location of the source, summed, at the shop's default location.
	StockLocations map[string]string `json:"stock_locations,omitempty"`
}

// MaxStockLocations bounds the stock location map of one destination.
const MaxStockLocations = 50

// ProductFields are the product fields a destination may own, in the order the console shows them.
var ProductFields = []string{"name", "description", "sku", "barcode", "price", "weight", "categories", "variants", "track_stock"}

// DefaultOwnedFields are the fields a web shop owns unless told otherwise: weight and categories
// may be edited in the shop without breaking the link.
func DefaultOwnedFields() []string { return []string{"weight", "categories"} }

// MaxCatalogDestinations bounds the destinations of one account.
const MaxCatalogDestinations = 10

// DefaultCatalogSyncSettings are the settings of an account that never saved any.
func DefaultCatalogSyncSettings() CatalogSyncSettings {
	return CatalogSyncSettings{Destinations: []CatalogDestination{}}
}

// Validate checks the settings' shape; whether the integrations exist and can do the work is
// for the service to check.
func (s CatalogSyncSettings) Validate() error {
	if err := CheckText("source_integration_id", s.SourceIntegrationID, TextID); err != nil {
		return err
	}
	if s.Enabled && s.SourceIntegrationID == "" {
		return Invalid("source_integration_id", "choose the POS that holds your products and customers before turning catalog sync on")
	}
	if len(s.Destinations) > MaxCatalogDestinations {
		return Invalid("destinations", "at most %d destinations", MaxCatalogDestinations)
	}
	seen := map[string]bool{}
	for i, d := range s.Destinations {
		f := fmt.Sprintf("destinations[%d]", i)
		if d.IntegrationID == "" {
			return Invalid(f+".integration_id", "integration_id is required")
		}
		if err := CheckText(f+".integration_id", d.IntegrationID, TextID); err != nil {
			return err
		}
		if d.IntegrationID == s.SourceIntegrationID {
			return Invalid(f+".integration_id", "the source POS cannot also be a destination")
		}
		if seen[d.IntegrationID] {
			return Invalid(f+".integration_id", "integration %q is listed twice", d.IntegrationID)
		}
		seen[d.IntegrationID] = true
		owned := map[string]bool{}
		for j, o := range d.OwnedFields {
			if !slices.Contains(ProductFields, o) {
				return Invalid(fmt.Sprintf("%s.owned_fields[%d]", f, j), "unknown field %q; the fields are %v", truncate(o, 40), ProductFields)
			}
			if owned[o] {
				return Invalid(fmt.Sprintf("%s.owned_fields[%d]", f, j), "field %q is listed twice", o)
			}
			owned[o] = true
		}
		if len(d.StockLocations) > MaxStockLocations {
			return Invalid(f+".stock_locations", "at most %d locations", MaxStockLocations)
		}
		for from, to := range d.StockLocations {
			if from == "" {
				return Invalid(f+".stock_locations", "a source location id is empty")
			}
			if err := CheckText(f+".stock_locations", from, TextID); err != nil {
				return err
			}
			if err := CheckText(f+".stock_locations."+truncate(from, 40), to, TextID); err != nil {
				return err
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Owns tells whether the destination keeps the field.
func (d CatalogDestination) Owns(field string) bool { return slices.Contains(d.OwnedFields, field) }

// CatalogProduct is a product as posbridge keeps it: the source's product under posbridge's id.
type CatalogProduct struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integration_id"`
	ExternalID    string    `json:"external_id"`
	Product       Product   `json:"-"`
	Hash          string    `json:"-"`
	Deleted       bool      `json:"deleted"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CatalogCustomer is a customer as posbridge keeps it.
type CatalogCustomer struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integration_id"`
	ExternalID    string    `json:"external_id"`
	Customer      Customer  `json:"-"`
	Hash          string    `json:"-"`
	Deleted       bool      `json:"deleted"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CatalogLink ties a posbridge product to a product of a destination by the destination's id.
type CatalogLink struct {
	ProductID     string     `json:"product_id"`
	IntegrationID string     `json:"integration_id"`
	ExternalID    string     `json:"external_id"`
	Origin        string     `json:"origin"` // explicit (POST /links), created (posbridge created it) or sku_match
	PushedHash    string     `json:"-"`
	PushedAt      *time.Time `json:"pushed_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

// Link origins.
const (
	LinkExplicit = "explicit"
	LinkCreated  = "created"
	LinkSKUMatch = "sku_match" // the one-off SKU match of a first import
)

// CatalogChange is one entry of the change feed the app reads to keep its copy of the records.
type CatalogChange struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Record   string    `json:"record"`    // product, customer, stock
	RecordID string    `json:"record_id"` // posbridge's id (stock: the product's)
	Action   string    `json:"action"`    // created, updated, deleted
}

// Change feed records and actions.
const (
	RecordProduct  = "product"
	RecordCustomer = "customer"
	RecordStock    = "stock"
	ChangeCreated  = "created"
	ChangeUpdated  = "updated"
	ChangeDeleted  = "deleted"
)

// CatalogImport is the progress of an account's import (or full refresh) from its source.
type CatalogImport struct {
	IntegrationID string     `json:"-"`
	Pass          int64      `json:"-"`
	Phase         string     `json:"phase"` // idle, products, sku_match, stock, customers, deletions, done, failed
	Cursor        string     `json:"-"`
	Done          int64      `json:"done"`
	Total         int64      `json:"total"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	Error         string     `json:"error"`
	// MatchBySKU: the pass links the shops' products to the source's by SKU after its products
	// phase (the one-off match of a first import); SKUMatches is what that match did, nil when
	// the pass was not asked to match or has not matched yet.
	MatchBySKU bool            `json:"match_by_sku"`
	SKUMatches *SKUMatchReport `json:"sku_matches"`
}

// SKUMatchReport is what the one-off SKU match of a first import linked: how many products, how
// many SKUs it left unlinked because two products (in the source, or in a shop) share them, and
// the first SKUMatchExamples of the links it made.
type SKUMatchReport struct {
	Matched   int        `json:"matched"`
	Ambiguous int        `json:"ambiguous"`
	Examples  []SKUMatch `json:"examples"`
}

// Sentence says what the match did, in the merchant's words.
func (r SKUMatchReport) Sentence() string {
	product := "products"
	if r.Matched == 1 {
		product = "product"
	}
	msg := fmt.Sprintf("Matched %d %s by SKU at the first import", r.Matched, product)
	switch r.Ambiguous {
	case 0:
		return msg + "; no SKU was ambiguous."
	case 1:
		return msg + "; 1 SKU was ambiguous and was left unlinked."
	}
	return msg + fmt.Sprintf("; %d SKUs were ambiguous and were left unlinked.", r.Ambiguous)
}

// SKUMatchExamples is how many links a SKU match report lists.
const SKUMatchExamples = 100

// SKUMatch is one link the SKU match made: the shop's product (IntegrationID, ExternalID) that
// was there before posbridge, linked to the source's product with the same SKU.
type SKUMatch struct {
	ProductID        string `json:"product_id"`         // posbridge's id of the source's product
	SourceExternalID string `json:"source_external_id"` // the source's id of it
	IntegrationID    string `json:"integration_id"`     // the shop
	ExternalID       string `json:"external_id"`        // the shop's id of its product
	SKU              string `json:"sku"`
}

// Add counts the matches and ambiguous SKUs of another shop into the report, keeping the first
// SKUMatchExamples links.
func (r *SKUMatchReport) Add(o SKUMatchReport) {
	r.Matched += o.Matched
	r.Ambiguous += o.Ambiguous
	for _, m := range o.Examples {
		if len(r.Examples) < SKUMatchExamples {
			r.Examples = append(r.Examples, m)
		}
	}
	if r.Examples == nil {
		r.Examples = []SKUMatch{}
	}
}

// Import phases.
const (
	PhaseIdle      = "idle"
	PhaseProducts  = "products"
	PhaseSKUMatch  = "sku_match" // after products, when the pass matches by SKU
	PhaseStock     = "stock"
	PhaseCustomers = "customers"
	PhaseDeletions = "deletions"
	PhaseDone      = "done"
	PhaseFailed    = "failed"
)

// Running tells whether the import is under way.
func (c CatalogImport) Running() bool {
	switch c.Phase {
	case PhaseProducts, PhaseSKUMatch, PhaseStock, PhaseCustomers, PhaseDeletions:
		return true
	}
	return false
}

// Timeline kinds and outbound events of catalog sync.
const (
	KindCatalogSettingsChanged = "catalog_sync.settings_changed"
	KindCatalogImport          = "catalog_sync.import"
	KindCatalogLinked          = "catalog_sync.linked"
	KindCatalogPushQueued      = "catalog_sync.push_queued"
	KindCatalogCustomerEdited  = "catalog_sync.customer_edited"
	EventRecordsChanged        = "records.changed"
)

// FieldChange is one field of a record that changed: its value before and after (null when the
// field had, or has, none).
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from"`
	To    any    `json:"to"`
}

// HistoryEntry is one change of a product or customer: which fields changed, when, and what
// caused it (Trigger: the POS's webhook topic, "import", "reconciliation poll", "app edit"), from
// which integration and by whom.
type HistoryEntry struct {
	ID            int64         `json:"id"`
	Record        string        `json:"record"`
	RecordID      string        `json:"record_id"`
	At            time.Time     `json:"at"`
	Trigger       string        `json:"trigger"`
	IntegrationID string        `json:"integration_id"`
	Actor         string        `json:"actor"`
	Changes       []FieldChange `json:"changes"`
}
