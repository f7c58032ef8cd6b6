package sandbox

import (
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// The JSON shapes of the sandbox API, shared by the server and the connector.

type wireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

type wireErrorBody struct {
	Error wireError `json:"error"`
}

type wireAccount struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

type wireStore struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
}

type wireVariant struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	SKU        string       `json:"sku,omitempty"`
	Barcode    string       `json:"barcode,omitempty"`
	Price      domain.Money `json:"price"`
	TrackStock bool         `json:"track_stock"`
}

type wireProduct struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	SKU         string            `json:"sku,omitempty"`
	Barcode     string            `json:"barcode,omitempty"`
	Price       domain.Money      `json:"price"`
	Weight      *domain.Weight    `json:"weight,omitempty"`
	Categories  []domain.Category `json:"categories,omitempty"`
	Variants    []wireVariant     `json:"variants,omitempty"`
	TrackStock  bool              `json:"track_stock"`
	Version     int64             `json:"version"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

type wireStock struct {
	ProductID  string    `json:"product_id"`
	VariantID  string    `json:"variant_id,omitempty"`
	LocationID string    `json:"location_id"`
	Quantity   string    `json:"quantity"`
	UpdatedAt  time.Time `json:"updated_at"`
}

type wireCustomer struct {
	ID        string    `json:"id"`
	Email     string    `json:"email,omitempty"`
	FirstName string    `json:"first_name,omitempty"`
	LastName  string    `json:"last_name,omitempty"`
	Phone     string    `json:"phone,omitempty"`
	Reference string    `json:"reference,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type wireLine struct {
	ProductID string       `json:"product_id,omitempty"`
	VariantID string       `json:"variant_id,omitempty"`
	SKU       string       `json:"sku,omitempty"`
	Name      string       `json:"name"`
	Quantity  string       `json:"quantity"`
	UnitPrice domain.Money `json:"unit_price"`
	Total     domain.Money `json:"total"`
	TaxRate   string       `json:"tax_rate,omitempty"`
}

type wireOrder struct {
	ID         string       `json:"id"`
	Reference  string       `json:"reference"`
	StoreID    string       `json:"store_id"`
	State      string       `json:"state"`
	CustomerID string       `json:"customer_id,omitempty"`
	Lines      []wireLine   `json:"lines"`
	Total      domain.Money `json:"total"`
	Note       string       `json:"note,omitempty"`
	Version    int64        `json:"version"`
	URL        string       `json:"url,omitempty"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

type wireSale struct {
	ID          string       `json:"id"`
	Number      string       `json:"number"`
	StoreID     string       `json:"store_id"`
	Status      string       `json:"status"`
	CustomerID  string       `json:"customer_id,omitempty"`
	Lines       []wireLine   `json:"lines"`
	Total       domain.Money `json:"total"`
	CompletedAt time.Time    `json:"completed_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

type wireWebhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Topics    []string  `json:"topics,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// wireWebhookCreate is the body of POST webhooks; the secret is never answered back.
type wireWebhookCreate struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Topics []string `json:"topics,omitempty"`
}

// wireList is the answer of every listing.
type wireList[T any] struct {
	Data         []T    `json:"data"`
	NextCursor   string `json:"next_cursor"`
	ResumeCursor string `json:"resume_cursor,omitempty"`
}

// wireItemResult is one item of a batch answer (products/batch, PUT stock).
type wireItemResult struct {
	Index   int          `json:"index"`
	ID      string       `json:"id,omitempty"`
	Status  int          `json:"status"`
	Product *wireProduct `json:"product,omitempty"`
	Error   *wireError   `json:"error,omitempty"`
}

type wireResults struct {
	Results []wireItemResult `json:"results"`
}

// wireEvent is a webhook event as the sandbox sends it.
type wireEvent[T any] struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      struct {
		Object T `json:"object"`
	} `json:"data"`
}

// Delivery is one attempt to deliver a webhook event, as GET /sandbox/admin/deliveries lists it.
type Delivery struct {
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type"`
	WebhookID  string    `json:"webhook_id"`
	URL        string    `json:"url"`
	Attempt    int       `json:"attempt"`
	Status     int       `json:"status"` // HTTP status of the answer, 0 when none came
	Error      string    `json:"error,omitempty"`
	Delivered  bool      `json:"delivered"`
	At         time.Time `json:"at"`
	DurationMS int64     `json:"duration_ms"`
}
