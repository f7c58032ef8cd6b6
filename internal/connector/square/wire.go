package square

import "encoding/json"

// The wire types below are the subset of Square's documented JSON objects that the client sends
// and the simulator answers. Field names are Square's own (see the Square API Reference and the
// official OpenAPI description, square/connect-api-specification); optional fields are omitted
// when empty so a request carries only what it means to set.

// sqError is one entry of Square's {"errors":[...]} answer.
type sqError struct {
	Category string `json:"category"`
	Code     string `json:"code"`
	Detail   string `json:"detail,omitempty"`
	Field    string `json:"field,omitempty"`
}

type errorsBody struct {
	Errors []sqError `json:"errors,omitempty"`
}

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type location struct {
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	Timezone     string   `json:"timezone,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
	Status       string   `json:"status,omitempty"`
	CreatedAt    string   `json:"created_at,omitempty"`
	MerchantID   string   `json:"merchant_id,omitempty"`
	Country      string   `json:"country,omitempty"`
	LanguageCode string   `json:"language_code,omitempty"`
	Currency     string   `json:"currency,omitempty"`
	BusinessName string   `json:"business_name,omitempty"`
	Type         string   `json:"type,omitempty"`
}

type listLocationsResponse struct {
	Errors    []sqError  `json:"errors,omitempty"`
	Locations []location `json:"locations"`
}

// catalogObject is a CatalogObject of type ITEM or ITEM_VARIATION.
type catalogObject struct {
	Type                  string            `json:"type"`
	ID                    string            `json:"id"`
	UpdatedAt             string            `json:"updated_at,omitempty"`
	Version               int64             `json:"version,omitempty"`
	IsDeleted             bool              `json:"is_deleted,omitempty"`
	PresentAtAllLocations *bool             `json:"present_at_all_locations,omitempty"`
	ItemData              *catalogItem      `json:"item_data,omitempty"`
	ItemVariationData     *catalogVariation `json:"item_variation_data,omitempty"`
	CategoryData          *catalogCategory  `json:"category_data,omitempty"`
}

type catalogCategory struct {
	Name string `json:"name,omitempty"`
}

type catalogObjectCategory struct {
	ID string `json:"id"`
}

type catalogItem struct {
	Name        string                  `json:"name,omitempty"`
	Description string                  `json:"description,omitempty"`
	Categories  []catalogObjectCategory `json:"categories,omitempty"`
	Variations  []catalogObject         `json:"variations,omitempty"`
	ProductType string                  `json:"product_type,omitempty"`
}

type catalogVariation struct {
	ItemID         string `json:"item_id,omitempty"`
	Name           string `json:"name,omitempty"`
	SKU            string `json:"sku,omitempty"`
	UPC            string `json:"upc,omitempty"`
	Ordinal        int    `json:"ordinal,omitempty"`
	PricingType    string `json:"pricing_type,omitempty"`
	PriceMoney     *money `json:"price_money,omitempty"`
	TrackInventory bool   `json:"track_inventory,omitempty"`
	Sellable       *bool  `json:"sellable,omitempty"`
	Stockable      *bool  `json:"stockable,omitempty"`
}

type listCatalogResponse struct {
	Errors  []sqError       `json:"errors,omitempty"`
	Cursor  string          `json:"cursor,omitempty"`
	Objects []catalogObject `json:"objects,omitempty"`
}

type searchCatalogRequest struct {
	Cursor                string        `json:"cursor,omitempty"`
	ObjectTypes           []string      `json:"object_types,omitempty"`
	IncludeDeletedObjects bool          `json:"include_deleted_objects,omitempty"`
	BeginTime             string        `json:"begin_time,omitempty"`
	Query                 *catalogQuery `json:"query,omitempty"`
	Limit                 int           `json:"limit,omitempty"`
}

// catalogQuery is SearchCatalogObjects' CatalogQuery. exact, prefix, range, sorted_attribute
// and text queries combine; set_query and the items_for_* queries stand alone.
type catalogQuery struct {
	SortedAttributeQuery *catalogQuerySortedAttribute `json:"sorted_attribute_query,omitempty"`
	ExactQuery           *catalogQueryExact           `json:"exact_query,omitempty"`
	SetQuery             *catalogQuerySet             `json:"set_query,omitempty"`
	PrefixQuery          *catalogQueryPrefix          `json:"prefix_query,omitempty"`
	RangeQuery           *catalogQueryRange           `json:"range_query,omitempty"`
	TextQuery            *catalogQueryText            `json:"text_query,omitempty"`
	// The simulator holds no taxes, modifier lists or item options: these are refused.
	ItemsForTaxQuery                       json.RawMessage `json:"items_for_tax_query,omitempty"`
	ItemsForModifierListQuery              json.RawMessage `json:"items_for_modifier_list_query,omitempty"`
	ItemsForItemOptionsQuery               json.RawMessage `json:"items_for_item_options_query,omitempty"`
	ItemVariationsForItemOptionValuesQuery json.RawMessage `json:"item_variations_for_item_option_values_query,omitempty"`
}

type catalogQuerySortedAttribute struct {
	AttributeName         string  `json:"attribute_name"`
	InitialAttributeValue *string `json:"initial_attribute_value,omitempty"`
	SortOrder             string  `json:"sort_order,omitempty"`
}

type catalogQueryExact struct {
	AttributeName  string `json:"attribute_name"`
	AttributeValue string `json:"attribute_value"`
}

type catalogQuerySet struct {
	AttributeName   string   `json:"attribute_name"`
	AttributeValues []string `json:"attribute_values"`
}

type catalogQueryPrefix struct {
	AttributeName   string `json:"attribute_name"`
	AttributePrefix string `json:"attribute_prefix"`
}

type catalogQueryRange struct {
	AttributeName     string `json:"attribute_name"`
	AttributeMinValue *int64 `json:"attribute_min_value,omitempty"`
	AttributeMaxValue *int64 `json:"attribute_max_value,omitempty"`
}

type catalogQueryText struct {
	Keywords []string `json:"keywords"`
}

type searchCatalogResponse struct {
	Errors     []sqError       `json:"errors,omitempty"`
	Cursor     string          `json:"cursor,omitempty"`
	Objects    []catalogObject `json:"objects,omitempty"`
	LatestTime string          `json:"latest_time,omitempty"`
}

type upsertCatalogObjectRequest struct {
	IdempotencyKey string        `json:"idempotency_key"`
	Object         catalogObject `json:"object"`
}

type idMapping struct {
	ClientObjectID string `json:"client_object_id"`
	ObjectID       string `json:"object_id"`
}

type upsertCatalogObjectResponse struct {
	Errors        []sqError      `json:"errors,omitempty"`
	CatalogObject *catalogObject `json:"catalog_object,omitempty"`
	IDMappings    []idMapping    `json:"id_mappings,omitempty"`
}

type catalogObjectBatch struct {
	Objects []catalogObject `json:"objects"`
}

type batchUpsertRequest struct {
	IdempotencyKey string               `json:"idempotency_key"`
	Batches        []catalogObjectBatch `json:"batches"`
}

type batchUpsertResponse struct {
	Errors     []sqError       `json:"errors,omitempty"`
	Objects    []catalogObject `json:"objects,omitempty"`
	UpdatedAt  string          `json:"updated_at,omitempty"`
	IDMappings []idMapping     `json:"id_mappings,omitempty"`
}

type batchRetrieveRequest struct {
	ObjectIDs             []string `json:"object_ids"`
	IncludeDeletedObjects bool     `json:"include_deleted_objects,omitempty"`
}

type batchRetrieveResponse struct {
	Errors  []sqError       `json:"errors,omitempty"`
	Objects []catalogObject `json:"objects,omitempty"`
}

type retrieveCatalogObjectResponse struct {
	Errors []sqError      `json:"errors,omitempty"`
	Object *catalogObject `json:"object,omitempty"`
}

// Inventory.

type inventoryCount struct {
	CatalogObjectID   string `json:"catalog_object_id"`
	CatalogObjectType string `json:"catalog_object_type,omitempty"`
	State             string `json:"state"`
	LocationID        string `json:"location_id"`
	Quantity          string `json:"quantity"`
	CalculatedAt      string `json:"calculated_at,omitempty"`
}

type batchRetrieveCountsRequest struct {
	CatalogObjectIDs []string `json:"catalog_object_ids,omitempty"`
	LocationIDs      []string `json:"location_ids,omitempty"`
	UpdatedAfter     string   `json:"updated_after,omitempty"`
	Cursor           string   `json:"cursor,omitempty"`
	States           []string `json:"states,omitempty"`
	Limit            int      `json:"limit,omitempty"`
}

type batchRetrieveCountsResponse struct {
	Errors []sqError        `json:"errors,omitempty"`
	Counts []inventoryCount `json:"counts,omitempty"`
	Cursor string           `json:"cursor,omitempty"`
}

type physicalCount struct {
	ReferenceID     string `json:"reference_id,omitempty"`
	CatalogObjectID string `json:"catalog_object_id"`
	State           string `json:"state"`
	LocationID      string `json:"location_id"`
	Quantity        string `json:"quantity"`
	OccurredAt      string `json:"occurred_at"`
	CreatedAt       string `json:"created_at,omitempty"`
	ID              string `json:"id,omitempty"`
}

type inventoryAdjustment struct {
	ID              string `json:"id,omitempty"`
	FromState       string `json:"from_state"`
	ToState         string `json:"to_state"`
	LocationID      string `json:"location_id"`
	CatalogObjectID string `json:"catalog_object_id"`
	Quantity        string `json:"quantity"`
	OccurredAt      string `json:"occurred_at"`
	CreatedAt       string `json:"created_at,omitempty"`
}

type inventoryChange struct {
	Type          string               `json:"type"`
	PhysicalCount *physicalCount       `json:"physical_count,omitempty"`
	Adjustment    *inventoryAdjustment `json:"adjustment,omitempty"`
}

type batchChangeInventoryRequest struct {
	IdempotencyKey       string            `json:"idempotency_key"`
	Changes              []inventoryChange `json:"changes"`
	IgnoreUnchangedCount bool              `json:"ignore_unchanged_counts,omitempty"`
}

type batchChangeInventoryResponse struct {
	Errors []sqError        `json:"errors,omitempty"`
	Counts []inventoryCount `json:"counts,omitempty"`
}

// Orders.

type orderSource struct {
	Name string `json:"name,omitempty"`
}

type orderLineItem struct {
	UID             string `json:"uid,omitempty"`
	Name            string `json:"name,omitempty"`
	Quantity        string `json:"quantity"`
	Note            string `json:"note,omitempty"`
	CatalogObjectID string `json:"catalog_object_id,omitempty"`
	VariationName   string `json:"variation_name,omitempty"`
	ItemType        string `json:"item_type,omitempty"`
	BasePriceMoney  *money `json:"base_price_money,omitempty"`
	GrossSalesMoney *money `json:"gross_sales_money,omitempty"`
	TotalTaxMoney   *money `json:"total_tax_money,omitempty"`
	TotalDiscMoney  *money `json:"total_discount_money,omitempty"`
	TotalMoney      *money `json:"total_money,omitempty"`
	// Metadata is the application's own key-value data on the line item.
	Metadata map[string]string `json:"metadata,omitempty"`
}

type order struct {
	ID                 string          `json:"id,omitempty"`
	LocationID         string          `json:"location_id"`
	ReferenceID        string          `json:"reference_id,omitempty"`
	Source             *orderSource    `json:"source,omitempty"`
	CustomerID         string          `json:"customer_id,omitempty"`
	LineItems          []orderLineItem `json:"line_items,omitempty"`
	CreatedAt          string          `json:"created_at,omitempty"`
	UpdatedAt          string          `json:"updated_at,omitempty"`
	ClosedAt           string          `json:"closed_at,omitempty"`
	State              string          `json:"state,omitempty"`
	Version            int64           `json:"version,omitempty"`
	TotalMoney         *money          `json:"total_money,omitempty"`
	TotalTaxMoney      *money          `json:"total_tax_money,omitempty"`
	TotalDiscountMoney *money          `json:"total_discount_money,omitempty"`
	NetAmountDueMoney  *money          `json:"net_amount_due_money,omitempty"`
	TicketName         string          `json:"ticket_name,omitempty"`
	// Metadata is the application's own key-value data (at most 10 entries; keys of 1 to 60
	// characters of [A-Za-z0-9_-], values of at most 255 characters).
	Metadata map[string]string `json:"metadata,omitempty"`
}

type createOrderRequest struct {
	Order          order  `json:"order"`
	IdempotencyKey string `json:"idempotency_key"`
}

type updateOrderRequest struct {
	Order          order    `json:"order"`
	FieldsToClear  []string `json:"fields_to_clear,omitempty"`
	IdempotencyKey string   `json:"idempotency_key"`
}

type orderResponse struct {
	Errors []sqError `json:"errors,omitempty"`
	Order  *order    `json:"order,omitempty"`
}

type timeRange struct {
	StartAt string `json:"start_at,omitempty"`
	EndAt   string `json:"end_at,omitempty"`
}

type searchOrdersRequest struct {
	LocationIDs []string           `json:"location_ids"`
	Cursor      string             `json:"cursor,omitempty"`
	Query       *searchOrdersQuery `json:"query,omitempty"`
	Limit       int                `json:"limit,omitempty"`
}

type searchOrdersQuery struct {
	Filter *searchOrdersFilter `json:"filter,omitempty"`
	Sort   *searchOrdersSort   `json:"sort,omitempty"`
}

type searchOrdersFilter struct {
	StateFilter    *stateFilter    `json:"state_filter,omitempty"`
	DateTimeFilter *dateTimeFilter `json:"date_time_filter,omitempty"`
}

type stateFilter struct {
	States []string `json:"states"`
}

type dateTimeFilter struct {
	CreatedAt *timeRange `json:"created_at,omitempty"`
	UpdatedAt *timeRange `json:"updated_at,omitempty"`
	ClosedAt  *timeRange `json:"closed_at,omitempty"`
}

type searchOrdersSort struct {
	SortField string `json:"sort_field"`
	SortOrder string `json:"sort_order,omitempty"`
}

type searchOrdersResponse struct {
	Errors []sqError `json:"errors,omitempty"`
	Orders []order   `json:"orders,omitempty"`
	Cursor string    `json:"cursor,omitempty"`
}

// Customers.

type customer struct {
	ID           string `json:"id,omitempty"`
	CreatedAt    string `json:"created_at,omitempty"`
	UpdatedAt    string `json:"updated_at,omitempty"`
	GivenName    string `json:"given_name,omitempty"`
	FamilyName   string `json:"family_name,omitempty"`
	EmailAddress string `json:"email_address,omitempty"`
	PhoneNumber  string `json:"phone_number,omitempty"`
	ReferenceID  string `json:"reference_id,omitempty"`
	Version      int64  `json:"version"`
}

type createCustomerRequest struct {
	IdempotencyKey string `json:"idempotency_key"`
	GivenName      string `json:"given_name,omitempty"`
	FamilyName     string `json:"family_name,omitempty"`
	EmailAddress   string `json:"email_address,omitempty"`
	PhoneNumber    string `json:"phone_number,omitempty"`
	ReferenceID    string `json:"reference_id,omitempty"`
}

// updateCustomerRequest has no idempotency_key: Square's UpdateCustomer takes none; the
// version makes a retried update safe instead.
type updateCustomerRequest struct {
	GivenName    *string `json:"given_name,omitempty"`
	FamilyName   *string `json:"family_name,omitempty"`
	EmailAddress *string `json:"email_address,omitempty"`
	PhoneNumber  *string `json:"phone_number,omitempty"`
	ReferenceID  *string `json:"reference_id,omitempty"`
	Version      *int64  `json:"version,omitempty"`
}

type customerResponse struct {
	Errors   []sqError `json:"errors,omitempty"`
	Customer *customer `json:"customer,omitempty"`
}

type listCustomersResponse struct {
	Errors    []sqError  `json:"errors,omitempty"`
	Customers []customer `json:"customers,omitempty"`
	Cursor    string     `json:"cursor,omitempty"`
}

// Webhook subscriptions.

type webhookSubscription struct {
	ID              string   `json:"id,omitempty"`
	Name            string   `json:"name,omitempty"`
	Enabled         *bool    `json:"enabled,omitempty"`
	EventTypes      []string `json:"event_types,omitempty"`
	NotificationURL string   `json:"notification_url,omitempty"`
	APIVersion      string   `json:"api_version,omitempty"`
	SignatureKey    string   `json:"signature_key,omitempty"`
	CreatedAt       string   `json:"created_at,omitempty"`
	UpdatedAt       string   `json:"updated_at,omitempty"`
}

type createSubscriptionRequest struct {
	IdempotencyKey string              `json:"idempotency_key"`
	Subscription   webhookSubscription `json:"subscription"`
}

type subscriptionResponse struct {
	Errors       []sqError            `json:"errors,omitempty"`
	Subscription *webhookSubscription `json:"subscription,omitempty"`
}

type listSubscriptionsResponse struct {
	Errors        []sqError             `json:"errors,omitempty"`
	Subscriptions []webhookSubscription `json:"subscriptions,omitempty"`
	Cursor        string                `json:"cursor,omitempty"`
}

// webhookEvent is the body Square posts to a notification URL.
type webhookEvent struct {
	MerchantID string           `json:"merchant_id"`
	Type       string           `json:"type"`
	EventID    string           `json:"event_id"`
	CreatedAt  string           `json:"created_at"`
	Data       webhookEventData `json:"data"`
}

type webhookEventData struct {
	Type   string          `json:"type"`
	ID     string          `json:"id,omitempty"`
	Object json.RawMessage `json:"object,omitempty"`
}
