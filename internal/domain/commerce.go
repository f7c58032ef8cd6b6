package domain

import (
	"encoding/json"
	"time"
)

// Capability is a kind of data or action a provider may support.
type Capability string

// The capabilities a provider declares.
const (
	CapProducts  Capability = "products"
	CapStock     Capability = "stock"
	CapCustomers Capability = "customers"
	CapOrders    Capability = "orders"
	CapSales     Capability = "sales"
	CapWebhooks  Capability = "webhooks"
)

// Money is an amount in minor units (cents) of a currency (ISO 4217). Never a float.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Weight is a decimal value with its unit (g, kg, oz, lb).
type Weight struct {
	Value string `json:"value"`
	Unit  string `json:"unit"`
}

// Category is a product category as the provider names it.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Product is a catalog item in provider-neutral form. IDs are the provider's own.
type Product struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	SKU         string     `json:"sku,omitempty"`
	Barcode     string     `json:"barcode,omitempty"`
	Price       Money      `json:"price"`
	Weight      *Weight    `json:"weight,omitempty"`
	Categories  []Category `json:"categories,omitempty"`
	Variants    []Variant  `json:"variants,omitempty"`
	TrackStock  bool       `json:"track_stock"`
	Deleted     bool       `json:"deleted,omitempty"`
	Version     string     `json:"version,omitempty"` // the provider's version for optimistic writes
	UpdatedAt   time.Time  `json:"updated_at"`

	// Written only: posbridge's reference of the product, which a sink that can keeps with a
	// product it creates (connector.ProductFinder finds it by it), and the stock to set with the
	// product by a sink that writes stock in the same call (connector.StockWithProducts: one
	// quantity; connector.StockAtLocationsWithProducts: a quantity per location of the sink, ""
	// its default location; nil sets none).
	Ref     string            `json:"-"`
	Stock   *string           `json:"-"`
	StockAt map[string]string `json:"-"`
	// Keep names the fields an update of an existing product leaves as the shop has them (its
	// own edits, or values the source has empty), for a sink that writes only what it is given
	// (connector.FieldKeeper).
	Keep []string `json:"-"`
}

// Variant is one sellable variation of a product (size, colour).
type Variant struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	SKU        string `json:"sku,omitempty"`
	Barcode    string `json:"barcode,omitempty"`
	Price      Money  `json:"price"`
	TrackStock bool   `json:"track_stock"`
	Version    string `json:"version,omitempty"`

	Stock   *string           `json:"-"` // written only, as Product.Stock
	StockAt map[string]string `json:"-"` // written only, as Product.StockAt
}

// StockLevel is the quantity of a product (or variant) at a location, as a decimal string.
type StockLevel struct {
	ProductID  string    `json:"product_id"`
	VariantID  string    `json:"variant_id,omitempty"`
	LocationID string    `json:"location_id"`
	Quantity   string    `json:"quantity"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Customer is a customer record of the POS (the system of record for customers).
type Customer struct {
	ID        string    `json:"id"`
	Email     string    `json:"email,omitempty"`
	FirstName string    `json:"first_name,omitempty"`
	LastName  string    `json:"last_name,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Reference string    `json:"reference,omitempty"` // the app's own id for the customer
	Version   string    `json:"version,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OrderState is the life stage of a POS order.
type OrderState string

// Order states, provider-neutral.
const (
	OrderOpen      OrderState = "open"
	OrderCompleted OrderState = "completed"
	OrderVoided    OrderState = "voided"
	OrderArchived  OrderState = "archived"
	OrderDeleted   OrderState = "deleted"
)

// CancelMode says how a POS order is taken back when its document is cancelled.
type CancelMode string

// Cancel modes, as the provider allows.
const (
	CancelVoid    CancelMode = "void"
	CancelArchive CancelMode = "archive"
	CancelDelete  CancelMode = "delete"
	// CancelNone is a setting only (OrderSyncSettings.OnCancel): the POS order is left as it
	// is. It is never passed to a connector.
	CancelNone CancelMode = "none"
)

// CancelModes are the values OrderSyncSettings.OnCancel takes.
var CancelModes = []CancelMode{CancelNone, CancelVoid, CancelArchive, CancelDelete}

// Order is an order in the POS, created from an app document. Reference holds the document's ref
// so a retry can find the order it already created.
type Order struct {
	ID         string      `json:"id"`
	Reference  string      `json:"reference"`
	StoreID    string      `json:"store_id,omitempty"`
	State      OrderState  `json:"state"`
	CustomerID string      `json:"customer_id,omitempty"`
	Lines      []OrderLine `json:"lines"`
	Total      Money       `json:"total"`
	Note       string      `json:"note,omitempty"`
	Version    string      `json:"version,omitempty"`
	URL        string      `json:"url,omitempty"` // where a person sees the order in the POS
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// OrderLine is one line of an order or sale. Quantity is a decimal string.
type OrderLine struct {
	ProductID string `json:"product_id,omitempty"`
	VariantID string `json:"variant_id,omitempty"`
	SKU       string `json:"sku,omitempty"`
	Name      string `json:"name"`
	Quantity  string `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
	Total     Money  `json:"total"`
	TaxRate   string `json:"tax_rate,omitempty"` // a decimal percentage, "21" for 21%
}

// Sale is a completed sale in the POS, imported with its items.
type Sale struct {
	ID          string      `json:"id"`
	Number      string      `json:"number,omitempty"`
	StoreID     string      `json:"store_id,omitempty"`
	Status      string      `json:"status"`
	CustomerID  string      `json:"customer_id,omitempty"`
	Lines       []OrderLine `json:"lines"`
	Total       Money       `json:"total"`
	Payments    []Payment   `json:"payments,omitempty"`
	CompletedAt time.Time   `json:"completed_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// ProviderEvent is an inbound webhook event parsed into neutral form. ID is the provider's own
// event id (the dedupe key); Type is neutral ("order.updated"); Topic is the provider's own name.
type ProviderEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Topic      string          `json:"topic"`
	ObjectID   string          `json:"object_id"`
	OccurredAt time.Time       `json:"occurred_at"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// Neutral provider event types.
const (
	ProviderOrderCreated     = "order.created"
	ProviderOrderUpdated     = "order.updated"
	ProviderOrderDeleted     = "order.deleted"
	ProviderProductUpdated   = "product.updated"
	ProviderProductDeleted   = "product.deleted"
	ProviderStockUpdated     = "stock.updated"
	ProviderCustomerUpdated  = "customer.updated"
	ProviderSaleUpdated      = "sale.updated"
	ProviderUnknownEventType = "unknown"
)
