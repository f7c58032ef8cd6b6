package sandbox

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

func TestProviderDescription(t *testing.T) {
	p := Provider
	if p.Type != "sandbox" || p.DisplayName != "Sandbox POS" || !p.SelfHosted || p.SetupURL != "/docs/sandbox" {
		t.Fatalf("provider %+v", p)
	}
	if len(p.Fields) != 1 || p.Fields[0].Name != "api_key" || !p.Fields[0].Secret || p.Fields[0].Required {
		t.Fatalf("fields %+v", p.Fields)
	}
	for _, c := range []domain.Capability{domain.CapProducts, domain.CapStock, domain.CapCustomers, domain.CapOrders, domain.CapSales, domain.CapWebhooks} {
		if !p.Has(c) {
			t.Errorf("missing capability %s", c)
		}
	}
	sim := p.NewSimulator(0)
	info := sim.Info("http://127.0.0.1:9999/")
	if info.Provider != "sandbox" || info.BaseURL != "http://127.0.0.1:9999" || !WellFormedKey(info.Credentials["api_key"]) || info.WebhookSecret == "" {
		t.Fatalf("info %+v", info)
	}
	if again := sim.Info("http://127.0.0.1:9999/"); again.Credentials["api_key"] != info.Credentials["api_key"] {
		t.Fatalf("Info changed its key: %v then %v", info.Credentials, again.Credentials)
	}
	sim.(*Server).Close()
	if _, err := p.Open(connector.Config{Credentials: map[string]string{}, SelfURL: "http://x"}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("open without key: %v", err)
	}
	if _, err := p.Open(connector.Config{Credentials: map[string]string{"api_key": NewAPIKey()}, SelfURL: "not a url"}); connector.KindOf(err) != connector.KindInvalid {
		t.Fatalf("open without self url: %v", err)
	}
}

func TestVerifyAndStores(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_demo"), 0)
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	stores, err := c.Stores(ctx(t))
	if err != nil {
		t.Fatalf("stores: %v", err)
	}
	if len(stores) != 2 || stores[0].Name != "Main Street" || stores[1].Name != "Harbour Outlet" || stores[0].Currency != "EUR" {
		t.Fatalf("stores %+v", stores)
	}
}

func TestInvalidKeys(t *testing.T) {
	e := newEnv(t, Options{})
	// A key of the right shape that was never minted is refused like a malformed one.
	unknown := NewAPIKey()
	for _, key := range []string{"sbx_invalid", "live_123", "sbx_", "sbx_demo", unknown, strings.ToUpper(e.key("real"))} {
		err := e.conn(t, key, 0).Verify(ctx(t))
		ce := wantKind(t, err, connector.KindCredentials)
		if ce.Message != "Invalid API key" || ce.Status != 401 {
			t.Fatalf("%s: %+v", key, ce)
		}
		for _, path := range []string{"/sandbox/api/v1/orders", "/sandbox/api/v1/webhooks", "/sandbox/admin/orders?api_key=" + key} {
			if st, _, b := e.do(t, "GET", path, bearerHeader(key), nil); st != 401 {
				t.Fatalf("GET %s with %s: HTTP %d %s", path, key, st, b)
			}
		}
	}
	// Nothing was created for them.
	if n := e.srv.Tenants(); n != 0 {
		t.Fatalf("%d tenants in memory after refused keys", n)
	}
	if saved, _ := e.srv.opts.Persister.Load(ctx(t), unknown); saved.Found || len(saved.Log) > 0 {
		t.Fatalf("state saved for an unknown key: %+v", saved)
	}
}

