package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSandboxStoresIsolated: each account's sandbox store of a real provider is its own tenant.
// For every provider, account B's sandbox store credentials cannot read or change account A's
// sandbox orders and products: at A's store they are refused (401) or find nothing (404), and
// B's own store holds none of A's orders; A's data is as A left it.
func TestSandboxStoresIsolated(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		ctx := context.Background()
		accts := [2]struct{ id, key string }{}
		for n, name := range []string{"A", "B"} {
			c := e.account("Shop "+name, strings.ToLower(name)+"@shop.test")
			accts[n].id, accts[n].key = c.AccountID, c.APIKey
		}
		for _, typ := range []string{"woocommerce", "square", "shopify", "lightspeed"} {
			p, _ := e.app.Lifecycle.Provider(typ)
			var infos [2]connector.SimInfo
			for n, a := range accts {
				in := e.must(201, e.call(a.key, "POST", "/api/v1/integrations", map[string]any{"type": typ, "sandbox": true})).json(t)
				e.waitStatus(a.key, in["id"].(string), "healthy")
				i, err := e.app.Lifecycle.Get(ctx, a.id, in["id"].(string))
				if err != nil {
					t.Fatal(err)
				}
				info, ok, err := e.app.Lifecycle.SandboxStore(ctx, i)
				if err != nil || !ok {
					t.Fatalf("%s: sandbox store of %s: %v %v", typ, a.id, ok, err)
				}
				infos[n] = info
			}
			a, b := infos[0], infos[1]
			if a.BaseURL == b.BaseURL {
				t.Fatalf("%s: both accounts' sandbox stores are at %s", typ, a.BaseURL)
			}
			for _, f := range p.Fields {
				if v := a.Credentials[f.Name]; f.Secret && v != "" && v == b.Credentials[f.Name] {
					t.Fatalf("%s: both accounts' sandbox stores take %s %q", typ, f.Name, v)
				}
			}
			// B's credentials at A's address.
			cross := map[string]string{}
			for k, v := range b.Credentials {
				if v == b.BaseURL {
					v = a.BaseURL
				}
				cross[k] = v
			}
			open := func(creds map[string]string) connector.Connector {
				c, err := p.Open(connector.Config{IntegrationID: "int_test", Credentials: creds,
					HTTP: connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true})})
				if err != nil {
					t.Fatalf("%s: open: %v", typ, err)
				}
				return c
			}
			connA, connB, connX := open(a.Credentials), open(b.Credentials), open(cross)

			// A's order and product, made with A's own credentials.
			stores, err := connA.Stores(ctx)
			if err != nil || len(stores) == 0 {
				t.Fatalf("%s: A's stores: %v", typ, err)
			}
			sinkA := orderSink(t, connA)
			order, err := sinkA.CreateOrder(ctx, domain.Order{Reference: "INV-A1", StoreID: stores[0].ID, Lines: []domain.OrderLine{
				{Name: "Brake service", Quantity: "1", UnitPrice: domain.Money{Amount: 2500, Currency: "EUR"}}}}, "INV-A1#1")
			if err != nil {
				t.Fatalf("%s: A creates an order: %v", typ, err)
			}
			srcA := productSource(t, connA)
			page, err := srcA.ListProducts(ctx, "")
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("%s: A's products: %v", typ, err)
			}
			prod := page.Items[0]

			// At A's store, B's credentials are refused: nothing read, nothing changed.
			refused := func(what string, err error) {
				t.Helper()
				var ce *connector.Error
				if !errors.As(err, &ce) || (ce.Status != 401 && ce.Status != 403 && ce.Status != 404) {
					t.Fatalf("%s: %s with B's credentials at A's store: want 401/404, got %v", typ, what, err)
				}
			}
			refused("verify", connX.Verify(ctx))
			_, err = orderSink(t, connX).GetOrder(ctx, order.ID)
			refused("read A's order", err)
			_, err = orderSink(t, connX).FindOrderByReference(ctx, "INV-A1")
			refused("find A's order", err)
			refused("void A's order", orderSink(t, connX).CancelOrder(ctx, order.ID, domain.CancelVoid))
			_, err = productSource(t, connX).ListProducts(ctx, "")
			refused("list A's products", err)
			_, err = productSource(t, connX).GetProduct(ctx, prod.ID)
			refused("read A's product", err)
			changed := prod
			changed.Name = "Changed by B"
			_, err = productSink(t, connX).UpdateProduct(ctx, changed)
			refused("change A's product", err)

			// B's own store has none of A's orders, and its products are its own.
			if _, err := orderSink(t, connB).GetOrder(ctx, order.ID); err == nil || connector.KindOf(err) != connector.KindNotFound {
				t.Fatalf("%s: B's store answers A's order %s: %v", typ, order.ID, err)
			}
			if o, err := orderSink(t, connB).FindOrderByReference(ctx, "INV-A1"); err == nil {
				t.Fatalf("%s: B's store finds A's order: %+v", typ, o)
			}
			_ = orderSink(t, connB).CancelOrder(ctx, order.ID, domain.CancelVoid)
			_, _ = productSink(t, connB).UpdateProduct(ctx, changed) // B's product of the same id, if any

			// A's data is as A left it.
			got, err := sinkA.GetOrder(ctx, order.ID)
			if err != nil || got.Reference != "INV-A1" || got.State != order.State {
				t.Fatalf("%s: A's order after B's attempts: %+v %v (was %+v)", typ, got, err, order)
			}
			gp, err := srcA.GetProduct(ctx, prod.ID)
			if err != nil || gp.Name != prod.Name {
				t.Fatalf("%s: A's product after B's attempts: %q %v (was %q)", typ, gp.Name, err, prod.Name)
			}
		}
	})
}

func orderSink(t *testing.T, c connector.Connector) connector.OrderSink {
	t.Helper()
	s, err := connector.As[connector.OrderSink](c, domain.CapOrders)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func productSource(t *testing.T, c connector.Connector) connector.ProductSource {
	t.Helper()
	s, err := connector.As[connector.ProductSource](c, domain.CapProducts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func productSink(t *testing.T, c connector.Connector) connector.ProductSink {
	t.Helper()
	s, err := connector.As[connector.ProductSink](c, domain.CapProducts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
