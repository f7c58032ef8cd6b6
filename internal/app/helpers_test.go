package app_test

import (
	"net/url"
	"os/exec"
)

// pgDumpSchema dumps the data of the test's own schema (named in the URL's search_path).
func pgDumpSchema(dbURL string) ([]byte, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return exec.Command("pg_dump", "--data-only", "--schema="+schema, u.String()).CombinedOutput()
}
