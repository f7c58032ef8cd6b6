package backoffice

import (
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jsonin"
)

// MaxWait is the longest a GET /terminal/v1/config long-poll waits.
const MaxWait = 30 * time.Second

// TerminalAPI serves /terminal/v1 for POS devices (a device token, not an API key).
type TerminalAPI struct {
	S      *Service
	Log    *slog.Logger
	Status func(domain.Code) int // api.StatusOf
}

//go:embed web
var webFS embed.FS

// Register mounts the terminal API and the web POS terminal page (/terminal/).
func (h *TerminalAPI) Register(mux *http.ServeMux) {
	sub, _ := fs.Sub(webFS, "web")
	files := http.StripPrefix("/terminal/", http.FileServerFS(sub))
	mux.Handle("GET /terminal/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("POST /terminal/v1/pair", h.pair)
	mux.HandleFunc("GET /terminal/v1/config", h.authed(h.config))
	mux.HandleFunc("POST /terminal/v1/sync", h.authed(h.sync))
}

func (h *TerminalAPI) write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *TerminalAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	var de *domain.Error
	if !errors.As(err, &de) {
		h.Log.Error("terminal api", "path", r.URL.Path, "err", err)
		de = &domain.Error{Code: domain.CodeInternal, Message: "internal error; the server log has the details"}
	}
	body := map[string]any{"code": de.Code, "message": de.Message}
	if de.Field != "" {
		body["field"] = de.Field
	}
	h.write(w, h.Status(de.Code), map[string]any{"error": body})
}

func (h *TerminalAPI) pair(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Code string `json:"code"`
		Name string `json:"name"`
	}
	if err := jsonin.Decode(http.MaxBytesReader(w, r.Body, 4096), &in); err != nil {
		h.fail(w, r, err)
		return
	}
	t, token, err := h.S.Pair(r.Context(), in.Code, in.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, http.StatusCreated, map[string]any{"terminal": t, "token": token})
}

func (h *TerminalAPI) authed(fn func(w http.ResponseWriter, r *http.Request, tok string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			h.fail(w, r, &domain.Error{Code: domain.CodeUnauthorized, Message: "send the terminal's device token as Authorization: Bearer <token>"})
			return
		}
		fn(w, r, strings.TrimSpace(tok))
	}
}

func (h *TerminalAPI) config(w http.ResponseWriter, r *http.Request, tok string) {
	t, err := h.S.Authenticate(r.Context(), tok)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var since int64
	if v := r.URL.Query().Get("since_version"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			h.fail(w, r, domain.Invalid("since_version", "since_version must be a whole number, 0 or more"))
			return
		}
		since = n
	}
	wait := MaxWait
	if v := r.URL.Query().Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > int(MaxWait/time.Second) {
			h.fail(w, r, domain.Invalid("wait", "wait must be 0 to 30 seconds"))
			return
		}
		wait = time.Duration(n) * time.Second
	}
	c, changed, err := h.S.Config(r.Context(), t, since, wait)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		h.fail(w, r, err)
		return
	}
	if !changed {
		h.write(w, http.StatusOK, map[string]any{"store_id": c.StoreID, "version": c.Version, "content": nil, "changed": false})
		return
	}
	h.write(w, http.StatusOK, map[string]any{"store_id": c.StoreID, "version": c.Version, "content": c.Content, "changed": true})
}

func (h *TerminalAPI) sync(w http.ResponseWriter, r *http.Request, tok string) {
	t, err := h.S.Authenticate(r.Context(), tok)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.S.Sync(r.Context(), t)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, http.StatusOK, c)
}
