package store_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/posbridge/posbridge/internal/store"
)

// TestIsUnavailable tells a database that cannot be reached from faults of a query.
func TestIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, openErr := store.Open(ctx, store.Config{DatabaseURL: "postgres://postgres@" + closed + "/x?sslmode=disable&connect_timeout=5"})
	if openErr == nil {
		t.Fatal("opened a database where none listens")
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nothing listens", openErr, true},
		{"admin shutdown", fmt.Errorf("claim: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"bad byte sequence", &pgconn.PgError{Code: "22021"}, false},
		{"not found", store.ErrNotFound, false},
		{"canceled", context.Canceled, false},
		{"nil", nil, false},
	} {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("%s (%v): IsUnavailable = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
