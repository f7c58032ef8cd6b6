package app_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

// TestWebhookDeliveries: an endpoint's deliveries are listed with their attempts and the
// endpoint's answers; "send test event" sends webhook.test to it; a failed delivery is retried
// with next_attempt_at; redeliver sends a delivered one again with the same webhook-id; another
// account's endpoint is 404.
func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		e := start(t, db, nil)
		key := e.account("Shop", "a@shop.test").APIKey
		other := e.account("Other", "b@other.test").APIKey
		var mu sync.Mutex
		fail := true
		ids := map[string]int{}
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				fail = false
				http.Error(w, "not ready", http.StatusInternalServerError)
				return
			}
			ids[r.Header.Get("webhook-id")]++
		}))
		defer app.Close()
		ep := e.must(201, e.call(key, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": app.URL + "/hook", "events": []string{"document.updated"}})).json(t)
		base := "/api/v1/webhook-endpoints/" + ep["id"].(string)

		d := e.must(202, e.call(key, "POST", base+"/test", nil)).json(t)
		if d["event_type"] != "webhook.test" || d["status"] != "pending" {
			t.Fatalf("test event: %v", d)
		}
		id := d["id"].(string)
		var got map[string]any
		waitFor(t, "the test event delivered after one failed attempt", func() bool {
			list := e.must(200, e.call(key, "GET", base+"/deliveries", nil)).json(t)["data"].([]any)
			if len(list) != 1 {
				return false
			}
			got = list[0].(map[string]any)
			if got["status"] == "retrying" && (got["next_attempt_at"] == nil || got["last_status"] != 500.0) {
				t.Fatalf("retrying without next attempt or status: %v", got)
			}
			return got["status"] == "delivered"
		})
		if got["attempts"] != 2.0 || got["id"] != id || got["next_attempt_at"] != nil {
			t.Fatalf("delivered: %v", got)
		}

		e.must(202, e.call(key, "POST", base+"/deliveries/"+id+"/redeliver", nil))
		waitFor(t, "the redelivery", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return ids[id] == 2
		})
		// Another account sees none of it.
		if r := e.call(other, "GET", base+"/deliveries", nil); r.Status != 404 {
			t.Fatalf("another account's deliveries: %d %s", r.Status, r.Body)
		}
		if r := e.call(other, "POST", base+"/deliveries/"+id+"/redeliver", nil); r.Status != 404 {
			t.Fatalf("another account's redeliver: %d %s", r.Status, r.Body)
		}
		if r := e.call(key, "POST", base+"/deliveries/msg_nope/redeliver", nil); r.Status != 404 {
			t.Fatalf("an unknown delivery: %d %s", r.Status, r.Body)
		}
	})
}
