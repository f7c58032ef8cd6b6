package console_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBackOfficePageHTTP: a Store Admin's Back office page renders the demo store with Save and
// Publish, and sets the account's publish delay (a bad one is named in a plain sentence).
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
	if !strings.Contains(body, `name="publish_delay_seconds" value="30"`) {
		t.Fatalf("the default publish delay is not shown: %s", body)
	}
	csrf := getCSRF(t, c, srv.url+"/back-office")
	post := func(v string) (*http.Response, []byte) {
		res, err := c.PostForm(srv.url+"/back-office/settings", url.Values{"csrf": {csrf}, "store_id": {"main"}, "publish_delay_seconds": {v}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	if res, b := post("4000"); res.StatusCode != 422 || !strings.Contains(string(b), "0 to 3600 seconds") {
		t.Fatalf("a delay of 4000 s: %d %s", res.StatusCode, b)
	}
	if res, b := post("45"); res.StatusCode != 200 || !strings.Contains(string(b), `name="publish_delay_seconds" value="45"`) || !strings.Contains(string(b), "Publish delay saved") {
		t.Fatalf("a delay of 45 s: %d %s", res.StatusCode, b)
	}
}
