package square

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Customer cursors: "K|<square cursor>|<mark>" while a full listing runs, "C|<since>" to resume
// and "C|<since>|<square cursor>|<mark>" while an incremental read runs.
const (
	customerListPrefix   = "K|"
	customerSearchPrefix = "C|"
	customersPageSize    = 100
)

type customerFilter struct {
	UpdatedAt *timeRange `json:"updated_at,omitempty"`
}

type customerSort struct {
	Field string `json:"field,omitempty"`
	Order string `json:"order,omitempty"`
}

type customerQuery struct {
	Filter *customerFilter `json:"filter,omitempty"`
	Sort   *customerSort   `json:"sort,omitempty"`
}

type searchCustomersRequest struct {
	Cursor string         `json:"cursor,omitempty"`
	Limit  int            `json:"limit,omitempty"`
	Query  *customerQuery `json:"query,omitempty"`
}

// ListCustomers lists customer profiles: a full listing (GET /v2/customers) from "", and only
// profiles updated since the mark (POST /v2/customers/search, filter updated_at) from a
// Page.Resume.
func (c *Client) ListCustomers(ctx context.Context, cursor string) (connector.Page[domain.Customer], error) {
	var resp listCustomersResponse
	var since, next, mark string
	switch {
	case cursor == "" || strings.HasPrefix(cursor, customerListPrefix):
		q := url.Values{"limit": {strconv.Itoa(customersPageSize)}}
		if cursor != "" {
			parts := strings.SplitN(cursor[len(customerListPrefix):], "|", 2)
			if len(parts) != 2 {
				return connector.Page[domain.Customer]{}, badCursor(cursor)
			}
			q.Set("cursor", parts[0])
			mark = parts[1]
		}
		if err := c.call(ctx, "list customers", http.MethodGet, "/v2/customers", q, nil, &resp); err != nil {
			return connector.Page[domain.Customer]{}, err
		}
		for _, x := range resp.Customers {
			mark = maxTime(mark, x.UpdatedAt)
		}
		if resp.Cursor != "" {
			next = customerListPrefix + resp.Cursor + "|" + mark
		}
	case strings.HasPrefix(cursor, customerSearchPrefix):
		parts := strings.Split(cursor[len(customerSearchPrefix):], "|")
		req := searchCustomersRequest{Limit: customersPageSize}
		switch len(parts) {
		case 1:
			since = parts[0]
		case 3:
			since, req.Cursor, mark = parts[0], parts[1], parts[2]
		default:
			return connector.Page[domain.Customer]{}, badCursor(cursor)
		}
		req.Query = &customerQuery{Filter: &customerFilter{UpdatedAt: &timeRange{StartAt: since}}}
		if err := c.call(ctx, "search customers", http.MethodPost, "/v2/customers/search", nil, req, &resp); err != nil {
			return connector.Page[domain.Customer]{}, err
		}
		if mark == "" {
			mark = since
		}
		for _, x := range resp.Customers {
			mark = maxTime(mark, x.UpdatedAt)
		}
		if resp.Cursor != "" {
			next = customerSearchPrefix + since + "|" + resp.Cursor + "|" + mark
		}
	default:
		return connector.Page[domain.Customer]{}, badCursor(cursor)
	}
	page := connector.Page[domain.Customer]{Next: next}
	for _, x := range resp.Customers {
		page.Items = append(page.Items, toCustomer(x))
	}
	if next == "" {
		page.Resume = customerSearchPrefix + resumeMark(mark)
	}
	return page, nil
}

// CreateCustomer creates a customer profile with reference_id = c.Reference.
func (c *Client) CreateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	req := createCustomerRequest{
		IdempotencyKey: newKey(), GivenName: cu.FirstName, FamilyName: cu.LastName,
		EmailAddress: cu.Email, PhoneNumber: cu.Phone, ReferenceID: cu.Reference,
	}
	var resp customerResponse
	if err := c.call(ctx, "create customer", http.MethodPost, "/v2/customers", nil, req, &resp); err != nil {
		return domain.Customer{}, err
	}
	if resp.Customer == nil {
		return domain.Customer{}, &connector.Error{Kind: connector.KindTemporary, Message: "create customer: Square answered without the customer"}
	}
	return toCustomer(*resp.Customer), nil
}

// UpdateCustomer writes the customer's details (PUT /v2/customers/{id}); with cu.Version set a
// profile changed meanwhile is refused (KindConflict), without it the latest version is updated.
func (c *Client) UpdateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	if cu.ID == "" || strings.ContainsAny(cu.ID, "/?#") {
		return domain.Customer{}, &connector.Error{Kind: connector.KindInvalid, Message: "the customer to update has no valid id"}
	}
	req := updateCustomerRequest{
		GivenName: &cu.FirstName, FamilyName: &cu.LastName, EmailAddress: &cu.Email,
		PhoneNumber: &cu.Phone, ReferenceID: &cu.Reference,
	}
	if cu.Version != "" {
		v, err := strconv.ParseInt(cu.Version, 10, 64)
		if err != nil {
			return domain.Customer{}, &connector.Error{Kind: connector.KindInvalid, Message: "customer version " + strconv.Quote(cu.Version) + " is not a number"}
		}
		req.Version = &v
	}
	var resp customerResponse
	if err := c.call(ctx, "update customer "+cu.ID, http.MethodPut, "/v2/customers/"+url.PathEscape(cu.ID), nil, req, &resp); err != nil {
		return domain.Customer{}, err
	}
	if resp.Customer == nil {
		return domain.Customer{}, &connector.Error{Kind: connector.KindTemporary, Message: "update customer: Square answered without the customer"}
	}
	return toCustomer(*resp.Customer), nil
}

func toCustomer(x customer) domain.Customer {
	return domain.Customer{
		ID: x.ID, Email: x.EmailAddress, FirstName: x.GivenName, LastName: x.FamilyName,
		Phone: x.PhoneNumber, Reference: x.ReferenceID, Version: strconv.FormatInt(x.Version, 10),
		UpdatedAt: parseTime(x.UpdatedAt),
	}
}
