package store

import (
	"context"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestSaleLinesMoveIntoTheRow: migration 00017 moves the rows of sale_lines and sale_payments
// into their sale's row, in order, and its Down brings them back.
func TestSaleLinesMoveIntoTheRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st, err := Open(ctx, Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sub, err := fs.Sub(migrations, "migrations/"+string(st.dialect))
		if err != nil {
			t.Fatal(err)
		}
		d := goose.DialectSQLite3
		if st.dialect == Postgres {
			d = goose.DialectPostgres
		}
		p, err := goose.NewProvider(d, st.sqlDB, sub)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(ctx, 16); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO accounts (id, name, created_at) VALUES ('acct_a', 'A', 1)`,
			`INSERT INTO integrations (id, account_id, type, status, created_at, updated_at, credentials) VALUES ('int_1', 'acct_a', 'sandbox', 'healthy', 1, 1, 'x')`,
			`INSERT INTO sales (id, account_id, integration_id, external_id, status, currency, total, sold_at, hash, seq, created_at, updated_at)
				VALUES ('sale_1', 'acct_a', 'int_1', 's1', 'completed', 'EUR', 900, 5, 'h', 1, 1, 1),
				       ('sale_2', 'acct_a', 'int_1', 's2', 'completed', 'EUR', 0, 6, 'h', 2, 1, 1)`,
			`INSERT INTO sale_lines (sale_id, line_no, account_id, pos_item_id, name, quantity, unit_price, total)
				VALUES ('sale_1', 2, 'acct_a', 'posi_2', 'Cake "big"', '1', 400, 400), ('sale_1', 1, 'acct_a', 'posi_1', 'Coffee', '2', 250, 500)`,
			`INSERT INTO sale_payments (sale_id, idx, account_id, method, amount) VALUES ('sale_1', 1, 'acct_a', 'card', 900)`,
		} {
			if _, err := st.q.exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := p.UpTo(ctx, 17); err != nil {
			t.Fatal(err)
		}
		check := func() {
			t.Helper()
			sales, err := st.ListSales(ctx, "acct_a", SaleFilter{IntegrationID: "int_1"})
			if err != nil || len(sales) != 2 {
				t.Fatalf("%+v %v", sales, err)
			}
			s := sales[0]
			if len(s.Lines) != 2 || s.Lines[0] != (domain.SaleLine{PosItemID: "posi_1", Name: "Coffee", Quantity: "2", UnitPrice: 250, Total: 500}) ||
				s.Lines[1].Name != `Cake "big"` || len(s.Payments) != 1 || s.Payments[0] != (domain.SalePayment{Method: "card", Amount: 900}) {
				t.Fatalf("sale 1 after the migration: %+v", s)
			}
			if len(sales[1].Lines) != 0 || len(sales[1].Payments) != 0 || sales[1].Lines == nil {
				t.Fatalf("sale 2 after the migration: %+v", sales[1])
			}
		}
		check()
		if _, err := p.DownTo(ctx, 16); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.q.queryRow(ctx, `SELECT COUNT(*) FROM sale_lines WHERE sale_id = 'sale_1' AND line_no = 2 AND unit_price = 400`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("after Down: %d lines, %v", n, err)
		}
		if _, err := p.UpTo(ctx, 17); err != nil {
			t.Fatal(err)
		}
		check()
	})
}
