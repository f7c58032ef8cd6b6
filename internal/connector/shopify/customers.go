package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// customerJSON is the REST Customer resource. Shopify has no field for another system's id, so
// the app's reference travels as a tag "posbridge-ref:<reference>".
type customerJSON struct {
	ID        int64  `json:"id,omitempty"`
	Email     string `json:"email,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Tags      string `json:"tags,omitempty"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

const refTagPrefix = "posbridge-ref:"

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func toCustomer(c customerJSON) domain.Customer {
	out := domain.Customer{
		ID: strconv.FormatInt(c.ID, 10), Email: c.Email, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, Version: c.UpdatedAt, UpdatedAt: parseTime(c.UpdatedAt),
	}
	for _, t := range splitTags(c.Tags) {
		if strings.HasPrefix(t, refTagPrefix) {
			out.Reference = strings.TrimPrefix(t, refTagPrefix)
		}
	}
	return out
}

func fromCustomer(c domain.Customer, existingTags string) customerJSON {
	var tags []string
	for _, t := range splitTags(existingTags) {
		if !strings.HasPrefix(t, refTagPrefix) {
			tags = append(tags, t)
		}
	}
	if c.Reference != "" {
		tags = append(tags, refTagPrefix+c.Reference)
	}
	return customerJSON{Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, Tags: strings.Join(tags, ", ")}
}

// ListCustomers reads one page of customers (GET customers.json); a Resume cursor reads only
// customers updated since (updated_at_min).
func (c *Client) ListCustomers(ctx context.Context, cur string) (connector.Page[domain.Customer], error) {
	raw, next, resume, err := c.listPage(ctx, "list customers", "customers.json", "customers", nil, c.opts.PageSize, cur)
	if err != nil {
		return connector.Page[domain.Customer]{}, err
	}
	page := connector.Page[domain.Customer]{Next: next, Resume: resume}
	for _, r := range raw {
		var cj customerJSON
		if err := json.Unmarshal(r, &cj); err != nil {
			return connector.Page[domain.Customer]{}, fmt.Errorf("list customers: decode: %w", err)
		}
		page.Items = append(page.Items, toCustomer(cj))
	}
	return page, nil
}

// CreateCustomer creates a customer (POST customers.json).
func (c *Client) CreateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	var out struct {
		Customer customerJSON `json:"customer"`
	}
	body := map[string]any{"customer": fromCustomer(cu, "")}
	if _, err := c.do(ctx, call{op: "create customer", method: http.MethodPost, path: "customers.json", body: body, unsafe: true}, &out); err != nil {
		return domain.Customer{}, err
	}
	return toCustomer(out.Customer), nil
}

// UpdateCustomer writes details amended in the app back to Shopify (PUT customers/{id}.json),
// keeping the customer's other tags.
func (c *Client) UpdateCustomer(ctx context.Context, cu domain.Customer) (domain.Customer, error) {
	id, err := parseID("customer", cu.ID)
	if err != nil {
		return domain.Customer{}, err
	}
	var cur struct {
		Customer customerJSON `json:"customer"`
	}
	op := fmt.Sprintf("update customer %d", id)
	path := fmt.Sprintf("customers/%d.json", id)
	if _, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path}, &cur); err != nil {
		return domain.Customer{}, err
	}
	body := fromCustomer(cu, cur.Customer.Tags)
	body.ID = id
	var out struct {
		Customer customerJSON `json:"customer"`
	}
	if _, err := c.do(ctx, call{op: op, method: http.MethodPut, path: path, body: map[string]any{"customer": body}}, &out); err != nil {
		return domain.Customer{}, err
	}
	return toCustomer(out.Customer), nil
}
