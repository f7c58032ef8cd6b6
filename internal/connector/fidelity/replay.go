// Package fidelity replays recorded provider conversations against a simulator: each script
// (testdata JSON kept beside the provider) is a list of requests in the shape the provider's
// documentation shows and the answers the documentation shows for them. A simulator passes
// when every answer has the documented status and carries the documented fields and values.
//
// Answers are matched as patterns: an object matches when every key of the expected object
// matches (extra keys are allowed), an array when it has the same length and each element
// matches, a scalar when equal. Four string markers stand for values the provider makes up:
// "<any>" (present, not null), "<string>", "<number>" and "<absent>" (the key is missing or
// null). "{{name}}" in a path, header or body is replaced by a variable: those the test sets
// and those a step saves from its answer ("save": {"name": "dotted.path.0.id"}).
package fidelity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Script is one recorded conversation.
type Script struct {
	// Source names the documentation pages the requests and answers follow.
	Source []string `json:"source"`
	Notes  string   `json:"notes,omitempty"`
	Steps  []Step   `json:"steps"`
}

// Step is one request and the answer the provider documents for it.
type Step struct {
	Name    string            `json:"name"`
	Request Request           `json:"request"`
	Answer  Answer            `json:"answer"`
	Save    map[string]string `json:"save,omitempty"`
}

// Request is an HTTP request; Body is sent as JSON unless Form is set (form-encoded).
type Request struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Header map[string]string `json:"header,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
}

// Answer is the documented answer: status, headers that must be present (a value of "<any>"
// only asks for presence) and a body pattern.
type Answer struct {
	Status int               `json:"status"`
	Header map[string]string `json:"header,omitempty"`
	Body   json.RawMessage   `json:"body,omitempty"`
}

// Target is what a replay runs against.
type Target struct {
	BaseURL string
	Client  *http.Client
	// Auth adds the provider's credentials to a request (nil: the script's headers only).
	Auth func(*http.Request)
	// Vars are the variables scripts may use from the start (base URL, location ids, ...).
	Vars map[string]string
}

// Load reads a script.
func Load(path string) (Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Script{}, err
	}
	var s Script
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Script{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(s.Source) == 0 {
		return Script{}, fmt.Errorf("%s: a script names its documentation source", path)
	}
	return s, nil
}

// RunDir replays every *.json script of dir as a subtest; newTarget starts a fresh simulator
// for each script.
func RunDir(t *testing.T, dir string, newTarget func(t *testing.T) Target) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no replay scripts in %s (%v)", dir, err)
	}
	sort.Strings(files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			Replay(t, s, newTarget(t))
		})
	}
}

// Replay runs the script's steps in order and reports every answer that differs.
func Replay(t *testing.T, s Script, tg Target) {
	t.Helper()
	vars := map[string]string{}
	for k, v := range tg.Vars {
		vars[k] = v
	}
	client := tg.Client
	if client == nil {
		client = http.DefaultClient
	}
	for i, st := range s.Steps {
		name := fmt.Sprintf("step %d (%s)", i+1, st.Name)
		body := expand(string(st.Request.Body), vars)
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(st.Request.Method, strings.TrimRight(tg.BaseURL, "/")+expand(st.Request.Path, vars), rd)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if tg.Auth != nil {
			tg.Auth(req)
		}
		for k, v := range st.Request.Header {
			req.Header.Set(k, expand(v, vars))
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != st.Answer.Status {
			t.Fatalf("%s: status %d, documented %d; body %s", name, resp.StatusCode, st.Answer.Status, got)
		}
		for k, v := range st.Answer.Header {
			have := resp.Header.Get(k)
			if have == "" || (v != "<any>" && have != expand(v, vars)) {
				t.Errorf("%s: header %s = %q, documented %q", name, k, have, v)
			}
		}
		if len(st.Answer.Body) == 0 {
			continue
		}
		var want, have any
		if err := json.Unmarshal([]byte(expand(string(st.Answer.Body), vars)), &want); err != nil {
			t.Fatalf("%s: the script's answer is not JSON: %v", name, err)
		}
		if err := json.Unmarshal(got, &have); err != nil {
			t.Fatalf("%s: the answer is not JSON: %v: %s", name, err, got)
		}
		if diffs := Match(want, have, "body"); len(diffs) > 0 {
			t.Fatalf("%s: the answer differs from the documented one:\n  %s\nanswer: %s", name, strings.Join(diffs, "\n  "), got)
		}
		for v, path := range st.Save {
			x, ok := At(have, path)
			if !ok {
				t.Fatalf("%s: nothing at %s to save as %s: %s", name, path, v, got)
			}
			vars[v] = scalar(x)
		}
	}
}

func scalar(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// expand replaces {{name}} by the variable's value; an unknown name is left as it is.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// At walks a dotted path ("order.line_items.0.uid") through decoded JSON.
func At(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			n, err := strconv.Atoi(part)
			if err != nil || n < 0 || n >= len(x) {
				return nil, false
			}
			v = x[n]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// Match compares a pattern with a decoded answer and lists the differences.
func Match(want, got any, at string) []string {
	switch w := want.(type) {
	case string:
		switch w {
		case "<any>":
			if got == nil {
				return []string{at + ": missing"}
			}
			return nil
		case "<string>":
			if _, ok := got.(string); !ok {
				return []string{fmt.Sprintf("%s: %v is not a string", at, got)}
			}
			return nil
		case "<number>":
			if _, ok := got.(float64); !ok {
				return []string{fmt.Sprintf("%s: %v is not a number", at, got)}
			}
			return nil
		case "<absent>":
			if got != nil {
				return []string{fmt.Sprintf("%s: %v present, documented absent", at, got)}
			}
			return nil
		}
		if g, ok := got.(string); !ok || g != w {
			return []string{fmt.Sprintf("%s: %v, documented %q", at, got, w)}
		}
	case float64:
		if g, ok := got.(float64); !ok || math.Abs(g-w) > 1e-9 {
			return []string{fmt.Sprintf("%s: %v, documented %v", at, got, w)}
		}
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return []string{fmt.Sprintf("%s: %v, documented %v", at, got, w)}
		}
	case nil:
		if got != nil {
			return []string{fmt.Sprintf("%s: %v, documented null", at, got)}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, documented an array", at, got)}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %d elements, documented %d", at, len(g), len(w))}
		}
		var out []string
		for i := range w {
			out = append(out, Match(w[i], g[i], fmt.Sprintf("%s[%d]", at, i))...)
		}
		return out
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v, documented an object", at, got)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			out = append(out, Match(w[k], g[k], at+"."+k)...)
		}
		return out
	}
	return nil
}