func listAllProducts(t *testing.T, c *Conn, cursor string) (all []domain.Product, resume string, calls int) {
	t.Helper()
	for {
		calls++
		p, err := c.ListProducts(ctx(t), cursor)
		if err != nil {
			t.Fatalf("list products: %v", err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, p.Resume, calls
		}
		if calls > 100 {
			t.Fatal("pagination does not end")
		}
		cursor = p.Next
	}
}

func TestProductsPaginationAndIncremental(t *testing.T) {
	e := newEnv(t, Options{SampleProducts: 237})
	c := e.conn(t, e.key("sbx_pages"), 0)
	all, resume, calls := listAllProducts(t, c, "")
	if len(all) != 237 || calls != 3 {
		t.Fatalf("listed %d products in %d pages, want 237 in 3", len(all), calls)
	}
	seen := map[string]bool{}
	for _, p := range all {
		if seen[p.ID] {
			t.Fatalf("product %s listed twice", p.ID)
		}
		seen[p.ID] = true
	}
	if resume == "" {
		t.Fatal("no resume cursor after a full read")
	}
	// Nothing changed: the incremental read is empty.
	if got, _, _ := listAllProducts(t, c, resume); len(got) != 0 {
		t.Fatalf("incremental read without changes gave %d products", len(got))
	}
	changed := []domain.Product{all[3], all[50], all[236]}
	for i, p := range changed {
		p.Name += " (edited)"
		if _, err := c.UpdateProduct(ctx(t), p); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	got, resume2, _ := listAllProducts(t, c, resume)
	if len(got) != 3 {
		t.Fatalf("incremental read gave %d products for 3 changes", len(got))
	}
	for i, p := range got {
		if !strings.HasSuffix(p.Name, "(edited)") || p.Version != "2" {
			t.Fatalf("incremental item %d: %+v", i, p)
		}
	}
	if got, _, _ := listAllProducts(t, c, resume2); len(got) != 0 {
		t.Fatalf("second incremental read gave %d", len(got))
	}
	// A change during pagination is not missed: it shows up on a later page.
	p1, err := c.ListProducts(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	first := p1.Items[0]
	first.Name = "Touched mid-read"
	if _, err := c.UpdateProduct(ctx(t), first); err != nil {
		t.Fatal(err)
	}
	rest, _, _ := listAllProducts(t, c, p1.Next)
	found := false
	for _, p := range rest {
		found = found || p.ID == first.ID
	}
	if !found {
		t.Fatal("a product changed during the read was missed")
	}
}

func TestProductWrites(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_products"), 0)
	want := domain.Product{Name: "Mudguard set", SKU: "BK-MUD-1", Price: domain.Money{Amount: 1899, Currency: "EUR"}, TrackStock: true,
		Weight: &domain.Weight{Value: "0.4", Unit: "kg"}, Variants: []domain.Variant{{Name: "Black", SKU: "BK-MUD-1-B"}}}
	created, err := c.CreateProduct(ctx(t), want)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := c.GetProduct(ctx(t), created.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Name != want.Name || got.SKU != want.SKU || got.Price != want.Price || got.Version != "1" || len(got.Variants) != 1 ||
		got.Variants[0].ID == "" || got.Variants[0].Price.Amount != 1899 || got.Weight.Value != "0.4" {
		t.Fatalf("read back %+v", got)
	}
	got.Price.Amount = 1999
	updated, err := c.UpdateProduct(ctx(t), got)
	if err != nil || updated.Version != "2" || updated.Price.Amount != 1999 {
		t.Fatalf("update: %+v %v", updated, err)
	}
	// got still carries version 1: a stale write is a conflict.
	wantKind(t, func() error { _, err := c.UpdateProduct(ctx(t), got); return err }(), connector.KindConflict)
	// Duplicate SKU.
	wantKind(t, func() error {
		_, err := c.CreateProduct(ctx(t), domain.Product{Name: "Dup", SKU: "BK-MUD-1"})
		return err
	}(), connector.KindConflict)
	// Invalid: no name; the message names the field.
	ce := wantKind(t, func() error { _, err := c.CreateProduct(ctx(t), domain.Product{SKU: "X-1"}); return err }(), connector.KindInvalid)
	if ce.Status != 422 || !strings.Contains(ce.Message, "name") {
		t.Fatalf("invalid product error %+v", ce)
	}
	wantKind(t, func() error { _, err := c.GetProduct(ctx(t), "prd_nope"); return err }(), connector.KindNotFound)

	// Batch: item 1 fails, the others apply.
	items := []domain.Product{
		{Name: "Valve caps", SKU: "BK-VALVE", Price: domain.Money{Amount: 199, Currency: "EUR"}},
		{Name: "", SKU: "BAD"},
		{ID: created.ID, Name: "Mudguard set XL", SKU: "BK-MUD-1", Price: domain.Money{Amount: 2199}},
	}
	res, err := c.UpsertProducts(ctx(t), items)
	if err != nil || len(res) != 3 {
		t.Fatalf("batch: %v %v", res, err)
	}
	for _, r := range res {
		if (r.Index == 1) != (r.Err != nil) || (r.Err == nil && r.ID == "") {
			t.Fatalf("result %+v", r)
		}
	}
	if connector.KindOf(res[1].Err) != connector.KindInvalid {
		t.Fatalf("failed item kind %v", res[1].Err)
	}
	if res[2].ID != created.ID {
		t.Fatalf("update in batch got id %s", res[2].ID)
	}
	got, _ = c.GetProduct(ctx(t), created.ID)
	if got.Name != "Mudguard set XL" || got.Price.Amount != 2199 {
		t.Fatalf("after batch %+v", got)
	}
}

func TestStock(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_stock"), 0)
	page, err := c.ListStock(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) < 40 || page.Next != "" || page.Resume == "" {
		t.Fatalf("stock page: %d items next %q resume %q", len(page.Items), page.Next, page.Resume)
	}
	var simple domain.StockLevel
	for _, l := range page.Items {
		if l.VariantID == "" {
			simple = l
			break
		}
	}
	simple.Quantity = "7.5"
	bad := domain.StockLevel{ProductID: simple.ProductID, LocationID: "st_nowhere", Quantity: "1"}
	res, err := c.SetStock(ctx(t), []domain.StockLevel{simple, bad})
	if err != nil || len(res) != 2 || res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("set stock %+v %v", res, err)
	}
	if !strings.Contains(connector.Message(res[1].Err), "location") {
		t.Fatalf("error %v", res[1].Err)
	}
	next, err := c.ListStock(ctx(t), page.Resume)
	if err != nil || len(next.Items) != 1 || next.Items[0].Quantity != "7.5" || next.Items[0].ProductID != simple.ProductID {
		t.Fatalf("incremental stock %+v %v", next, err)
	}
}

func TestCustomers(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_customers"), 0)
	page, err := c.ListCustomers(ctx(t), "")
	if err != nil || len(page.Items) != 8 {
		t.Fatalf("customers %d %v", len(page.Items), err)
	}
	cu, err := c.CreateCustomer(ctx(t), domain.Customer{Email: "Ivo@Example.com", FirstName: "Ivo", Reference: "app-42"})
	if err != nil || cu.ID == "" || cu.Email != "ivo@example.com" || cu.Version != "1" {
		t.Fatalf("create %+v %v", cu, err)
	}
	cu.Phone = "+31 6 0000 0000"
	up, err := c.UpdateCustomer(ctx(t), cu)
	if err != nil || up.Phone != cu.Phone || up.Version != "2" {
		t.Fatalf("update %+v %v", up, err)
	}
	wantKind(t, func() error { _, err := c.UpdateCustomer(ctx(t), cu); return err }(), connector.KindConflict)
	ce := wantKind(t, func() error { _, err := c.CreateCustomer(ctx(t), domain.Customer{Email: "not-an-email"}); return err }(), connector.KindInvalid)
	if !strings.Contains(ce.Message, "email") {
		t.Fatalf("message %q", ce.Message)
	}
	next, err := c.ListCustomers(ctx(t), page.Resume)
	if err != nil || len(next.Items) != 1 || next.Items[0].ID != cu.ID {
		t.Fatalf("incremental customers %+v %v", next, err)
	}
}

func TestOrdersLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_orders"), 0)
	products, err := c.ListProducts(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	tube := products.Items[0]
	o := domain.Order{Reference: "INV-7", StoreID: "st_harbour", Lines: []domain.OrderLine{
		{Name: "Brake service", Quantity: "1", UnitPrice: domain.Money{Amount: 2500, Currency: "EUR"}, TaxRate: "21"},
		{ProductID: tube.ID, Quantity: "2"},
		{Name: "Labour", Quantity: "0.25", UnitPrice: domain.Money{Amount: 5999, Currency: "EUR"}},
	}}
	created, err := c.CreateOrder(ctx(t), o, "INV-7#1")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	// 2500 + 2*695 + round(0.25*5999 = 1499.75) = 2500 + 1390 + 1500
	if created.State != domain.OrderOpen || created.Total.Amount != 5390 || created.Version != "1" || created.StoreID != "st_harbour" {
		t.Fatalf("created %+v", created)
	}
	if created.Lines[1].Name != tube.Name || created.Lines[1].UnitPrice.Amount != tube.Price.Amount || created.Lines[1].SKU != tube.SKU {
		t.Fatalf("line from catalogue %+v", created.Lines[1])
	}
	if created.URL != e.hs.URL+"/sandbox/orders/"+created.ID {
		t.Fatalf("url %q", created.URL)
	}
	found, err := c.FindOrderByReference(ctx(t), "INV-7")
	if err != nil || found.ID != created.ID {
		t.Fatalf("find: %+v %v", found, err)
	}
	wantKind(t, func() error { _, err := c.FindOrderByReference(ctx(t), "INV-8"); return err }(), connector.KindNotFound)

	created.Lines = append(created.Lines, domain.OrderLine{Name: "Chain", Quantity: "2", UnitPrice: domain.Money{Amount: 1999, Currency: "EUR"}})
	updated, err := c.UpdateOrder(ctx(t), created, "INV-7#2")
	if err != nil || len(updated.Lines) != 4 || updated.Version != "2" || updated.Total.Amount != 5390+3998 {
		t.Fatalf("update: %+v %v", updated, err)
	}
	// The same update again (a retry) replays; a stale version without a key is a conflict.
	if again, err := c.UpdateOrder(ctx(t), created, "INV-7#2"); err != nil || again.Version != "2" {
		t.Fatalf("replayed update: %+v %v", again, err)
	}
	wantKind(t, func() error { _, err := c.UpdateOrder(ctx(t), created, ""); return err }(), connector.KindConflict)
	got, err := c.GetOrder(ctx(t), created.ID)
	if err != nil || len(got.Lines) != 4 {
		t.Fatalf("get: %+v %v", got, err)
	}
	// Bad lines are refused naming the field.
	ce := wantKind(t, func() error {
		_, err := c.CreateOrder(ctx(t), domain.Order{Reference: "X", Lines: []domain.OrderLine{{Name: "A", Quantity: "0"}}}, "")
		return err
	}(), connector.KindInvalid)
	if !strings.Contains(ce.Message, "lines[0].quantity") {
		t.Fatalf("message %q", ce.Message)
	}

	if err := c.CancelOrder(ctx(t), created.ID, domain.CancelVoid); err != nil {
		t.Fatalf("void: %v", err)
	}
	if err := c.CancelOrder(ctx(t), created.ID, domain.CancelVoid); err != nil {
		t.Fatalf("void again: %v", err)
	}
	got, _ = c.GetOrder(ctx(t), created.ID)
	if got.State != domain.OrderVoided {
		t.Fatalf("state after void %q", got.State)
	}
	wantKind(t, func() error { _, err := c.UpdateOrder(ctx(t), got, "k3"); return err }(), connector.KindConflict)
	if err := c.CancelOrder(ctx(t), created.ID, domain.CancelArchive); err != nil {
		t.Fatalf("archive: %v", err)
	}
	if err := c.CancelOrder(ctx(t), created.ID, domain.CancelDelete); err != nil {
		t.Fatalf("delete: %v", err)
	}
	got, _ = c.GetOrder(ctx(t), created.ID)
	if got.State != domain.OrderDeleted {
		t.Fatalf("state after delete %q", got.State)
	}
	wantKind(t, c.CancelOrder(ctx(t), created.ID, domain.CancelVoid), connector.KindConflict)
	wantKind(t, func() error { _, err := c.FindOrderByReference(ctx(t), "INV-7"); return err }(), connector.KindNotFound)
	wantKind(t, c.CancelOrder(ctx(t), "ord_nope_1", domain.CancelVoid), connector.KindNotFound)
	wantKind(t, c.CancelOrder(ctx(t), created.ID, "shred"), connector.KindInvalid)

	// A new order for the same reference is found, not the deleted one.
	second, err := c.CreateOrder(ctx(t), o, "INV-7#new")
	if err != nil {
		t.Fatal(err)
	}
	found, err = c.FindOrderByReference(ctx(t), "INV-7")
	if err != nil || found.ID != second.ID {
		t.Fatalf("find after resend: %+v %v", found, err)
	}
}

func TestIdempotentCreateOrder(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_idem"), 0)
	o := domain.Order{Reference: "JOB-1", Lines: []domain.OrderLine{{Name: "Puncture repair", Quantity: "1", UnitPrice: domain.Money{Amount: 1250, Currency: "EUR"}}}}
	a, err := c.CreateOrder(ctx(t), o, "JOB-1#1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateOrder(ctx(t), o, "JOB-1#1")
	if err != nil || b.ID != a.ID {
		t.Fatalf("second create with the same key: %+v %v", b, err)
	}
	var list []wireOrder
	e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_idem"), nil, &list)
	if len(list) != 1 {
		t.Fatalf("%d orders after two creates with one key", len(list))
	}
	o.Note = "changed"
	ce := wantKind(t, func() error { _, err := c.CreateOrder(ctx(t), o, "JOB-1#1"); return err }(), connector.KindInvalid)
	if ce.Code != "idempotency_key_reused" {
		t.Fatalf("error %+v", ce)
	}
	// Concurrent retries with one key still make one order.
	done := make(chan string, 8)
	for i := 0; i < 8; i++ {
		go func() {
			x, err := c.CreateOrder(ctx(t), domain.Order{Reference: "JOB-2"}, "JOB-2#1")
			if err != nil {
				done <- "error: " + err.Error()
				return
			}
			done <- x.ID
		}()
	}
	first := <-done
	for i := 1; i < 8; i++ {
		if id := <-done; id != first {
			t.Fatalf("concurrent creates gave %s and %s", first, id)
		}
	}
	e.admin(t, "GET", "/sandbox/admin/orders?api_key="+e.key("sbx_idem"), nil, &list)
	if len(list) != 2 {
		t.Fatalf("%d orders, want 2", len(list))
	}
}

func TestSales(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_sales"), 0)
	p, err := c.SalesSince(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 12 || p.Next != "" || p.Resume == "" {
		t.Fatalf("sales: %d next %q resume %q", len(p.Items), p.Next, p.Resume)
	}
	for i, s := range p.Items {
		var sum int64
		for _, l := range s.Lines {
			sum += l.Total.Amount
		}
		if s.Status != "completed" || len(s.Lines) == 0 || s.Total.Amount != sum || s.CompletedAt.IsZero() {
			t.Fatalf("sale %d: %+v", i, s)
		}
		if i > 0 && !s.CompletedAt.After(p.Items[i-1].CompletedAt) {
			t.Fatalf("sales not in time order at %d", i)
		}
	}
	if again, _ := c.SalesSince(ctx(t), p.Resume); len(again.Items) != 0 {
		t.Fatalf("re-fetch gave %d sales", len(again.Items))
	}
	var sale wireSale
	e.admin(t, "POST", "/sandbox/admin/sales", map[string]any{"api_key": e.key("sbx_sales"), "store_id": "st_harbour"}, &sale)
	next, err := c.SalesSince(ctx(t), p.Resume)
	if err != nil || len(next.Items) != 1 || next.Items[0].ID != sale.ID || next.Items[0].StoreID != "st_harbour" {
		t.Fatalf("new sale: %+v %v", next, err)
	}
}

func TestFault500CountsEachCall(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_f500"), 0)
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_f500"), "fail_next": 2, "status": 500}, nil)
	for i := 0; i < 2; i++ {
		ce := wantKind(t, c.Verify(ctx(t)), connector.KindTemporary)
		if ce.Status != 500 || ce.Message == "" {
			t.Fatalf("call %d: %+v", i, ce)
		}
	}
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatalf("third verify: %v", err)
	}
	if n := e.apiCalls.Load(); n != 3 {
		t.Fatalf("the connector made %d calls for 3 verifies; it must not retry", n)
	}
}

func TestFaultKinds(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_kinds"), 0)
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_kinds"), "fail_next": 1, "status": 401}, nil)
	ce := wantKind(t, c.Verify(ctx(t)), connector.KindCredentials)
	if ce.Message != "Invalid API key" {
		t.Fatalf("401 message %q", ce.Message)
	}
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_kinds"), "fail_next": 1, "status": 429}, nil)
	ce = wantKind(t, c.Verify(ctx(t)), connector.KindRateLimited)
	if ce.RetryAfter != time.Second {
		t.Fatalf("RetryAfter %v", ce.RetryAfter)
	}
	for _, st := range []any{502, "503"} {
		e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_kinds"), "fail_next": 1, "status": st}, nil)
		wantKind(t, func() error { _, err := c.Stores(ctx(t)); return err }(), connector.KindTemporary)
	}
	// Faults of one key leave other keys alone, and DELETE clears them.
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_kinds"), "fail_next": 5, "status": 500}, nil)
	if err := e.conn(t, e.key("sbx_other"), 0).Verify(ctx(t)); err != nil {
		t.Fatalf("other key: %v", err)
	}
	var f faultAnswer
	e.admin(t, "GET", "/sandbox/admin/faults?api_key="+e.key("sbx_kinds"), nil, &f)
	if f.FailNext != 5 {
		t.Fatalf("faults %+v", f)
	}
	e.admin(t, "DELETE", "/sandbox/admin/faults?api_key="+e.key("sbx_kinds"), nil, nil)
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
}

func TestFaultTimeout(t *testing.T) {
	e := newEnv(t, Options{HangMax: 30 * time.Second})
	c := e.conn(t, e.key("sbx_slow"), 300*time.Millisecond)
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_slow"), "fail_next": 1, "status": "timeout"}, nil)
	cx := ctx(t) // 20 s: the client timeout, not this, must end the call
	err := c.Verify(cx)
	wantKind(t, err, connector.KindTemporary)
	if cx.Err() != nil {
		t.Fatal("the call was ended by the test's context, not the client timeout")
	}
	// The held request is let go once the client gave up, long before HangMax.
	waitFor(t, "the held request to end", 10*time.Second, func() bool { return e.inFlight.Load() == 0 })
	if err := c.Verify(ctx(t)); err != nil {
		t.Fatalf("after the timeout fault: %v", err)
	}
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_gone"), 0)
	e.hs.Close()
	wantKind(t, c.Verify(ctx(t)), connector.KindTemporary)
}

func TestFaultTimeoutHangMax(t *testing.T) {
	e := newEnv(t, Options{HangMax: 50 * time.Millisecond})
	e.admin(t, "POST", "/sandbox/admin/faults", map[string]any{"api_key": e.key("sbx_hang"), "fail_next": 1, "status": "timeout"}, nil)
	st, _, b := e.do(t, "GET", "/sandbox/api/v1/account", bearerHeader(e.key("sbx_hang")), nil)
	if st != http.StatusGatewayTimeout {
		t.Fatalf("after HangMax: %d %s", st, b)
	}
}

func TestOrderPage(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.conn(t, e.key("sbx_page"), 0)
	o, err := c.CreateOrder(ctx(t), domain.Order{Reference: "INV-<9>", Lines: []domain.OrderLine{{Name: "Espresso", Quantity: "2", UnitPrice: domain.Money{Amount: 250}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(o.URL)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 8192)
	n, _ := resp.Body.Read(body)
	resp.Body.Close()
	page := string(body[:n])
	if resp.StatusCode != 200 || !strings.Contains(page, "INV-&lt;9&gt;") || !strings.Contains(page, "EUR 5.00") {
		t.Fatalf("order page %d:\n%s", resp.StatusCode, page)
	}
	if st, _, _ := e.do(t, "GET", "/sandbox/orders/ord_00000000_1", nil, nil); st != 404 {
		t.Fatalf("unknown order page: %d", st)
	}
}

func TestSampleDataDeterministic(t *testing.T) {
	names := func() []string {
		e := newEnv(t, Options{})
		c := e.conn(t, e.key("sbx_same"), 0)
		p, err := c.ListProducts(ctx(t), "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range p.Items {
			out = append(out, x.ID+"="+x.Name+"/"+x.SKU+"/"+strconv.FormatInt(x.Price.Amount, 10))
		}
		return out
	}
	a, b := names(), names()
	if len(a) != 24 || strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("sample catalogue differs or is not 24 products:\n%v\n%v", a, b)
	}
	variants := 0
	e := newEnv(t, Options{})
	p, _ := e.conn(t, e.key("sbx_same"), 0).ListProducts(ctx(t), "")
	for _, x := range p.Items {
		if len(x.Variants) > 0 {
			variants++
		}
		if x.Price.Currency != "EUR" || x.Price.Amount <= 0 {
			t.Fatalf("price %+v", x)
		}
	}
	if variants < 2 {
		t.Fatalf("%d products with variants", variants)
	}
}
