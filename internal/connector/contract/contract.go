// Package contract is the behaviour suite every connector passes against its own simulator:
// pagination, incremental reads, writes, batches with per-item failures, orders, rate limits,
// retries, credential errors, bounded timeouts and webhook signatures. A provider's test calls
// Run with a Harness that starts its simulator; no interface is mocked.
package contract

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// Harness starts a provider's simulator for one test.
type Harness struct {
	Provider connector.Provider
	// Start starts a fresh simulator (with no products) and a connector talking to it over HTTP.
	// The connector's client timeout must be short (at most 2 s) so the timeout case stays quick.
	Start func(t *testing.T) Env
}

// Env is one running simulator and a connector to it.
type Env struct {
	Conn connector.Connector
	Sim  Sim
}

// Sim is what the suite may ask of a simulator, beside its documented API.
type Sim interface {
	// SeedProducts adds n products and returns their ids.
	SeedProducts(n int) []string
	// TouchProduct changes a product (its name) the way a merchant edit would.
	TouchProduct(id string)
	// FailNext makes the next n API calls fail with the HTTP status; status 0 means the simulator
	// does not answer at all (a timeout).
	FailNext(n int, status int)
	// RateLimit makes the simulator allow only a few calls in a short window, answering 429 the
	// way the provider does beyond that. The connector must pace itself and not fail a call.
	RateLimit()
	// InvalidProduct is a product the provider refuses on write (for batch per-item failures).
	InvalidProduct() domain.Product
	// ValidProduct is a product the provider accepts on write.
	ValidProduct(i int) domain.Product
	// SignedWebhook returns a delivery exactly as the provider would send it, the URL it was
	// sent to, and the secret it was signed with.
	SignedWebhook() (header http.Header, body []byte, url, secret string)
	// Calls counts API calls the simulator answered (all statuses).
	Calls() int
}

