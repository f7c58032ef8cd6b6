package sandbox

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

func BenchmarkCreateOrder(b *testing.B) {
	e := newEnv(b, Options{})
	var c *Conn
	o := domain.Order{Reference: "INV", Lines: []domain.OrderLine{
		{Name: "Full service", Quantity: "1", UnitPrice: domain.Money{Amount: 8900}},
		{Name: "Chain", Quantity: "2", UnitPrice: domain.Money{Amount: 3495}},
	}}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%500 == 0 { // a fresh tenant every 500 orders: the figure stays that of a typical sandbox
			c = e.conn(b, e.key("sbx_bench_")+strconv.Itoa(i/500), 0)
		}
		if _, err := c.CreateOrder(ctx, o, "k"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListProductsPage(b *testing.B) {
	e := newEnv(b, Options{SampleProducts: 1000})
	c := e.conn(b, e.key("sbx_bench"), 0)
	ctx := context.Background()
	for b.Loop() {
		p, err := c.ListProducts(ctx, "")
		if err != nil || len(p.Items) != pageSize {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseWebhook(b *testing.B) {
	e := newEnv(b, Options{})
	c := e.conn(b, e.key("sbx_bench"), 0)
	var ev wireEvent[wireOrder]
	ev.ID, ev.Type, ev.CreatedAt = "evt_1", "order.completed", time.Now()
	ev.Data.Object = wireOrder{ID: "ord_x_1", Reference: "INV-1", State: "completed", Lines: []wireLine{{Name: "A", Quantity: "1"}}}
	body := []byte(`{"id":"evt_1","type":"order.completed","created_at":"2026-11-25T20:00:00Z","data":{"object":{"id":"ord_x_1","reference":"INV-1","state":"completed","lines":[]}}}`)
	h := http.Header{}
	h.Set(SignatureHeader, Sign("s", time.Now(), body))
	for b.Loop() {
		if _, err := c.ParseWebhook(h, body, "", "s"); err != nil {
			b.Fatal(err)
		}
	}
}
