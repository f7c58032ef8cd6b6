package lightspeed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

type apiCustomer struct {
	ID           string  `json:"id"`
	FirstName    string  `json:"first_name"`
	LastName     string  `json:"last_name"`
	Email        string  `json:"email"`
	Phone        string  `json:"phone"`
	Mobile       string  `json:"mobile"`
	CustomerCode string  `json:"customer_code"`
	Version      int64   `json:"version"`
	DeletedAt    *string `json:"deleted_at"`
	UpdatedAt    string  `json:"updated_at"`
}

func toCustomer(a apiCustomer) domain.Customer {
	phone := a.Phone
	if phone == "" {
		phone = a.Mobile
	}
	return domain.Customer{ID: a.ID, Email: a.Email, FirstName: a.FirstName, LastName: a.LastName,
		Phone: phone, Reference: a.CustomerCode, Version: strconv.FormatInt(a.Version, 10),
		UpdatedAt: parseTime(a.UpdatedAt)}
}

// customerBody carries the writable fields; the app's reference goes to customer_code, the
// retailer's unique code of a customer.
func customerBody(cu domain.Customer) map[string]any {
	b := map[string]any{"first_name": cu.FirstName, "last_name": cu.LastName, "email": cu.Email, "phone": cu.Phone}
	if cu.Reference != "" {
		b["customer_code"] = cu.Reference
	}
	return b
}

// ListCustomers reads GET /api/2.0/customers with the version cursor; deleted customers are
// left out.
func (c *Client) ListCustomers(ctx context.Context, cur string) (connector.Page[domain.Customer], error) {
	var page connector.Page[domain.Customer]
	k, err := parseCursor(cur)
	if err != nil {
		return page, err
	}
	var out struct {
		Data    []apiCustomer `json:"data"`
		Version apiVersion    `json:"version"`
	}
	if err := c.get(ctx, "/api/2.0/customers", k.query(c.o.pageSize, false), &out); err != nil {
		return page, fmt.Errorf("list customers after %d: %w", k.after, err)
	}
	for _, a := range out.Data {
		if a.DeletedAt != nil && *a.DeletedAt != "" {
			continue
		}
		page.Items = append(page.Items, toCustomer(a))
	}
	page.Next, page.Resume = pageCursors(k, out.Version, len(out.Data))
	return page, nil
}

// CreateCustomer sends POST /api/2.0/customers.
func (c *Client) CreateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	var out struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.do(ctx, request{method: "POST", path: "/api/2.0/customers", body: customerBody(cu), unsafe: true}, &out); err != nil {
		return cu, fmt.Errorf("create customer %q: %w", cu.Email, err)
	}
	a, err := decodeCustomer(out.Data)
	if err != nil {
		return cu, fmt.Errorf("create customer %q: %w", cu.Email, err)
	}
	return toCustomer(a), nil
}

// UpdateCustomer sends PUT /api/2.0/customers/{id}.
func (c *Client) UpdateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	if cu.ID == "" {
		return cu, &connector.Error{Kind: connector.KindInvalid, Message: "update customer: no id"}
	}
	var out struct {
		Data json.RawMessage `json:"data"`
	}
	if err := c.do(ctx, request{method: "PUT", path: "/api/2.0/customers/" + url.PathEscape(cu.ID), body: customerBody(cu)}, &out); err != nil {
		return cu, fmt.Errorf("update customer %s: %w", cu.ID, err)
	}
	a, err := decodeCustomer(out.Data)
	if err != nil || a.ID == "" {
		return cu, nil
	}
	return toCustomer(a), nil
}

// decodeCustomer reads {"data":{...}} or, as some answers have it, {"data":[{...}]}.
func decodeCustomer(raw json.RawMessage) (apiCustomer, error) {
	var a apiCustomer
	if len(raw) == 0 {
		return a, &connector.Error{Kind: connector.KindInvalid, Message: "the answer carries no customer"}
	}
	if raw[0] == '[' {
		var list []apiCustomer
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
			return a, &connector.Error{Kind: connector.KindInvalid, Message: "the answer carries no customer"}
		}
		return list[0], nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return a, &connector.Error{Kind: connector.KindInvalid, Message: "unreadable customer: " + err.Error()}
	}
	return a, nil
}
