package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// MetaReference is the meta_data key that carries posbridge's reference on orders and customers.
const MetaReference = "_posbridge_reference"

// MetaIdempotencyKey is the meta_data key that carries the idempotency key of an order write;
// WooCommerce has no idempotency keys of its own.
const MetaIdempotencyKey = "_posbridge_idempotency_key"

type wcAddress struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// wcCustomer is the customer resource.
type wcCustomer struct {
	ID              int64      `json:"id,omitempty"`
	Email           string     `json:"email,omitempty"`
	FirstName       *string    `json:"first_name,omitempty"`
	LastName        *string    `json:"last_name,omitempty"`
	Billing         *wcAddress `json:"billing,omitempty"`
	MetaData        []wcMeta   `json:"meta_data,omitempty"`
	DateModifiedGMT string     `json:"date_modified_gmt,omitempty"`
}

func metaString(ms []wcMeta, key string) string {
	for _, m := range ms {
		if m.Key == key {
			if s, ok := m.Value.(string); ok {
				return s
			}
			return fmt.Sprint(m.Value)
		}
	}
	return ""
}

func toCustomer(c wcCustomer) domain.Customer {
	out := domain.Customer{
		ID: strconv.FormatInt(c.ID, 10), Email: c.Email,
		FirstName: str(c.FirstName), LastName: str(c.LastName),
		Reference: metaString(c.MetaData, MetaReference),
		Version:   c.DateModifiedGMT, UpdatedAt: parseWCTime(c.DateModifiedGMT),
	}
	if c.Billing != nil {
		out.Phone = c.Billing.Phone
	}
	return out
}

func fromCustomer(c domain.Customer) (wcCustomer, error) {
	if c.Email == "" {
		return wcCustomer{}, &connector.Error{Kind: connector.KindInvalid, Message: "WooCommerce needs an email address for a customer"}
	}
	w := wcCustomer{Email: c.Email, FirstName: ptr(c.FirstName), LastName: ptr(c.LastName),
		Billing: &wcAddress{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone}}
	if c.Reference != "" {
		w.MetaData = []wcMeta{{Key: MetaReference, Value: c.Reference}}
	}
	return w, nil
}

// ListCustomers reads customers page by page. WooCommerce's customer listing has no
// modified-since filter, so every read is a full read and Resume stays empty.
func (c *Client) ListCustomers(ctx context.Context, cur string) (connector.Page[domain.Customer], error) {
	l, err := c.list(ctx, "/customers", map[string][]string{"role": {"all"}}, cur, false)
	if err != nil {
		return connector.Page[domain.Customer]{}, fmt.Errorf("list customers: %w", err)
	}
	page := connector.Page[domain.Customer]{Next: l.Next}
	for _, raw := range l.Items {
		var wc wcCustomer
		if err := json.Unmarshal(raw, &wc); err != nil {
			return connector.Page[domain.Customer]{}, fmt.Errorf("list customers: decode: %w", err)
		}
		page.Items = append(page.Items, toCustomer(wc))
	}
	return page, nil
}

// CreateCustomer creates a customer; Reference goes to meta_data.
func (c *Client) CreateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	body, err := fromCustomer(cu)
	if err != nil {
		return domain.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	var got wcCustomer
	if _, err := c.call(ctx, http.MethodPost, "/customers", nil, body, &got); err != nil {
		return domain.Customer{}, fmt.Errorf("create customer %s: %w", cu.Email, err)
	}
	return toCustomer(got), nil
}

// UpdateCustomer writes amended details back to the store.
func (c *Client) UpdateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	n, err := intID("customer", cu.ID)
	if err != nil {
		return domain.Customer{}, err
	}
	body, err := fromCustomer(cu)
	if err != nil {
		return domain.Customer{}, fmt.Errorf("update customer %s: %w", cu.ID, err)
	}
	var got wcCustomer
	if _, err := c.call(ctx, http.MethodPut, fmt.Sprintf("/customers/%d", n), nil, body, &got); err != nil {
		return domain.Customer{}, fmt.Errorf("update customer %s: %w", cu.ID, err)
	}
	return toCustomer(got), nil
}
