package console_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/posbridge/posbridge/internal/testdb"
)

var passwordChecksLine = regexp.MustCompile(`(?m)^posbridge_login_password_checks_total (\S+)$`)

// passwordChecks reads posbridge_login_password_checks_total from /metrics.
func passwordChecks(t *testing.T, srv *server) int {
	t.Helper()
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := passwordChecksLine.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no posbridge_login_password_checks_total in /metrics")
	}
	f, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return int(f)
}

// TestLoginThrottleAtomic: after 9 failed logins for an email (one short of the limit of 10),
// 40 concurrent wrong logins cause exactly one password check and 39 answers 429 with
// Retry-After; then 40 more (39 wrong, 1 right) are all refused without a check. The attempt is
// claimed in the database before the check. Both databases.
func TestLoginThrottleAtomic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		srv := startServerOn(t, db)
		email, right := srv.acct.AdminEmail, srv.acct.AdminPassword
		c := newClient(t, srv.url)
		for i := 0; i < 9; i++ {
			_, page := c.get("/login")
			resp, body := c.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {email}, "password": {"wrong-" + strconv.Itoa(i)}})
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong email address or password.") {
				t.Fatalf("failed login %d: %d", i+1, resp.StatusCode)
			}
		}
		if n := passwordChecks(t, srv); n != 9 {
			t.Fatalf("%d password checks for 9 logins", n)
		}
		for round, rightAt := range []int{-1, 20} {
			before := passwordChecks(t, srv)
			answers := concurrentLogins(t, srv, email, right, rightAt)
			refused := 0
			for i, a := range answers {
				if a.status != http.StatusTooManyRequests {
					if round == 1 || a.status != http.StatusUnauthorized {
						t.Errorf("round %d, login %d: %d", round+1, i, a.status)
					}
					continue
				}
				refused++
				secs, err := strconv.Atoi(a.retryAfter)
				if err != nil || secs < 1 || secs > 15*60 {
					t.Errorf("login %d: Retry-After %q", i, a.retryAfter)
				}
				if !strings.Contains(a.body, "Too many failed login attempts") || !strings.Contains(a.body, "Try again in") {
					t.Errorf("login %d: the page does not say why:\n%s", i, a.body)
				}
			}
			checks := passwordChecks(t, srv) - before
			t.Logf("%s, round %d: 40 concurrent logins, %d refused, %d password checks", db.Name, round+1, refused, checks)
			want := 1 - round // the 10th attempt is checked in round 1; nothing in round 2
			if checks != want || refused != 40-want {
				t.Fatalf("round %d: %d password checks and %d refused among 40 concurrent logins; want %d and %d",
					round+1, checks, refused, want, 40-want)
			}
		}

		// Another email from the same client still gets its password checked: the refused
		// attempts did not use up the client address's allowance.
		other := newClient(t, srv.url)
		_, page := other.get("/login")
		resp, _ := other.post("/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {"nobody@example.com"}, "password": {"x"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("another email: %d, want 401", resp.StatusCode)
		}
	})
}

type loginAnswer struct {
	status     int
	retryAfter string
	body       string
}

// concurrentLogins posts 40 logins for email at once, each from its own login form; the one at
// rightAt (if any) with the right password.
func concurrentLogins(t *testing.T, srv *server, email, right string, rightAt int) []loginAnswer {
	t.Helper()
	type attempt struct {
		c    *client
		csrf string
		pw   string
	}
	var as []attempt
	for i := 0; i < 40; i++ {
		ci := newClient(t, srv.url)
		_, page := ci.get("/login")
		pw := "wrong-again-" + strconv.Itoa(i)
		if i == rightAt {
			pw = right
		}
		as = append(as, attempt{ci, csrfOf(t, page), pw})
	}
	answers := make([]loginAnswer, len(as))
	errs := make([]error, len(as))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := a.c.hc.PostForm(srv.url+"/login", url.Values{"csrf": {a.csrf}, "email": {email}, "password": {a.pw}})
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers[i] = loginAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	return answers
}