// Run runs the whole suite against h.
func Run(t *testing.T, h Harness) {
	t.Run("verify", func(t *testing.T) {
		e := h.Start(t)
		if err := e.Conn.Verify(ctx(t)); err != nil {
			t.Fatalf("verify: %v", err)
		}
		stores, err := e.Conn.Stores(ctx(t))
		if err != nil || len(stores) == 0 {
			t.Fatalf("stores: %v %v", stores, err)
		}
	})
	t.Run("list every page", func(t *testing.T) { listEveryPage(t, h) })
	t.Run("incremental read sees only changes", func(t *testing.T) { incremental(t, h) })
	t.Run("create then read back", func(t *testing.T) { createReadBack(t, h) })
	t.Run("batch reports failed item", func(t *testing.T) { batch(t, h) })
	t.Run("order create update cancel", func(t *testing.T) { orders(t, h) })
	t.Run("rate limit respected", func(t *testing.T) { rateLimit(t, h) })
	t.Run("5xx retried", func(t *testing.T) {
		e := h.Start(t)
		e.Sim.FailNext(1, 503)
		if err := e.Conn.Verify(ctx(t)); err != nil {
			t.Fatalf("a single 503 should be retried, got %v", err)
		}
	})
	t.Run("401 is a credentials error", func(t *testing.T) {
		e := h.Start(t)
		e.Sim.FailNext(1, 401)
		err := e.Conn.Verify(ctx(t))
		if connector.KindOf(err) != connector.KindCredentials {
			t.Fatalf("want credentials error, got %v", err)
		}
	})
	t.Run("timeout bounded", func(t *testing.T) {
		e := h.Start(t)
		e.Sim.FailNext(100, 0)
		c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		err := e.Conn.Verify(c)
		if err == nil || connector.KindOf(err) != connector.KindTemporary {
			t.Fatalf("want a temporary error on timeout, got %v", err)
		}
		if c.Err() != nil {
			t.Fatalf("the connector did not bound the timeout itself (took %s)", time.Since(start))
		}
	})
	t.Run("webhook signature", func(t *testing.T) { webhook(t, h) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func listAll(t *testing.T, src connector.ProductSource, cursor string) ([]domain.Product, string) {
	t.Helper()
	var all []domain.Product
	resume := ""
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("pagination does not end")
		}
		p, err := src.ListProducts(ctx(t), cursor)
		if err != nil {
			t.Fatalf("list products (cursor %q): %v", cursor, err)
		}
		all = append(all, p.Items...)
		if p.Resume != "" {
			resume = p.Resume
		}
		if p.Next == "" {
			return all, resume
		}
		cursor = p.Next
	}
}

func listEveryPage(t *testing.T, h Harness) {
	e := h.Start(t)
	src := mustAs[connector.ProductSource](t, e.Conn, domain.CapProducts)
	ids := e.Sim.SeedProducts(237)
	got, _ := listAll(t, src, "")
	seen := map[string]bool{}
	for _, p := range got {
		if seen[p.ID] {
			t.Fatalf("product %s listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("product %s missing from the listing (%d listed)", id, len(got))
		}
	}
}

func incremental(t *testing.T, h Harness) {
	e := h.Start(t)
	src := mustAs[connector.ProductSource](t, e.Conn, domain.CapProducts)
	ids := e.Sim.SeedProducts(120)
	_, resume := listAll(t, src, "")
	if resume == "" {
		t.Fatal("a full read gave no resume cursor")
	}
	time.Sleep(1100 * time.Millisecond) // providers with second-resolution modified-since filters
	changed := []string{ids[3], ids[50], ids[119]}
	for _, id := range changed {
		e.Sim.TouchProduct(id)
	}
	got, _ := listAll(t, src, resume)
	seen := map[string]bool{}
	for _, p := range got {
		seen[p.ID] = true
	}
	for _, id := range changed {
		if !seen[id] {
			t.Fatalf("changed product %s not in the incremental read", id)
		}
	}
	if len(got) > 10 {
		t.Fatalf("incremental read returned %d products for 3 changes", len(got))
	}
}

func createReadBack(t *testing.T, h Harness) {
	e := h.Start(t)
	sink := mustAs[connector.ProductSink](t, e.Conn, domain.CapProducts)
	src := mustAs[connector.ProductSource](t, e.Conn, domain.CapProducts)
	want := e.Sim.ValidProduct(1)
	created, err := sink.CreateProduct(ctx(t), want)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := src.GetProduct(ctx(t), created.ID)
	if err != nil {
		t.Fatalf("get %s: %v", created.ID, err)
	}
	if got.Name != want.Name || got.SKU != want.SKU || got.Price.Amount != want.Price.Amount {
		t.Fatalf("read back %+v, wrote %+v", got, want)
	}
}

func batch(t *testing.T, h Harness) {
	e := h.Start(t)
	sink := mustAs[connector.ProductSink](t, e.Conn, domain.CapProducts)
	items := []domain.Product{e.Sim.ValidProduct(1), e.Sim.InvalidProduct(), e.Sim.ValidProduct(2)}
	res, err := sink.UpsertProducts(ctx(t), items)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("want 3 results, got %d", len(res))
	}
	for _, r := range res {
		if (r.Index == 1) != (r.Err != nil) {
			t.Fatalf("result %d: err %v (only item 1 should fail)", r.Index, r.Err)
		}
		if r.Err == nil && r.ID == "" {
			t.Fatalf("result %d has no id", r.Index)
		}
	}
}

func orders(t *testing.T, h Harness) {
	e := h.Start(t)
	sink := mustAs[connector.OrderSink](t, e.Conn, domain.CapOrders)
	stores, err := e.Conn.Stores(ctx(t))
	if err != nil || len(stores) == 0 {
		t.Fatalf("stores: %v", err)
	}
	o := domain.Order{Reference: "INV-7", StoreID: stores[0].ID, Lines: []domain.OrderLine{
		{Name: "Brake service", Quantity: "1", UnitPrice: domain.Money{Amount: 2500, Currency: "EUR"}},
	}}
	created, err := sink.CreateOrder(ctx(t), o, "INV-7#1")
	if err != nil {
		t.Fatalf("create order: %v", err)
	}
	found, err := sink.FindOrderByReference(ctx(t), "INV-7")
	if err != nil || found.ID != created.ID {
		t.Fatalf("find by reference: %+v %v", found, err)
	}
	created.Lines = append(created.Lines, domain.OrderLine{Name: "Chain", Quantity: "2", UnitPrice: domain.Money{Amount: 1999, Currency: "EUR"}})
	if _, err := sink.UpdateOrder(ctx(t), created, "INV-7#2"); err != nil {
		t.Fatalf("update order: %v", err)
	}
	got, err := sink.GetOrder(ctx(t), created.ID)
	if err != nil || len(got.Lines) != 2 {
		t.Fatalf("after update: %+v %v", got, err)
	}
	// posbridge checks that an order still carries its document's reference before it changes it.
	if got.Reference != "INV-7" || created.Reference != "INV-7" {
		t.Fatalf("GetOrder and CreateOrder must answer the order's reference: got %q and %q, want INV-7", got.Reference, created.Reference)
	}
	if err := sink.CancelOrder(ctx(t), created.ID, domain.CancelVoid); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	got, err = sink.GetOrder(ctx(t), created.ID)
	if err != nil || got.State == domain.OrderOpen || got.State == domain.OrderCompleted {
		t.Fatalf("after cancel: state %q %v", got.State, err)
	}
}

func rateLimit(t *testing.T, h Harness) {
	e := h.Start(t)
	e.Sim.RateLimit()
	for i := 0; i < 30; i++ {
		if err := e.Conn.Verify(ctx(t)); err != nil {
			t.Fatalf("call %d failed under rate limit: %v", i, err)
		}
	}
}

func webhook(t *testing.T, h Harness) {
	e := h.Start(t)
	rx := mustAs[connector.WebhookReceiver](t, e.Conn, domain.CapWebhooks)
	header, body, url, secret := e.Sim.SignedWebhook()
	evs, err := rx.ParseWebhook(header, body, url, secret)
	if err != nil || len(evs) == 0 {
		t.Fatalf("a correctly signed webhook was refused: %v", err)
	}
	for i := range body {
		for bit := 0; bit < 8; bit++ {
			b := append([]byte(nil), body...)
			b[i] ^= 1 << bit
			if _, err := rx.ParseWebhook(header, b, url, secret); err == nil {
				t.Fatalf("body with bit %d of byte %d flipped was accepted", bit, i)
			}
		}
	}
	if _, err := rx.ParseWebhook(header, body, url, secret+"x"); err == nil {
		t.Fatal("accepted with the wrong secret")
	}
}

func mustAs[T any](t *testing.T, c connector.Connector, capability domain.Capability) T {
	t.Helper()
	v, err := connector.As[T](c, capability)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v
}
