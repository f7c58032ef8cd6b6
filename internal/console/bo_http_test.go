package console_test

import (
	"context"
	"strings"
	"testing"
)

// TestBackOfficePageHTTP: a Store Admin's Back office page renders the demo store with Save and Publish.
func TestBackOfficePageHTTP(t *testing.T) {
	srv := startServer(t)
	if _, err := srv.app.BackOffice.SeedDemo(context.Background(), srv.acct.AccountID, "main"); err != nil {
		t.Fatal(err)
	}
	c := httpClient(t)
	loginHTTP(t, c, srv.url, srv.acct.AdminEmail, srv.acct.AdminPassword)
	body := get(t, c, srv.url+"/back-office")
	if !strings.Contains(body, `id="bo-publish"`) {
		t.Fatalf("page: %s\nlog: %s", body, srv.logs.String())
	}
}
