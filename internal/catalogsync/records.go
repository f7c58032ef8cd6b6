package catalogsync

import (
	"context"
	"errors"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// ProductJSON is a product of the system of record as the API shows it.
type ProductJSON struct {
	ID            string            `json:"id"`
	IntegrationID string            `json:"integration_id"`
	ExternalID    string            `json:"external_id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	SKU           string            `json:"sku"`
	Barcode       string            `json:"barcode"`
	Price         domain.Money      `json:"price"`
	Weight        *domain.Weight    `json:"weight"`
	Categories    []domain.Category `json:"categories"`
	Variants      []VariantJSON     `json:"variants"`
	TrackStock    bool              `json:"track_stock"`
	Deleted       bool              `json:"deleted"`
	Links         []LinkJSON        `json:"links"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// VariantJSON is a variant as the API shows it.
type VariantJSON struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	SKU        string       `json:"sku"`
	Barcode    string       `json:"barcode"`
	Price      domain.Money `json:"price"`
	TrackStock bool         `json:"track_stock"`
}

// LinkJSON is a product's link to a destination's product.
type LinkJSON struct {
	ProductID     string     `json:"product_id"`
	IntegrationID string     `json:"integration_id"`
	ExternalID    string     `json:"external_id"`
	Origin        string     `json:"origin"`
	PushedAt      *time.Time `json:"pushed_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

// LinkJSONOf renders a link.
func LinkJSONOf(l domain.CatalogLink) LinkJSON {
	return LinkJSON{ProductID: l.ProductID, IntegrationID: l.IntegrationID, ExternalID: l.ExternalID, Origin: l.Origin, PushedAt: l.PushedAt, CreatedAt: l.CreatedAt}
}

// ProductJSONOf renders a product with its links.
func ProductJSONOf(p domain.CatalogProduct, links []domain.CatalogLink) ProductJSON {
	out := ProductJSON{ID: p.ID, IntegrationID: p.IntegrationID, ExternalID: p.ExternalID, Name: p.Product.Name, Description: p.Product.Description,
		SKU: p.Product.SKU, Barcode: p.Product.Barcode, Price: p.Product.Price, Weight: p.Product.Weight, Categories: p.Product.Categories,
		Variants: []VariantJSON{}, TrackStock: p.Product.TrackStock, Deleted: p.Deleted, Links: []LinkJSON{}, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if out.Categories == nil {
		out.Categories = []domain.Category{}
	}
	for _, v := range p.Product.Variants {
		out.Variants = append(out.Variants, VariantJSON{ID: v.ID, Name: v.Name, SKU: v.SKU, Barcode: v.Barcode, Price: v.Price, TrackStock: v.TrackStock})
	}
	for _, l := range links {
		out.Links = append(out.Links, LinkJSONOf(l))
	}
	return out
}

// CustomerJSON is a customer of the system of record as the API shows it.
type CustomerJSON struct {
	ID            string    `json:"id"`
	IntegrationID string    `json:"integration_id"`
	ExternalID    string    `json:"external_id"`
	Email         string    `json:"email"`
	FirstName     string    `json:"first_name"`
	LastName      string    `json:"last_name"`
	Phone         string    `json:"phone"`
	Reference     string    `json:"reference"`
	Deleted       bool      `json:"deleted"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CustomerJSONOf renders a customer.
func CustomerJSONOf(c domain.CatalogCustomer) CustomerJSON {
	return CustomerJSON{ID: c.ID, IntegrationID: c.IntegrationID, ExternalID: c.ExternalID, Email: c.Customer.Email, FirstName: c.Customer.FirstName,
		LastName: c.Customer.LastName, Phone: c.Customer.Phone, Reference: c.Customer.Reference, Deleted: c.Deleted, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// Products searches the account's products (name, SKU, barcode); deleted ones are left out.
func (s *Service) Products(ctx context.Context, accountID string, f store.RecordFilter) ([]ProductJSON, error) {
	ps, err := s.st.Reader().ListCatalogProducts(ctx, accountID, f)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	links, err := s.st.ListCatalogLinks(ctx, accountID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ProductJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, ProductJSONOf(p, links[p.ID]))
	}
	return out, nil
}

// Product reads one product (also a deleted one, marked so); 404 for another account's.
func (s *Service) Product(ctx context.Context, accountID, id string) (ProductJSON, error) {
	p, err := s.st.GetCatalogProduct(ctx, accountID, id)
	if errors.Is(err, store.ErrNotFound) {
		return ProductJSON{}, domain.NotFound("product")
	}
	if err != nil {
		return ProductJSON{}, err
	}
	links, err := s.st.ListCatalogLinks(ctx, accountID, []string{id})
	if err != nil {
		return ProductJSON{}, err
	}
	return ProductJSONOf(p, links[id]), nil
}

// Customers searches the account's customers (name, email, phone).
func (s *Service) Customers(ctx context.Context, accountID string, f store.RecordFilter) ([]CustomerJSON, error) {
	cs, err := s.st.Reader().ListCatalogCustomers(ctx, accountID, f)
	if err != nil {
		return nil, err
	}
	out := make([]CustomerJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, CustomerJSONOf(c))
	}
	return out, nil
}

// Stock reads a product's stock levels; 404 for a product not in the account.
func (s *Service) Stock(ctx context.Context, accountID, productID string) ([]domain.StockLevel, error) {
	if _, err := s.st.GetCatalogProduct(ctx, accountID, productID); errors.Is(err, store.ErrNotFound) {
		return nil, domain.NotFound("product")
	} else if err != nil {
		return nil, err
	}
	return s.st.ListCatalogStock(ctx, accountID, productID)
}

// Changes reads the change feed after the cursor (an entry id; 0 from the start).
func (s *Service) Changes(ctx context.Context, accountID string, after int64, limit int) ([]domain.CatalogChange, error) {
	return s.st.ListCatalogChanges(ctx, accountID, after, limit)
}

// Link links a product to a product of a destination by that product's id there. The
// destination's product is looked up first: a link to nothing is refused. posbridge never links
// by name or SKU.
func (s *Service) Link(ctx context.Context, accountID, actor, productID, integrationID, externalID string) (LinkJSON, error) {
	for _, f := range []struct{ name, v string }{{"product_id", productID}, {"integration_id", integrationID}, {"external_id", externalID}} {
		if f.v == "" {
			return LinkJSON{}, domain.Invalid(f.name, "%s is required", f.name)
		}
		if err := domain.CheckText(f.name, f.v, domain.TextID); err != nil {
			return LinkJSON{}, err
		}
	}
	p, err := s.st.GetCatalogProduct(ctx, accountID, productID)
	if errors.Is(err, store.ErrNotFound) {
		return LinkJSON{}, domain.Invalid("product_id", "no product %q in this account", productID)
	}
	if err != nil {
		return LinkJSON{}, err
	}
	if p.IntegrationID == integrationID {
		return LinkJSON{}, domain.Invalid("integration_id", "the product comes from that integration; link it to a destination")
	}
	if err := s.checkIntegration(ctx, accountID, "integration_id", integrationID, "cannot receive products"); err != nil {
		return LinkJSON{}, err
	}
	i, err := s.con.Get(ctx, accountID, integrationID)
	if err != nil {
		return LinkJSON{}, err
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return LinkJSON{}, err
	}
	if src, ok := conn.(connector.ProductSource); ok {
		if _, err := src.GetProduct(ctx, externalID); connector.KindOf(err) == connector.KindNotFound {
			return LinkJSON{}, domain.Invalid("external_id", "%s has no product %q", s.con.DisplayName(i.Type), externalID)
		} else if err != nil {
			return LinkJSON{}, &domain.Error{Code: domain.CodeUnavailable, Message: "could not look the product up in " + s.con.DisplayName(i.Type) + ": " + connector.Message(err)}
		}
	}
	l := domain.CatalogLink{ProductID: productID, IntegrationID: integrationID, ExternalID: externalID, Origin: domain.LinkExplicit, CreatedAt: s.now()}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCatalogLink(ctx, accountID, l); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: accountID, At: l.CreatedAt, Kind: domain.KindCatalogLinked, IntegrationID: integrationID,
			Actor: actor, Message: "Product " + p.Product.Name + " (" + productID + ") linked to product " + externalID + " of " + s.con.DisplayName(i.Type)})
	})
	return LinkJSONOf(l), err
}

// History reads the field-level history of a product or customer (record), newest first,
// before the entry id before (0: from the newest); 404 for a record not in the account.
func (s *Service) History(ctx context.Context, accountID, record, id string, before int64, limit int) ([]domain.HistoryEntry, error) {
	var err error
	switch record {
	case domain.RecordProduct:
		_, err = s.st.GetCatalogProduct(ctx, accountID, id)
	default:
		_, err = s.st.GetCatalogCustomer(ctx, accountID, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, domain.NotFound(record)
	}
	if err != nil {
		return nil, err
	}
	return s.st.ListCatalogHistory(ctx, accountID, record, id, before, limit)
}
