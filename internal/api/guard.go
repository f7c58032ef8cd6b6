package api

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/posbridge/posbridge/internal/domain"
)

// Guard stands in front of every route (/api, /hooks, /sandbox and the console) and turns away
// requests whose path or query holds bytes no id or parameter of posbridge's can hold, before
// any handler or database sees them:
//
//   - a path with a control character (NUL included) or invalid UTF-8 names nothing: 404;
//   - a query parameter (name or value) with one: 422 naming the parameter;
//   - a console form field with one (other than \t, \n and \r of a text area): 422.
//
// Answers under /api/, /hooks/ and /sandbox/ are the API's JSON error body; others plain text.
func Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if domain.HasControl(r.URL.Path) || len(r.URL.Path) > 8192 {
			guardError(w, r, &domain.Error{Code: domain.CodeNotFound, Message: "no such resource: the path holds control characters or invalid UTF-8"})
			return
		}
		if bad := badParam(r.URL.RawQuery); bad != "" {
			guardError(w, r, domain.Invalid(bad, "query parameter %s must not contain control characters or invalid UTF-8", bad))
			return
		}
		if !jsonRoute(r.URL.Path) && r.Method == http.MethodPost &&
			strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "the form could not be read", http.StatusBadRequest)
				return
			}
			if bad := badForm(r.PostForm); bad != "" {
				http.Error(w, "the form field "+bad+" must not contain control characters", http.StatusUnprocessableEntity)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func jsonRoute(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") || strings.HasPrefix(p, "/sandbox/")
}

func guardError(w http.ResponseWriter, r *http.Request, de *domain.Error) {
	if jsonRoute(r.URL.Path) {
		body := map[string]any{"code": de.Code, "message": de.Message}
		if de.Field != "" {
			body["field"] = de.Field
		}
		writeJSON(w, StatusOf(de.Code), map[string]any{"error": body}) //nolint:errcheck // client went away
		return
	}
	http.Error(w, de.Message, StatusOf(de.Code))
}

// badParam names the first query parameter holding a control character or invalid UTF-8
// (the name is quoted when it is itself the bad part), "" when all are clean.
func badParam(raw string) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw) // malformed pairs are dropped, as r.URL.Query() does
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if domain.HasControl(k) {
			return "query"
		}
		for _, v := range q[k] {
			if domain.HasControl(v) {
				return k
			}
		}
	}
	return ""
}

func badForm(f url.Values) string {
	for k, vs := range f {
		if domain.HasControl(k) {
			return "(name)"
		}
		for _, v := range vs {
			if domain.HasControl(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(v)) {
				return k
			}
		}
	}
	return ""
}
